"""Rows on the document model: which source keys feed each document field per record shape, and validation.

`map_record` turns one parsed record into a staged row (doc_id, url, title, text, taxonomy, collection,
source location, metadata for the rest) or raises `RowError` with the reason the row is rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from curation.core import (
    Reject,
    collection_key,
    division_from_tree_path,
    normalize_division,
    normalize_document_type,
)
from curation.ingest.formats import SourceFormat
from curation.ingest.records import Record, parse_jsonl_line
from curation.ingest.urls import is_url, normalize_url

DOC_FIELDS = ("doc_id", "url", "title", "text", "division", "document_type", "collection", "tree_path")

# Source keys that feed each document field, per record shape (first present key wins).
FIELD_SOURCES: dict[SourceFormat, dict[str, tuple[str, ...]]] = {
    SourceFormat.crawler: {"url": ("url",), "title": ("title",), "text": ("full_text",)},
    SourceFormat.indexer: {
        "url": ("url",),
        "title": ("title",),
        "text": ("full_text",),
        "division": ("division",),
        "document_type": ("document_type",),
    },
    SourceFormat.sinequa: {
        "url": ("url1",),
        "title": ("title",),
        "text": ("text",),
        "collection": ("collection",),
        "tree_path": ("treepath",),
        "document_type": ("sourcestr56",),
    },
    SourceFormat.cosmos: {
        "url": ("url",),
        "title": ("title",),
        "document_type": ("document_type",),
        "tree_path": ("tree_root",),
    },
    SourceFormat.beir: {"doc_id": ("_id",), "title": ("title",), "text": ("text",)},
}

GENERIC_SOURCES: dict[str, tuple[str, ...]] = {
    "doc_id": ("doc_id", "_id", "id"),
    "url": ("url", "link", "uri", "source_link"),
    "title": ("title", "name"),
    "text": ("text", "full_text", "body", "content", "abstract", "description"),
    "division": ("division",),
    "document_type": ("document_type", "doc_type"),
    "collection": ("collection", "collection_key"),
    "tree_path": ("tree_path", "treepath", "tree_root"),
}
for _fmt in (SourceFormat.csv, SourceFormat.parquet, SourceFormat.jsonl):
    FIELD_SOURCES[_fmt] = GENERIC_SOURCES

StagedRow = dict[str, Any]


class RowError(ValueError):
    """One record fails validation; the message is the reject reason."""


@dataclass
class MappingContext:
    """What applies to every row of one input: forced collection, division and type, column mapping,
    manifest defaults."""

    source_format: SourceFormat
    source_file: str
    collection: str | None = None
    division: str | None = None
    document_type: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    max_text_bytes: int = 2_000_000
    keys: dict[str, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        """Resolve, once per input, which source keys feed each document field."""
        sources = FIELD_SOURCES[self.source_format]
        self.keys = {
            f: (self.column_map[f],) if f in self.column_map else sources[f]
            for f in DOC_FIELDS
            if f in self.column_map or f in sources
        }


@dataclass
class MappedBlock:
    """A block of input on the document model: good rows, rejects, rows met (`read`), rows that parsed."""

    rows: list[StagedRow]
    rejects: list[Reject]
    read: int
    parsed: int = 0
    size: int = 0


def map_items(items: Iterable[Record | Reject], ctx: MappingContext, size: int = 0) -> MappedBlock:
    """Validate and map parsed items; row-level rejects count as read, file-level ones do not."""
    block = MappedBlock(rows=[], rejects=[], read=0, size=size)
    for item in items:
        if isinstance(item, Reject):
            block.read += item.line is not None or item.row is not None
            block.rejects.append(item)
            continue
        block.read += 1
        block.parsed += 1
        try:
            block.rows.append(map_record(item, ctx))
        except RowError as exc:
            block.rejects.append(item.reject(str(exc)))
    return block


def map_jsonl_block(first_line: int, lines: list[bytes], ctx: MappingContext) -> MappedBlock:
    """Parse and map one block of JSONL lines (runs in a worker process for large files)."""
    items = (parse_jsonl_line(ctx.source_file, n, raw) for n, raw in enumerate(lines, start=first_line))
    return map_items((i for i in items if i is not None), ctx, size=sum(map(len, lines)))


def read_manifest(path: Path) -> dict[str, str]:
    """Defaults an indexer export's manifest.json gives every row beside it (collection, division, type)."""
    manifest = path.parent / "manifest.json"
    if not manifest.exists():
        return {}
    try:
        data = orjson.loads(manifest.read_bytes())
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    defaults = {
        "collection": data.get("collection_key") or data.get("collection_name"),
        "division": data.get("division"),
        "document_type": data.get("document_type"),
    }
    return {k: str(v) for k, v in defaults.items() if v}


def read_manifest_name(path: Path) -> str | None:
    """The collection name an indexer export's manifest.json gives ("PDS Geosciences Node"), if any."""
    manifest = path.parent / "manifest.json"
    try:
        data = orjson.loads(manifest.read_bytes()) if manifest.exists() else None
    except orjson.JSONDecodeError:
        return None
    name = data.get("collection_name") if isinstance(data, dict) else None
    return str(name) if name else None


def map_record(record: Record, ctx: MappingContext) -> StagedRow:
    """One record on the document model; raises RowError with the reject reason."""
    data = record.data
    consumed: set[str] = set()
    values: dict[str, Any] = {}
    for doc_field, keys in ctx.keys.items():
        for key in keys:
            if data.get(key) is not None:
                values[doc_field] = data[key]
                consumed.add(key)
                break
    metadata = {k: v for k, v in data.items() if k not in consumed}
    if ctx.source_format is SourceFormat.beir and isinstance(metadata.get("metadata"), dict):
        metadata = {**metadata.pop("metadata"), **metadata}

    url = _text(values.get("url")) or (_text(metadata.get("url")) if ctx.source_format is SourceFormat.beir else None)
    doc_id = _text(values.get("doc_id"))
    if url and not is_url(url):
        if not doc_id:  # the url would become the id: "Contact SEDAC for access" is no page
            raise RowError(f"url {url[:80]!r} is not a web address and there is no id")
        metadata["url"], url = url, None
    url = normalize_url(url) if url else None
    doc_id = doc_id or url
    if not doc_id:
        raise RowError("missing id and url")
    text = values.get("text")
    if ctx.source_format is SourceFormat.cosmos:
        text = _text(text)  # COSMOS rows carry metadata only; their text comes from a crawl
    else:
        text = _text(text)
        if not text:
            raise RowError("missing text")
    if text is not None:
        size = len(text)
        if size > ctx.max_text_bytes or (4 * size > ctx.max_text_bytes and len(text.encode()) > ctx.max_text_bytes):
            raise RowError(f"text larger than the {ctx.max_text_bytes:,}-byte limit (ingest.max_text_bytes)")

    tree_path = _text(values.get("tree_path"))
    division_raw = ctx.division or _text(values.get("division")) or ctx.defaults.get("division")
    if not division_raw:
        division_raw = division_from_tree_path(tree_path)
    division = normalize_division(division_raw)
    document_type = normalize_document_type(
        ctx.document_type or _text(values.get("document_type")) or ctx.defaults.get("document_type")
    )
    collection = (
        ctx.collection or _collection(_text(values.get("collection")), tree_path) or ctx.defaults.get("collection")
    )
    return {
        "doc_id": doc_id,
        "url": url,
        "title": " ".join((_text(values.get("title")) or "").split()),
        "text": text,
        "division": division,
        "document_type": document_type,
        "collection": collection_key(collection) if collection else None,
        "tree_path": tree_path,
        "source_format": ctx.source_format.value,
        "source_file": ctx.source_file,
        "source_line": record.line if record.line is not None else record.row,
        "metadata": orjson.dumps(metadata, default=str).decode() if metadata else None,
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text or None


def _collection(value: str | None, tree_path: str | None) -> str | None:
    """A collection from a legacy '/SDE/<collection>/' value or a '/<Division>/<Collection>/' tree path."""
    if value:
        parts = [p for p in value.split("/") if p]
        if parts and parts[0].upper() == "SDE":
            parts = parts[1:]
        return parts[0] if parts else None
    if tree_path:
        parts = [p for p in tree_path.split("/") if p.strip()]
        if len(parts) >= 2 and division_from_tree_path(tree_path):
            return parts[-1]
    return None
