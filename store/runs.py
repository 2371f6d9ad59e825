"""Frozen runs: a retriever's top-k for every query of a set, stored with what made it, so evaluation can tell
whether it still stands for the retriever as it is now."""

from __future__ import annotations

from typing import Any

import pandas as pd

from store.database import Database, fetch_dicts

RUN_FIELDS = ("name", "retriever", "query_set", "mode", "k", "fingerprint", "vectors_version", "set_version", "frozen")


def save_run(db: Database, meta: dict[str, Any], results: pd.DataFrame) -> int:
    """Store (or replace) run `meta["name"]`; `results` has query_id, rank, doc_id, score, passage.

    `meta` holds name, retriever, query_set, mode and k, and may hold the retriever's fingerprint, the
    version of its vectors, the query set's version and whether the run is frozen (kept on purpose).
    """
    frame = results[["query_id", "rank", "doc_id", "score", "passage"]].copy()
    frame.insert(0, "run", meta["name"])
    row = {key: meta.get(key) for key in RUN_FIELDS}
    row["frozen"] = bool(row["frozen"])
    with db.write() as con:
        con.execute("DELETE FROM run_results WHERE run = ?", [meta["name"]])
        con.execute("DELETE FROM runs WHERE name = ?", [meta["name"]])
        con.execute(
            f"INSERT INTO runs ({', '.join(RUN_FIELDS)}) VALUES ({', '.join('$' + k for k in RUN_FIELDS)})", row
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
            f"""
            SELECT {", ".join("r." + k for k in RUN_FIELDS)}, r.created_at, count(DISTINCT x.query_id) AS queries
            FROM runs r LEFT JOIN run_results x ON x.run = r.name
            WHERE $query_set IS NULL OR r.query_set = $query_set
            GROUP BY ALL ORDER BY r.created_at DESC, r.name
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
