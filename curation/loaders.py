"""Readers for every SDE record shape, streaming, with a precise location for each bad row.

Reading is split in two steps that every format shares:
1. `read_records` turns a file into a stream of `Record`s (a parsed row and where it came from) or
   `Reject`s (a row that could not be parsed: invalid UTF-8, bad JSON, not an object, empty file);
2. `map_record` turns one record into a `StagedRow` on the document model, or raises `RowError`.
Files are read incrementally (line by line, Parquet batch by batch, JSON arrays with ijson), so
memory does not grow with the input.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import ijson
import orjson
import pyarrow.parquet as pq
from pydantic import BaseModel

from curation.documents import SourceFormat, normalize_url
from curation.taxonomy import (
    collection_key,
    division_from_tree_path,
    normalize_division,
    normalize_document_type,
)

FormatChoice = Literal["auto", "crawler", "indexer", "sinequa", "cosmos", "beir", "csv", "parquet", "jsonl"]
DOC_FIELDS = ("doc_id", "url", "title", "text", "division", "document_type", "collection", "tree_path")
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")
_SIDECARS = {"manifest.json", "queries.jsonl"}
_JSON_LIST_KEYS = ("results", "documents", "data", "items", "records")
_MAX_PROBE_BYTES = 64 * 2**20

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


class Reject(BaseModel):
    """A row (or a whole file) that did not land, and why."""

    file: str
    line: int | None = None
    row: int | None = None
    reason: str
    doc_id: str | None = None


class InputError(Exception):
    """Nothing at all can be read from an input (missing file, unknown format)."""


class RowError(ValueError):
    """One record fails validation; the message is the reject reason."""


@dataclass(frozen=True, slots=True)
class Record:
    """A parsed row; `line` for line-based files, `row` for Parquet rows and JSON array elements."""

    file: str
    data: dict[str, Any]
    line: int | None = None
    row: int | None = None

    def reject(self, reason: str, doc_id: str | None = None) -> Reject:
        return Reject(file=self.file, line=self.line, row=self.row, reason=reason, doc_id=doc_id)


@dataclass
class MappingContext:
    """What applies to every row of one input: forced collection, column mapping, manifest defaults."""

    source_format: SourceFormat
    source_file: str
    collection: str | None = None
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


StagedRow = dict[str, Any]
Progress = Callable[[int], None]


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files to ingest: each file given, and every data file under each folder given."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_file():
            files.append(path)
            continue
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix.lower() in DATA_SUFFIXES
            and p.name not in _SIDECARS
            and "qrels" not in p.relative_to(path).parts
        )
        if not found:
            raise InputError(f"{path}: folder holds no .jsonl, .json, .csv or .parquet files")
        files.extend(found)
    return files


def detect_format(path: Path) -> SourceFormat:
    """Guess a file's record shape from its extension and the keys of its first record."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        keys = set(pq.ParquetFile(path).schema_arrow.names)
        return _shape_from_keys(keys) or SourceFormat.parquet
    if suffix in (".csv", ".tsv"):
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","), [])
        return _shape_from_keys(set(header)) or SourceFormat.csv
    if suffix in (".jsonl", ".ndjson", ".json"):
        first = _first_json_record(path)
        if first is None:
            return SourceFormat.jsonl
        return _shape_from_keys(set(first)) or SourceFormat.jsonl
    raise InputError(f"{path}: unknown format (expected .jsonl, .json, .csv, .tsv or .parquet; use --format)")


def _shape_from_keys(keys: set[str]) -> SourceFormat | None:
    if {"_id", "text"} <= keys:
        return SourceFormat.beir
    if keys & {"url1", "sourcestr56", "treepath"}:
        return SourceFormat.sinequa
    if "full_text" in keys:
        return SourceFormat.indexer if keys & {"division", "document_type"} else SourceFormat.crawler
    if keys & {"tree_root", "tdamm_tag", "file_extension"} and not keys & {"text", "full_text"}:
        return SourceFormat.cosmos
    return None


def _first_json_record(path: Path) -> dict[str, Any] | None:
    """The first object of a JSONL file, a JSON array or a wrapped list ({"results": [...]})."""
    try:
        return next(
            (r.data for r in _read_json_file(path, lambda _: None) if isinstance(r, Record)),
            None,
        )
    except (OSError, ValueError):
        return None


def read_records(path: Path, source_format: SourceFormat, progress: Progress) -> Iterator[Record | Reject]:
    """Stream the rows of one file; `progress` receives byte counts as they are consumed."""
    name = str(path)
    if path.stat().st_size == 0:
        yield Reject(file=name, reason="empty file")
        return
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _read_parquet(path, progress)
    elif suffix in (".csv", ".tsv"):
        yield from _read_csv(path, progress)
    else:
        yield from _read_json_file(path, progress)


def _read_json_file(path: Path, progress: Progress) -> Iterator[Record | Reject]:
    """JSONL, or a single JSON document holding an array of records (crawler and COSMOS exports)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16).lstrip()
    if head.startswith(b"["):
        yield from _read_json_array(path, "item", progress)
        return
    if head.startswith(b"{") and not _looks_like_jsonl(path):
        key = _wrapped_list_key(path)
        if key is not None:
            yield from _read_json_array(path, f"{key}.item", progress)
            return
    yield from _read_jsonl(path, progress)


def _looks_like_jsonl(path: Path) -> bool:
    """True when the first line is a complete JSON object on its own (JSONL, not pretty JSON),
    unless it is the file's only line and wraps a list of records ({"results": [...]})."""
    with open(path, "rb") as handle:
        first = handle.readline(_MAX_PROBE_BYTES)
        more = bool(handle.read(4096).strip())
    try:
        data = orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(data, dict):
        return False
    return more or not any(isinstance(data.get(key), list) for key in _JSON_LIST_KEYS)


def _wrapped_list_key(path: Path) -> str | None:
    with open(path, "rb") as handle:
        try:
            for prefix, event, value in ijson.parse(handle):
                if prefix == "" and event == "map_key" and value in _JSON_LIST_KEYS:
                    return str(value)
        except (ijson.JSONError, UnicodeDecodeError):
            return None
    return None


def _read_jsonl(path: Path, progress: Progress) -> Iterator[Record | Reject]:
    name = str(path)
    seen_any = False
    for first_line, lines in jsonl_blocks(path):
        progress(sum(map(len, lines)))
        for number, raw in enumerate(lines, start=first_line):
            item = parse_jsonl_line(name, number, raw)
            if item is not None:
                seen_any = True
                yield item
    if not seen_any:
        yield Reject(file=name, reason="empty file (only blank lines)")


def jsonl_ranges(path: Path, block_bytes: int) -> Iterator[tuple[int, int, int]]:
    """Blocks of whole lines of a JSONL file as (first line number, byte offset, byte size).

    Worker processes read their own block (`jsonl_range_lines`), so the lines never travel between
    processes; here the file is only scanned for line ends.
    """
    with open(path, "rb") as handle:
        first, offset = 1, 0
        while chunk := handle.read(block_bytes):
            if b"\n" not in chunk:  # one line longer than a block: read on to its end
                pieces = [chunk]
                while more := handle.read(block_bytes):
                    pieces.append(more)
                    if b"\n" in more:
                        break
                chunk = b"".join(pieces)
            cut = chunk.rfind(b"\n") + 1 or len(chunk)  # no line end left: the last line, unterminated
            yield first, offset, cut
            first += chunk.count(b"\n", 0, cut) + (not chunk[:cut].endswith(b"\n"))
            offset += cut
            handle.seek(offset)


def jsonl_range_lines(path: Path, offset: int, size: int) -> list[bytes]:
    """The lines of one block from `jsonl_ranges`, each with its line end, as iterating the file gives them."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return list(io.BytesIO(handle.read(size)))


def jsonl_blocks(path: Path, lines_per_block: int = 2_000) -> Iterator[tuple[int, list[bytes]]]:
    """Raw lines of a JSONL file in blocks, each with the number of its first line."""
    with open(path, "rb") as handle:
        first = 1
        while lines := list(islice(handle, lines_per_block)):
            yield first, lines
            first += len(lines)


def parse_jsonl_line(name: str, number: int, raw: bytes) -> Record | Reject | None:
    """One JSONL line as a record or a reject (None for a blank line)."""
    if not raw.strip():
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Reject(file=name, line=number, reason=_utf8_problem(raw) or f"invalid JSON: {exc}")
    if not isinstance(data, dict):
        return Reject(file=name, line=number, reason=f"expected a JSON object, got {type(data).__name__}")
    return Record(file=name, data=data, line=number)


def is_jsonl(path: Path) -> bool:
    """Line-delimited JSON, which can be split into blocks and parsed in parallel."""
    suffix = path.suffix.lower()
    return suffix in (".jsonl", ".ndjson") or (suffix == ".json" and _looks_like_jsonl(path))


def is_line_based(path: Path) -> bool:
    """Whether rows are located by line number (JSONL, CSV) rather than by row/record number."""
    return path.suffix.lower() in (".csv", ".tsv") or is_jsonl(path)


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


def _utf8_problem(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid UTF-8 at byte {exc.start}"
    return None


def _read_json_array(path: Path, prefix: str, progress: Progress) -> Iterator[Record | Reject]:
    name = str(path)
    index = 0
    size = path.stat().st_size
    with open(path, "rb") as handle:
        try:
            for index, item in enumerate(ijson.items(handle, prefix, use_float=True), start=1):
                if not isinstance(item, dict):
                    yield Reject(file=name, row=index, reason=f"expected a JSON object, got {type(item).__name__}")
                    continue
                yield Record(file=name, data=item, row=index)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            yield Reject(
                file=name,
                row=index + 1,
                reason=f"invalid JSON after record {index}: {exc}; the rest of the file could not be read",
            )
    progress(size)


def _read_csv(path: Path, progress: Progress) -> Iterator[Record | Reject]:
    name = str(path)
    csv.field_size_limit(sys.maxsize)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        try:
            for row in reader:
                line = reader.line_num
                values = [v for v in row.values() if isinstance(v, str)]
                progress(sum(map(len, values)) + len(values))
                try:
                    "".join(values).encode("utf-8")
                except UnicodeEncodeError:
                    yield Reject(file=name, line=line, reason="invalid UTF-8")
                    continue
                if None in row:
                    yield Reject(file=name, line=line, reason="more fields than the header has")
                    continue
                yield Record(file=name, data={k: v for k, v in row.items() if v != ""}, line=line)
        except csv.Error as exc:
            yield Reject(file=name, line=reader.line_num, reason=f"CSV error: {exc}")


def _read_parquet(path: Path, progress: Progress) -> Iterator[Record | Reject]:
    name = str(path)
    parquet = pq.ParquetFile(path)
    total_rows = max(parquet.metadata.num_rows, 1)
    size = path.stat().st_size
    row_number = 0
    for batch in parquet.iter_batches(batch_size=2_000):
        try:
            rows = batch.to_pylist()
        except UnicodeDecodeError:
            rows = [_row_or_none(batch, i) for i in range(batch.num_rows)]
        for data in rows:
            row_number += 1
            if data is None:
                yield Reject(file=name, row=row_number, reason="invalid UTF-8")
                continue
            yield Record(file=name, data={k: v for k, v in data.items() if v is not None}, row=row_number)
        progress(int(size * batch.num_rows / total_rows))


def _row_or_none(batch: Any, index: int) -> dict[str, Any] | None:
    try:
        return batch.slice(index, 1).to_pylist()[0]
    except UnicodeDecodeError:
        return None


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
    url = normalize_url(url) if url else None
    doc_id = _text(values.get("doc_id")) or url
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
    division_raw = _text(values.get("division")) or ctx.defaults.get("division")
    if not division_raw:
        division_raw = division_from_tree_path(tree_path)
    division = normalize_division(division_raw)
    document_type = normalize_document_type(_text(values.get("document_type")) or ctx.defaults.get("document_type"))
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
