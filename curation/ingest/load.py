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
    collection_key,
)
from curation.ingest.formats import FormatChoice, SourceFormat, detect_format, expand_inputs, is_line_based
from curation.ingest.mapping import MappingContext, read_manifest, read_manifest_name
from curation.ingest.staging import StagingArea
from store import collections as collection_store
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
    division: str | None = Field(None, description="assign every row to this division")
    document_type: str | None = Field(None, description="assign every row this document type")
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
            for block in staging.stage(file, mapping_context(ws, file, fmt, options), file_index, advance):
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
        collection_store.save_collection_names(ws.db, _collection_names(files, options))
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


def mapping_context(ws: Workspace, file: Path, fmt: SourceFormat, options: IngestOptions) -> MappingContext:
    """What applies to every row of `file`: the options, its manifest, the workspace's text limit."""
    return MappingContext(
        source_format=fmt,
        source_file=str(file),
        collection=options.collection,
        division=options.division,
        document_type=options.document_type,
        column_map=options.column_map,
        defaults=read_manifest(file) if fmt is SourceFormat.indexer else {},
        max_text_bytes=ws.settings.ingest.max_text_bytes,
    )


def _collection_names(files: list[Path], options: IngestOptions) -> dict[str, str]:
    """Names of the collections this ingest assigns: the one typed, and those of indexer manifests."""
    names = [options.collection] if options.collection else [read_manifest_name(file) for file in files]
    return {collection_key(name): name for name in names if name and collection_key(name)}


def _nothing_readable(files: list[Path], rejects_path: Path | None) -> str:
    names = ", ".join(str(f) for f in files[:3]) + (" ..." if len(files) > 3 else "")
    where = f" (see {rejects_path})" if rejects_path else ""
    return f"nothing could be read from {names}: no row parsed{where}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def recent_ingests(ws: Workspace, limit: int = 20) -> pd.DataFrame:
    """The latest ingests, newest first: when, which paths, format, collection, counts and the rejects file."""
    return document_store.recent_ingests(ws.db, limit)
