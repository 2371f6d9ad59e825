"""Rows that did not land and why: the one rejects-file format every loader and importer writes."""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import BaseModel

REJECT_COLUMNS = ("file", "line", "row", "reason", "doc_id")


class Reject(BaseModel):
    """A row (or a whole file) that did not land, and why."""

    file: str
    line: int | None = None
    row: int | None = None
    reason: str
    doc_id: str | None = None


class RejectsWriter:
    """Writes rejects to a CSV as they happen; the file exists only if something was rejected."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._handle: object | None = None
        self._writer: csv.DictWriter[str] | None = None

    def write(self, reject: Reject) -> None:
        if self._writer is None:
            handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._handle = handle
            self._writer = csv.DictWriter(handle, fieldnames=REJECT_COLUMNS)
            self._writer.writeheader()
        self._writer.writerow(reject.model_dump())
        self.count += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()  # type: ignore[attr-defined]
            self._handle = None


def save_rejects(path: Path, rejects: list[Reject]) -> str | None:
    """Append rejected lines to a rejects CSV (header written once); returns its path, or None when none."""
    if not rejects:
        return None
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=REJECT_COLUMNS)
        if handle.tell() == 0:
            writer.writeheader()
        writer.writerows(r.model_dump() for r in rejects)
    return str(path)
