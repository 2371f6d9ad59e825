"""Query sets: queries typed by curators or imported from files, and the sets as the pages list them.

Every query records its origin (`typed`, `imported`, `generated`, `benchmark`); generated ones (see
`query_generation`) also name the document they were written for.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
import pandas as pd
from pydantic import BaseModel

from curation.core import InputError, Reject, curator_name, save_rejects
from curation.ingest import import_queries
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core import Workspace

QueryOrigin = Literal["typed", "imported", "generated", "benchmark"]
TEXT_COLUMNS = ("text", "query", "question")
ID_COLUMNS = ("_id", "query_id", "query-id", "qid", "id")


class QueryImport(BaseModel):
    """What an import added to a set."""

    query_set: str
    queries: int
    rejected: int
    rejects_file: str | None = None


def query_id_for(prefix: str, *parts: str) -> str:
    """A stable id from the text (and its source document): importing or typing the same query twice is one query."""
    digest = hashlib.blake2b("\x1f".join(p.strip().lower() for p in parts).encode(), digest_size=6).hexdigest()
    return f"{prefix}-{digest}"


def add_query(ws: Workspace, query_set: str, text: str, *, curator: str) -> str:
    """Add a query a curator typed to a set (created if new); returns its id."""
    text = " ".join(text.split())
    if not text:
        raise InputError("the query is empty")
    query_id = query_id_for("typed", text)
    metadata = orjson.dumps({"added_by": curator_name(curator, "adding queries")}).decode()
    row = {"query_id": query_id, "text": text, "metadata": metadata}
    query_store.upsert_queries(ws.db, query_set, [row], origin="typed", description="typed by curators")
    return query_id


def import_query_file(ws: Workspace, path: Path, query_set: str, *, text_column: str | None = None) -> QueryImport:
    """Add the queries of a BEIR `queries.jsonl` or of a CSV with a text column to a set (origin `imported`).

    A CSV's text is the `text_column`, else the first of text / query / question; its id the first of _id /
    query_id / qid / id, else one made from the text; other columns (a division, say) go to metadata.
    Bad lines are written to a rejects file and the good ones land.
    """
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    rejects: list[Reject] = []
    if path.suffix.lower() == ".csv":
        rows = _read_csv_queries(path, text_column, rejects)
        stored = query_store.upsert_queries(ws.db, query_set, rows, origin="imported", description=f"from {path}")
    elif path.suffix.lower() in (".jsonl", ".json"):
        stored = import_queries(ws, path, query_set, origin="imported", rejects=rejects)
    else:
        raise InputError(f"{path}: expected a BEIR queries.jsonl or a .csv with a text column")
    if not stored and rejects:
        raise InputError(f"{path}: no query could be read ({rejects[0].reason} on line {rejects[0].line})")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    rejects_file = save_rejects(ws.rejects_dir / f"queries-{path.stem}-{stamp}.csv", rejects)
    return QueryImport(query_set=query_set, queries=stored, rejected=len(rejects), rejects_file=rejects_file)


def _read_csv_queries(path: Path, text_column: str | None, rejects: list[Reject]) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        text_key = text_column or next((c for c in columns if c.strip().lower() in TEXT_COLUMNS), None)
        if text_key not in columns:
            wanted = repr(text_column) if text_column else "text, query or question"
            raise InputError(f"{path}: no column {wanted} (columns: {', '.join(columns) or 'none'}); use --text-column")
        id_key = next((c for c in columns if c.strip().lower() in ID_COLUMNS), None)
        rows: dict[str, dict[str, Any]] = {}
        for number, record in enumerate(reader, start=2):
            text = " ".join(str(record.get(text_key) or "").split())
            if not text:
                rejects.append(Reject(file=str(path), line=number, reason=f"empty {text_key}"))
                continue
            query_id = str(record.get(id_key) or "").strip() if id_key else ""
            extra = {k: v for k, v in record.items() if k not in (text_key, id_key) and k and v not in (None, "")}
            rows[query_id or query_id_for("csv", text)] = {
                "query_id": query_id or query_id_for("csv", text),
                "text": text,
                "metadata": orjson.dumps(extra).decode() if extra else None,
            }
    return list(rows.values())


def query_sets(ws: Workspace) -> list[dict[str, Any]]:
    """Every query set with its number of queries, description and creation time."""
    return query_store.list_query_sets(ws.db)


def load_queries(ws: Workspace, query_set: str) -> pd.DataFrame:
    """The queries of a set: query_id, text, origin, metadata (JSON text), in natural id order (q2 before q10)."""
    frame = query_store.load_queries(ws.db, query_set)
    order = sorted(range(len(frame)), key=lambda i: natural_key(str(frame["query_id"].iat[i])))
    return frame.iloc[order].reset_index(drop=True)


def natural_key(text: str) -> list[object]:
    """Sort key that orders ids as people count: q2 before q10 (digit runs compare as numbers)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]
