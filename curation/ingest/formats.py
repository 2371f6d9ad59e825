"""Which record shape a file holds (see SDE.md, 'Record shapes seen in the wild') and which files an input names."""

from __future__ import annotations

import csv
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq

from curation.core import InputError
from curation.ingest.records import Record, looks_like_jsonl, read_json_file

FormatChoice = Literal["auto", "crawler", "indexer", "sinequa", "cosmos", "beir", "csv", "parquet", "jsonl"]
DATA_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")
_SIDECARS = {"manifest.json", "queries.jsonl"}


class SourceFormat(StrEnum):
    """Record shapes the loaders understand (see SDE.md, 'Record shapes seen in the wild')."""

    crawler = "crawler"
    indexer = "indexer"
    sinequa = "sinequa"
    cosmos = "cosmos"
    beir = "beir"
    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


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
            (r.data for r in read_json_file(path, lambda _: None) if isinstance(r, Record)),
            None,
        )
    except (OSError, ValueError):
        return None


def is_jsonl(path: Path) -> bool:
    """Line-delimited JSON, which can be split into blocks and parsed in parallel."""
    suffix = path.suffix.lower()
    return suffix in (".jsonl", ".ndjson") or (suffix == ".json" and looks_like_jsonl(path))


def is_line_based(path: Path) -> bool:
    """Whether rows are located by line number (JSONL, CSV) rather than by row/record number."""
    return path.suffix.lower() in (".csv", ".tsv") or is_jsonl(path)
