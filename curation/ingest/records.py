"""Reading rows out of files, streaming, with a precise location for each row that cannot be parsed.

`read_records` turns a file into a stream of `Record`s (a parsed row and where it came from) or `Reject`s
(invalid UTF-8, bad JSON, not an object, empty file). Files are read incrementally (line by line, Parquet
batch by batch, JSON arrays with ijson), so memory does not grow with the input.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ijson
import orjson
import pyarrow.parquet as pq

from curation.core import Reject
from curation.ingest.jsonl_blocks import jsonl_blocks

_JSON_LIST_KEYS = ("results", "documents", "data", "items", "records")
_MAX_PROBE_BYTES = 64 * 2**20
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Record:
    """A parsed row; `line` for line-based files, `row` for Parquet rows and JSON array elements."""

    file: str
    data: dict[str, Any]
    line: int | None = None
    row: int | None = None

    def reject(self, reason: str, doc_id: str | None = None) -> Reject:
        return Reject(file=self.file, line=self.line, row=self.row, reason=reason, doc_id=doc_id)


def read_records(path: Path, progress: Progress) -> Iterator[Record | Reject]:
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
        yield from read_json_file(path, progress)


def read_json_file(path: Path, progress: Progress) -> Iterator[Record | Reject]:
    """JSONL, or a single JSON document holding an array of records (crawler and COSMOS exports)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16).lstrip()
    if head.startswith(b"["):
        yield from _read_json_array(path, "item", progress)
        return
    if head.startswith(b"{") and not looks_like_jsonl(path):
        key = _wrapped_list_key(path)
        if key is not None:
            yield from _read_json_array(path, f"{key}.item", progress)
            return
    yield from _read_jsonl(path, progress)


def looks_like_jsonl(path: Path) -> bool:
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
