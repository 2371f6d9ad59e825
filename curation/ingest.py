"""Ingest: read inputs, validate every row, stage the good ones, and merge them in one transaction.

Rows are staged to a Parquet file outside the database first, so a multi-GB input is read while
the workspace stays free for other processes; only the final merge takes the write lock. A crash
before or during the merge leaves the workspace as it was, and running the ingest again completes.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from curation.documents import SourceFormat
from curation.loaders import (
    FormatChoice,
    InputError,
    MappingContext,
    Record,
    Reject,
    RowError,
    detect_format,
    expand_inputs,
    map_record,
    read_manifest,
    read_records,
)
from curation.taxonomy import DIVISIONS, DOCUMENT_TYPES, PLACEHOLDER_DIVISION, RETIRED_DOCUMENT_TYPES
from curation.workspace import Workspace
from store import documents as document_store

STAGING_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("division", pa.string()),
        ("document_type", pa.string()),
        ("collection", pa.string()),
        ("tree_path", pa.string()),
        ("source_format", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("metadata", pa.string()),
    ]
)
TAXONOMY = {
    "divisions": list(DIVISIONS),
    "placeholder": PLACEHOLDER_DIVISION,
    "types": list(DOCUMENT_TYPES),
    "retired": list(RETIRED_DOCUMENT_TYPES),
}
REJECT_COLUMNS = ("file", "line", "row", "reason", "doc_id")

ProgressCallback = Callable[[int, int], None]


class IngestOptions(BaseModel):
    """How to read the inputs."""

    format: FormatChoice = "auto"
    collection: str | None = Field(None, description="assign every row to this collection")
    column_map: dict[str, str] = Field(default_factory=dict, description="document field -> input column")


class IngestResult(BaseModel):
    """What one ingest did; `read` counts rows met, whether they landed or not."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    duplicates: int = 0
    rejects_file: str | None = None
    files: list[str] = Field(default_factory=list)


def ingest(
    ws: Workspace,
    paths: Sequence[Path | str],
    options: IngestOptions | None = None,
    progress: ProgressCallback | None = None,
) -> IngestResult:
    """Load `paths` into the workspace; raises InputError when nothing at all can be read."""
    options = options or IngestOptions()
    started = _now()
    files = expand_inputs([Path(p) for p in paths])
    total_bytes = sum(f.stat().st_size for f in files) or 1
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(min(done, total_bytes), total_bytes)

    staging_dir = ws.root / "tmp"
    staging_dir.mkdir(exist_ok=True)
    _remove_orphaned_staging(staging_dir)
    staged_path = staging_dir / f"ingest-{os.getpid()}-{uuid.uuid4().hex}.parquet"
    rejects_path = ws.rejects_dir / f"ingest-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}.csv"
    result = IngestResult(files=[str(f) for f in files])
    rejects = _RejectsWriter(rejects_path)
    staging = _StagingWriter(staged_path, ws.settings.ingest.batch_rows)
    seen: dict[str, str] = {}
    parsed_any = False
    formats: set[str] = set()
    try:
        for file in files:
            try:
                fmt = detect_format(file) if options.format == "auto" else SourceFormat(options.format)
            except InputError as exc:
                rejects.write(Reject(file=str(file), reason=str(exc).split(": ", 1)[-1]))
                advance(file.stat().st_size)
                continue
            formats.add(fmt.value)
            ctx = _context(ws, file, fmt, options)
            for item in read_records(file, fmt, advance):
                if isinstance(item, Reject):
                    if item.line is not None or item.row is not None:
                        result.read += 1
                    rejects.write(item)
                    continue
                result.read += 1
                parsed_any = True
                try:
                    row = map_record(item, ctx)
                except RowError as exc:
                    rejects.write(item.reject(str(exc)))
                    continue
                first = seen.get(row["doc_id"])
                if first is not None:
                    result.duplicates += 1
                    rejects.write(item.reject(f"duplicate doc_id in this input, first at {first}", row["doc_id"]))
                    continue
                seen[row["doc_id"]] = _where(item)
                staging.add(row)
        staging.close()
        rejects.close()
        if not parsed_any:
            raise InputError(_nothing_readable(files, rejects_path if rejects.count else None))
        result.rejected = rejects.count
        result.rejects_file = str(rejects_path) if rejects.count else None
        log = {
            "started_at": started,
            "paths": [str(p) for p in paths],
            "format": ",".join(sorted(formats)) or options.format,
            "collection": options.collection,
            "read": result.read,
            "rejected": result.rejected,
            "duplicates": result.duplicates,
            "rejects_file": result.rejects_file,
        }
        if staging.rows:
            counts = document_store.merge_staged(ws.db, staged_path, now=_now(), taxonomy=TAXONOMY, log=log)
            result.inserted, result.updated, result.unchanged = (
                counts["inserted"],
                counts["updated"],
                counts["unchanged"],
            )
        else:
            document_store.record_ingest(ws.db, log, now=_now())
        return result
    finally:
        staging.close()
        rejects.close()
        staged_path.unlink(missing_ok=True)


class Preview(BaseModel):
    """The first rows of a file as they would land, and the first rejects, without writing anything."""

    format: SourceFormat
    rows: list[dict[str, object]]
    rejects: list[Reject]


def preview(ws: Workspace, path: Path, options: IngestOptions | None = None, limit: int = 20) -> Preview:
    """Map the first `limit` rows of `path` onto the document model, exactly as `ingest` would."""
    options = options or IngestOptions()
    file = expand_inputs([path])[0]
    fmt = detect_format(file) if options.format == "auto" else SourceFormat(options.format)
    ctx = _context(ws, file, fmt, options)
    rows: list[dict[str, object]] = []
    rejects: list[Reject] = []
    for item in read_records(file, fmt, lambda _: None):
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            try:
                rows.append(map_record(item, ctx))
            except RowError as exc:
                rejects.append(item.reject(str(exc)))
        if len(rows) + len(rejects) >= limit:
            break
    return Preview(format=fmt, rows=rows, rejects=rejects)


def _context(ws: Workspace, file: Path, fmt: SourceFormat, options: IngestOptions) -> MappingContext:
    return MappingContext(
        source_format=fmt,
        source_file=str(file),
        collection=options.collection,
        column_map=options.column_map,
        defaults=read_manifest(file) if fmt is SourceFormat.indexer else {},
        max_text_bytes=ws.settings.ingest.max_text_bytes,
    )


def _nothing_readable(files: list[Path], rejects_path: Path | None) -> str:
    names = ", ".join(str(f) for f in files[:3]) + (" ..." if len(files) > 3 else "")
    where = f" (see {rejects_path})" if rejects_path else ""
    return f"nothing could be read from {names}: no row parsed{where}"


def _where(record: Record) -> str:
    position = f"line {record.line}" if record.line is not None else f"row {record.row}"
    return f"{record.file} {position}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _remove_orphaned_staging(folder: Path) -> None:
    """Delete staging files left by ingests that were killed (their process no longer exists)."""
    for path in folder.glob("ingest-*.parquet"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _StagingWriter:
    """Buffers rows column-wise and appends them to a Parquet file in batches."""

    def __init__(self, path: Path, batch_rows: int) -> None:
        self.path = path
        self.batch_rows = batch_rows
        self.rows = 0
        self._columns: dict[str, list[object]] = {name: [] for name in STAGING_SCHEMA.names}
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    def add(self, row: dict[str, object]) -> None:
        for name, values in self._columns.items():
            values.append(row[name])
        self.rows += 1
        if len(self._columns["doc_id"]) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._columns["doc_id"]:
            return
        table = pa.Table.from_pydict(self._columns, schema=STAGING_SCHEMA)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, STAGING_SCHEMA, compression="zstd")
        self._writer.write_table(table)
        self._columns = {name: [] for name in STAGING_SCHEMA.names}

    def close(self) -> None:
        if self._closed:
            return
        self._flush()
        if self._writer is not None:
            self._writer.close()
        self._closed = True


class _RejectsWriter:
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
