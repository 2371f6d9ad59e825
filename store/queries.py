"""Query sets and their queries in DuckDB."""

from __future__ import annotations

from typing import Any

import pandas as pd

from store.database import Database, fetch_dicts


def upsert_queries(
    db: Database, query_set: str, rows: list[dict[str, Any]], *, origin: str, description: str | None = None
) -> int:
    """Create the set if needed and insert or replace its queries (by query_id); returns rows written."""
    with db.write() as con:
        con.execute(
            "INSERT INTO query_sets (name, origin, description) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            [query_set, origin, description],
        )
        if rows:
            con.executemany(
                """
                INSERT INTO queries (query_set, query_id, text, origin, metadata) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (query_set, query_id) DO UPDATE SET text = excluded.text, origin = excluded.origin,
                    metadata = excluded.metadata
                """,
                [[query_set, r["query_id"], r["text"], r.get("origin", origin), r.get("metadata")] for r in rows],
            )
    return len(rows)


def query_ids(db: Database, query_set: str) -> set[str]:
    with db.read() as con:
        return {r[0] for r in con.execute("SELECT query_id FROM queries WHERE query_set = ?", [query_set]).fetchall()}


def list_query_sets(db: Database) -> list[dict[str, Any]]:
    """Every set with its origin and size, newest first."""
    with db.read() as con:
        return fetch_dicts(
            con,
            """
            SELECT s.name, s.origin, s.description, s.created_at, count(q.query_id) AS queries
            FROM query_sets s LEFT JOIN queries q ON q.query_set = s.name
            GROUP BY ALL ORDER BY s.created_at DESC, s.name
            """,
        )


def load_queries(db: Database, query_set: str) -> pd.DataFrame:
    """A set's queries (query_id, text, metadata as a JSON string or None), ordered by id."""
    with db.read() as con:
        return con.execute(
            "SELECT query_id, text, metadata::VARCHAR AS metadata FROM queries WHERE query_set = ? ORDER BY query_id",
            [query_set],
        ).df()


def generated_from(db: Database, query_set: str) -> set[str]:
    """Documents the set already has generated queries for (`metadata.source_doc`), so a re-run skips them."""
    with db.read() as con:
        rows = con.execute(
            """
            SELECT DISTINCT metadata->>'source_doc' FROM queries
            WHERE query_set = ? AND origin = 'generated' AND metadata->>'source_doc' IS NOT NULL
            """,
            [query_set],
        ).fetchall()
    return {str(r[0]) for r in rows}
