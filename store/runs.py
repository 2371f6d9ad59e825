"""Frozen runs: a retriever's top-k for every query of a set, stored so it can be evaluated later."""

from __future__ import annotations

from typing import Any

import pandas as pd

from store.database import Database, fetch_dicts


def save_run(db: Database, meta: dict[str, Any], results: pd.DataFrame) -> int:
    """Store (or replace) run `meta["name"]`; `results` has query_id, rank, doc_id, score, passage."""
    frame = results[["query_id", "rank", "doc_id", "score", "passage"]].copy()
    frame.insert(0, "run", meta["name"])
    with db.write() as con:
        con.execute("DELETE FROM run_results WHERE run = ?", [meta["name"]])
        con.execute("DELETE FROM runs WHERE name = ?", [meta["name"]])
        con.execute(
            "INSERT INTO runs (name, retriever, query_set, mode, k) VALUES ($name, $retriever, $query_set, $mode, $k)",
            {key: meta[key] for key in ("name", "retriever", "query_set", "mode", "k")},
        )
        con.register("incoming_results", frame)
        con.execute("INSERT INTO run_results SELECT * FROM incoming_results")
        con.unregister("incoming_results")
    return len(frame)


def list_runs(db: Database, query_set: str | None = None) -> list[dict[str, Any]]:
    """Stored runs (of one query set, or all), newest first, with how many queries each ranked."""
    with db.read() as con:
        return fetch_dicts(
            con,
            """
            SELECT r.name, r.retriever, r.query_set, r.mode, r.k, r.created_at,
                   count(DISTINCT x.query_id) AS queries
            FROM runs r LEFT JOIN run_results x ON x.run = r.name
            WHERE $query_set IS NULL OR r.query_set = $query_set
            GROUP BY ALL ORDER BY r.created_at DESC
            """,
            {"query_set": query_set},
        )


def load_run(db: Database, name: str) -> pd.DataFrame:
    """A stored run's rows (query_id, rank, doc_id, score, passage), ordered by query and rank."""
    with db.read() as con:
        return con.execute(
            "SELECT query_id, rank, doc_id, score, passage FROM run_results WHERE run = ? ORDER BY query_id, rank",
            [name],
        ).df()
