"""A file looked at before it is loaded: its first rows as they would land, which source field feeds each
document field, and a check of every row (rejects by reason, duplicate ids, empty texts), writing nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.core import ProgressCallback, Reject
from curation.ingest.formats import SourceFormat, detect_format, expand_inputs
from curation.ingest.load import IngestOptions, mapping_context
from curation.ingest.mapping import MappingContext, RowError, StagedRow, map_record
from curation.ingest.records import Record, read_records

if TYPE_CHECKING:
    from curation.core import Workspace

FOR_THE_FILE = "(set for the whole file)"
FROM_MANIFEST = "(manifest.json)"


class Preview(BaseModel):
    """The first rows of a file as they would land, the first rejects, and where each document field comes from.

    `fields` maps a document field to the source field that fed it in these rows (or says it is set for the
    whole file, or by the manifest); `metadata` lists the source fields kept in `metadata`.
    """

    format: SourceFormat
    rows: list[dict[str, object]]
    rejects: list[Reject]
    fields: dict[str, str]
    metadata: list[str]


class Validation(BaseModel):
    """Every row of a file checked as `ingest` would check it (up to `max_rows`), without writing anything."""

    rows: int
    valid: int
    rejected: int
    reasons: dict[str, int]
    empty_texts: int
    duplicates: int
    duplicate_ids: list[str]
    checked_all: bool


def preview(ws: Workspace, path: Path, options: IngestOptions | None = None, limit: int = 100) -> Preview:
    """Map the first `limit` rows of `path` onto the document model, exactly as `ingest` would."""
    options = options or IngestOptions()
    file, ctx = _open(ws, path, options)
    rows: list[dict[str, object]] = []
    rejects: list[Reject] = []
    fed: dict[str, Counter[str]] = {}
    metadata: Counter[str] = Counter()
    for item, row in _mapped(file, ctx):
        if isinstance(item, Record):
            _count_sources(item, ctx, fed, metadata)
        if isinstance(item, Reject):
            rejects.append(item)
        elif row is not None:
            rows.append(row)
        if len(rows) + len(rejects) >= limit:
            break
    fields = {doc_field: counts.most_common(1)[0][0] for doc_field, counts in fed.items()}
    for doc_field, forced in (("collection", options.collection), ("division", options.division)):
        if forced:
            fields[doc_field] = FOR_THE_FILE
    if options.document_type:
        fields["document_type"] = FOR_THE_FILE
    for doc_field in ctx.defaults:
        fields.setdefault(doc_field, FROM_MANIFEST)
    return Preview(format=ctx.source_format, rows=rows, rejects=rejects, fields=fields, metadata=sorted(metadata))


def validate(
    ws: Workspace,
    path: Path,
    options: IngestOptions | None = None,
    *,
    max_rows: int = 500_000,
    progress: ProgressCallback | None = None,
) -> Validation:
    """Check every row of `path` (up to `max_rows`): what would be rejected and why, and duplicate ids."""
    options = options or IngestOptions()
    file, ctx = _open(ws, path, options)
    total = file.stat().st_size
    seen: set[str] = set()
    duplicates: list[str] = []
    reasons: Counter[str] = Counter()
    rows = valid = 0
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(min(done, total), total)

    for item, row in _mapped(file, ctx, advance):
        rows += 1
        if isinstance(item, Reject) or row is None:
            reasons[getattr(item, "reason", "unreadable")] += 1
        elif str(row["doc_id"]) in seen:
            duplicates.append(str(row["doc_id"]))
        else:
            seen.add(str(row["doc_id"]))
            valid += 1
        if rows >= max_rows:
            break
    return Validation(
        rows=rows,
        valid=valid,
        rejected=sum(reasons.values()),
        reasons=dict(reasons.most_common()),
        empty_texts=reasons.get("missing text", 0),
        duplicates=len(duplicates),
        duplicate_ids=duplicates[:20],
        checked_all=rows < max_rows,
    )


def _open(ws: Workspace, path: Path, options: IngestOptions) -> tuple[Path, MappingContext]:
    file = expand_inputs([path])[0]
    fmt = detect_format(file) if options.format == "auto" else SourceFormat(options.format)
    return file, mapping_context(ws, file, fmt, options)


def _mapped(
    file: Path, ctx: MappingContext, progress: ProgressCallback | None = None
) -> Iterator[tuple[Record | Reject, StagedRow | None]]:
    """Each item of the file with its row on the document model, or None (a Reject carries its reason)."""
    for item in read_records(file, progress or (lambda _: None)):
        if isinstance(item, Reject):
            yield item, None
            continue
        try:
            yield item, map_record(item, ctx)
        except RowError as exc:
            yield item.reject(str(exc)), None


def _count_sources(record: Record, ctx: MappingContext, fed: dict[str, Counter[str]], metadata: Counter[str]) -> None:
    consumed = set()
    for doc_field, keys in ctx.keys.items():
        key = next((k for k in keys if record.data.get(k) is not None), None)
        if key is not None:
            fed.setdefault(doc_field, Counter())[key] += 1
            consumed.add(key)
    metadata.update(k for k in record.data if k not in consumed)
