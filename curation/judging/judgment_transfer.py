"""A curator's whole judging history carried from one workspace to another.

`judgments export --full` writes every row as it was recorded (grades, can't-tell, skips, undo rows, sessions,
times, sources) plus the queries they judge, as JSON lines. `judgments import` of that file appends the rows the
target lacks: a row is recognised by what it records, not by its local id, so importing twice changes nothing,
and an undo row still undoes the same judgment on the other side.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from curation.core import Reject, save_rejects
from curation.judging.errors import JudgingError
from store import judgment_transfer as transfer_store

if TYPE_CHECKING:
    from curation.core import Workspace

FORMAT = "sde-workbench-judgments"
VERSION = 1


class Header(BaseModel):
    """The first line of a full export."""

    format: Literal["sde-workbench-judgments"]
    version: int
    query_set: str
    annotator: str | None = None
    exported_at: datetime
    queries: int
    rows: int


class QueryLine(BaseModel):
    query_id: str
    text: str
    origin: str
    metadata: str | None = None


class RowLine(BaseModel):
    """One judgment row; `row` numbers rows within the file so an undo row can name the row it undoes."""

    row: int
    query_id: str
    doc_id: str
    kind: Literal["grade", "cant_tell", "skip", "undo"]
    grade: int | None = None
    annotator: str
    session_id: str | None = None
    source: str | None = None
    created_at: datetime
    undoes_row: int | None = None


class JudgmentExport(BaseModel):
    """What `judgments export --full` wrote."""

    path: str
    query_set: str
    annotator: str | None
    queries: int
    rows: int


class JudgmentMerge(BaseModel):
    """What `judgments import` of a full export did."""

    path: str
    query_set: str
    annotators: list[str]
    rows: int
    added: int
    already_there: int
    rejected: int
    rejects_file: str | None = None


def _key(row: dict[str, Any], undone: tuple | None) -> tuple:
    """What a row records; equal keys are the same act of judging (ids differ between workspaces)."""
    return (
        row["annotator"],
        row["session_id"],
        row["query_id"],
        row["doc_id"],
        row["kind"],
        row["grade"],
        row["source"],
        row["created_at"].isoformat(),
        undone,
    )


def export_full(ws: Workspace, query_set: str, out: Path, annotator: str | None = None) -> JudgmentExport:
    """Write every judgment row of a set (of one annotator when given) and the queries they judge.

    The file is replaced only once it is complete."""
    rows = transfer_store.set_rows(ws.db, query_set, annotator)
    if not rows:
        who = f" by {annotator!r}" if annotator else ""
        raise JudgingError(f"no judgments{who} in query set {query_set!r}; nothing to export")
    queries = transfer_store.set_queries(ws.db, query_set, {r["query_id"] for r in rows})
    position = {r["judgment_id"]: i for i, r in enumerate(rows)}
    header = Header(
        format=FORMAT,
        version=VERSION,
        query_set=query_set,
        annotator=annotator,
        exported_at=datetime.now(),
        queries=len(queries),
        rows=len(rows),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(header.model_dump_json() + "\n")
        for query in queries:
            handle.write(json.dumps({"query": QueryLine(**query).model_dump()}) + "\n")
        for i, row in enumerate(rows):
            line = RowLine(row=i, undoes_row=position.get(row["undoes"]), **row)
            handle.write(json.dumps({"judgment": line.model_dump(mode="json")}) + "\n")
    os.replace(partial, out)
    return JudgmentExport(path=str(out), query_set=query_set, annotator=annotator, queries=len(queries), rows=len(rows))


def is_full_export(path: Path) -> bool:
    """Whether a file is a full export (its first line is the header), as opposed to a qrels file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.loads(handle.readline()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _read(path: Path) -> tuple[Header, list[QueryLine], list[RowLine], list[Reject]]:
    rejects: list[Reject] = []
    queries: list[QueryLine] = []
    rows: list[RowLine] = []
    with open(path, encoding="utf-8") as handle:
        try:
            header = Header.model_validate_json(handle.readline())
        except ValidationError as err:
            raise JudgingError(f"{path}: line 1 is not the header of a full judgments export ({err})") from err
        if header.version > VERSION:
            raise JudgingError(f"{path}: version {header.version} is newer than this tool reads ({VERSION}); upgrade")
        for number, text in enumerate(handle, start=2):
            if not text.strip():
                continue
            try:
                item = json.loads(text)
                if "query" in item:
                    queries.append(QueryLine.model_validate(item["query"]))
                else:
                    rows.append(RowLine.model_validate(item["judgment"]))
            except (ValueError, KeyError, TypeError) as err:
                rejects.append(Reject(file=str(path), line=number, reason=f"not a query or judgment line: {err}"))
    return header, queries, rows, rejects


def import_full(ws: Workspace, path: Path) -> JudgmentMerge:
    """Append the rows of a full export that this workspace lacks, with the queries it lacks.

    Bad lines go to a rejects file and the rest lands; an undo whose undone row is missing is rejected too."""
    if not path.is_file():
        raise JudgingError(f"no such file: {path}")
    header, queries, rows, rejects = _read(path)
    stored = transfer_store.set_rows(ws.db, header.query_set)
    stored_by_id = {r["judgment_id"]: r for r in stored}
    key_to_id: dict[tuple, int] = {}
    for r in stored:
        undone = stored_by_id.get(r["undoes"])
        key_to_id[_key(r, None if undone is None else _key(undone, None))] = r["judgment_id"]
    by_row = {r.row: r for r in rows}
    new: list[dict[str, Any]] = []
    new_position: dict[int, int] = {}
    row_keys: dict[int, tuple] = {}
    already = 0
    for line in rows:
        row = line.model_dump(exclude={"row", "undoes_row"})
        undone_key = None
        undoes: tuple[str, int] | None = None
        if line.undoes_row is not None:
            undone_key = row_keys.get(line.undoes_row)
            if undone_key is None:
                missing = "later in the file" if line.undoes_row in by_row else "missing"
                rejects.append(Reject(file=str(path), reason=f"row {line.row} undoes row {line.undoes_row}, {missing}"))
                continue
            stored_id = key_to_id.get(undone_key)
            undoes = ("stored", stored_id) if stored_id is not None else ("new", new_position[line.undoes_row])
        key = _key(row, undone_key)
        row_keys[line.row] = key
        if key in key_to_id:
            already += 1
            continue
        new_position[line.row] = len(new)
        new.append({**row, "undoes": undoes})
    added = transfer_store.merge_rows(ws.db, header.query_set, "imported", [q.model_dump() for q in queries], new)
    rejects_file = save_rejects(ws.rejects_dir / f"judgments-{path.stem}.csv", rejects)
    return JudgmentMerge(
        path=str(path),
        query_set=header.query_set,
        annotators=sorted({r.annotator for r in rows}),
        rows=len(rows),
        added=added,
        already_there=already,
        rejected=len(rejects),
        rejects_file=rejects_file,
    )
