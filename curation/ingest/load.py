"""Ingest: read inputs, validate every row, stage the good ones, and merge them in one transaction.

Rows are staged to a Parquet file outside the database first, so a multi-GB input is read while
the workspace stays free for other processes; only the final merge takes the write lock. A crash
before or during the merge leaves the workspace as it was, and running the ingest again completes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from curation.core import Workspace

from curation.core import (
    DIVISIONS,
    DOCUMENT_TYPES,
    PLACEHOLDER_DIVISION,
    RETIRED_DOCUMENT_TYPES,
    InputError,
    ProgressCallback,
    Reject,
    RejectsWriter,
)
from curation.ingest.formats import FormatChoice, SourceFormat, detect_format, expand_inputs, is_line_based
from curation.ingest.mapping import MappingContext, RowError, map_record, read_manifest
from curation.ingest.records import read_records
from curation.ingest.staging import StagingArea
from store import documents as document_store

TAXONOMY = {
    "divisions": list(DIVISIONS),
    "placeholder": PLACEHOLDER_DIVISION,
    "types": list(DOCUMENT_TYPES),
    "retired": list(RETIRED_DOCUMENT_TYPES),
}


class IngestOptions(BaseModel):
    """How to read the inputs."""

    format: FormatChoice = "auto"
    collection: str | None = Field(None, description="assign every row to this collection")
    new_collection: str | None = Field(
        None, description="collection of the documents this ingest inserts; stored documents keep theirs"
    )
    benchmark: str | None = Field(None, description="record every row as a document of this benchmark's corpus")
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

    rejects_path = ws.rejects_dir / f"ingest-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}.csv"
    result = IngestResult(files=[str(f) for f in files])
    rejects = RejectsWriter(rejects_path)
    staging = StagingArea(ws.root / "tmp", ws.settings.ingest.workers or os.cpu_count() or 1)
    parsed_any = False
    problems: list[str] = []
    formats: set[str] = set()
    try:
        for file_index, file in enumerate(files):
            try:
                fmt = detect_format(file) if options.format == "auto" else SourceFormat(options.format)
            except InputError as exc:
                problems.append(str(exc))
                rejects.write(Reject(file=str(file), reason=str(exc).split(": ", 1)[-1]))
                advance(file.stat().st_size)
                continue
            formats.add(fmt.value)
            for block in staging.stage(file, _context(ws, file, fmt, options), file_index, advance):
                advance(block.size)
                result.read += block.read
                parsed_any = parsed_any or block.parsed > 0
                for reject in block.rejects:
                    rejects.write(reject)
        if not parsed_any:
            rejects.close()
            if len(problems) == len(files):
                raise InputError("; ".join(problems))
            raise InputError(_nothing_readable(files, rejects_path if rejects.count else None))
        if staging.rows:
            duplicates = document_store.staged_duplicates(staging.glob)
            units = {str(f): "line" if is_line_based(f) else "row" for f in files}
            for dup in duplicates:
                unit = units[dup["source_file"]]
                first = f"{dup['first_file']} {unit} {dup['first_line']}"
                rejects.write(
                    Reject.model_validate(
                        {
                            "file": dup["source_file"],
                            unit: dup["source_line"],
                            "doc_id": dup["doc_id"],
                            "reason": f"duplicate doc_id in this input, first at {first}",
                        }
                    )
                )
            result.duplicates = len(duplicates)
        rejects.close()
        result.rejected = rejects.count
        result.rejects_file = str(rejects_path) if rejects.count else None
        log = {
            "started_at": started,
            "paths": [str(p) for p in paths],
            "format": ",".join(sorted(formats)) or options.format,
            "collection": options.collection or options.new_collection,
            "read": result.read,
            "rejected": result.rejected,
            "duplicates": result.duplicates,
            "rejects_file": result.rejects_file,
        }
        if staging.rows:
            counts = document_store.merge_staged(
                ws.db,
                staging.glob,
                now=_now(),
                taxonomy=TAXONOMY,
                log=log,
                new_collection=options.new_collection,
                benchmark=options.benchmark,
            )
            result.inserted, result.updated, result.unchanged = (
                counts["inserted"],
                counts["updated"],
                counts["unchanged"],
            )
        else:
            document_store.record_ingest(ws.db, log, now=_now())
        return result
    finally:
        rejects.close()
        staging.close()


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
    for item in read_records(file, lambda _: None):
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


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def recent_ingests(ws: Workspace, limit: int = 20) -> pd.DataFrame:
    """The latest ingests, newest first: when, which paths, format, collection, counts and the rejects file."""
    return document_store.recent_ingests(ws.db, limit)
