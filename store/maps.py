"""Maps in DuckDB: per retriever, the fitted reducer's name and one 2-D point per document, plus clusters.

A point keeps the content hash of the vector it was placed from, so what changed since (new documents,
new content, documents without vectors any more) is found by comparing with the retriever's vectors.
Clusters keep their centre: points placed later join the nearest one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from store.database import Connection, Database, fetch_dicts
from store.queue import JUDGING


def map_record(db: Database, retriever: str) -> dict[str, Any] | None:
    """The map of `retriever` (fingerprint, reducer file, fitted_on, times, points), None when there is none."""
    with db.read() as con:
        rows = fetch_dicts(
            con,
            """
            SELECT m.*, (SELECT count(*) FROM map_points p WHERE p.retriever = m.retriever) AS points
            FROM maps m WHERE retriever = ?
            """,
            [retriever],
        )
    return rows[0] if rows else None


def mapped_retrievers(db: Database) -> list[str]:
    with db.read() as con:
        return [str(r[0]) for r in con.execute("SELECT retriever FROM maps ORDER BY retriever").fetchall()]


def pending(db: Database, retriever: str, present: pa.Table) -> tuple[list[str], list[str]]:
    """Documents to (re)place (vectors without a point, or newer than it) and points to remove.

    `present` holds doc_id and content_hash of every document the retriever has vectors for.
    """
    with db.read() as con:
        con.register("present_vectors", present.select(["doc_id", "content_hash"]))
        place = con.execute(
            """
            SELECT v.doc_id FROM present_vectors v
            LEFT JOIN map_points p ON p.retriever = $retriever AND p.doc_id = v.doc_id
            WHERE p.content_hash IS DISTINCT FROM v.content_hash ORDER BY v.doc_id
            """,
            {"retriever": retriever},
        ).fetchall()
        remove = con.execute(
            """
            SELECT doc_id FROM map_points WHERE retriever = $retriever
              AND doc_id NOT IN (SELECT doc_id FROM present_vectors) ORDER BY doc_id
            """,
            {"retriever": retriever},
        ).fetchall()
    return [str(r[0]) for r in place], [str(r[0]) for r in remove]


def replace_map(
    db: Database, retriever: str, points: pd.DataFrame, *, fingerprint: str, reducer: str, fitted_on: int, now: datetime
) -> None:
    """Start a new map: its record, the points of the documents it was fitted on; old points and clusters go."""
    with db.write() as con:
        con.execute("DELETE FROM map_points WHERE retriever = ?", [retriever])
        con.execute("DELETE FROM map_clusters WHERE retriever = ?", [retriever])
        con.execute(
            """
            INSERT OR REPLACE INTO maps (retriever, fingerprint, reducer, fitted_on, fitted_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """,
            [retriever, fingerprint, reducer, fitted_on, now, now],
        )
        _insert_points(con, retriever, points)


def write_points(db: Database, retriever: str, points: pd.DataFrame, *, remove: Sequence[str], now: datetime) -> None:
    """Add or replace points (doc_id, content_hash, x, y) and delete those of `remove`, in one transaction.

    New points join the nearest cluster of the map, if it has clusters.
    """
    with db.write() as con:
        gone = [*remove, *points["doc_id"]]
        if gone:
            con.execute(
                "DELETE FROM map_points WHERE retriever = $retriever AND doc_id IN (SELECT unnest($ids::VARCHAR[]))",
                {"retriever": retriever, "ids": gone},
            )
        _insert_points(con, retriever, points)
        con.execute(
            """
            UPDATE map_points SET cluster = (
                SELECT arg_min(c.cluster, (c.x - map_points.x) ** 2 + (c.y - map_points.y) ** 2)
                FROM map_clusters c WHERE c.retriever = map_points.retriever
            )
            WHERE retriever = $retriever AND cluster IS NULL
              AND EXISTS (SELECT 1 FROM map_clusters WHERE retriever = $retriever)
            """,
            {"retriever": retriever},
        )
        con.execute("UPDATE maps SET updated_at = ? WHERE retriever = ?", [now, retriever])


def _insert_points(con: Connection, retriever: str, points: pd.DataFrame) -> None:
    if points.empty:
        return
    con.register("incoming_points", points[["doc_id", "content_hash", "x", "y"]])
    con.execute(
        "INSERT INTO map_points (retriever, doc_id, content_hash, x, y) "
        "SELECT $retriever, doc_id, content_hash, x, y FROM incoming_points",
        {"retriever": retriever},
    )
    con.unregister("incoming_points")


def points(db: Database, retriever: str) -> pd.DataFrame:
    """doc_id, x, y of every point of a map, by doc_id."""
    with db.read() as con:
        return con.execute("SELECT doc_id, x, y FROM map_points WHERE retriever = ? ORDER BY doc_id", [retriever]).df()


def map_table(db: Database, retriever: str) -> pd.DataFrame:
    """Every point of a map with what the map shows and colours by.

    Columns: doc_id, x, y, title, url, division, document_type, collection, verdict (kept, dropped,
    unjudged: the relevancy filter's verdict in force), judgment (relevant, not relevant, queued,
    unjudged: from the current judgments and the judging queue), cluster ("<n>: <label>" or null).
    """
    with db.read() as con:
        return con.execute(
            """
            WITH judged AS (
                SELECT doc_id, max(grade) AS best FROM current_judgments
                WHERE kind = 'grade' AND grade IS NOT NULL GROUP BY doc_id
            )
            SELECT p.doc_id, p.x, p.y, coalesce(d.title, '') AS title, d.url, d.division, d.document_type,
                   d.collection,
                   CASE WHEN f.kept THEN 'kept' WHEN NOT f.kept THEN 'dropped' ELSE 'unjudged' END AS verdict,
                   CASE WHEN j.best > 0 THEN 'relevant' WHEN j.best = 0 THEN 'not relevant'
                        WHEN q.doc_id IS NOT NULL THEN 'queued' ELSE 'unjudged' END AS judgment,
                   CASE WHEN c.cluster IS NOT NULL THEN c.cluster || ': ' || c.label END AS cluster
            FROM map_points p
            LEFT JOIN documents d ON d.doc_id = p.doc_id
            LEFT JOIN verdicts_in_force f ON f.doc_id = p.doc_id
            LEFT JOIN judged j ON j.doc_id = p.doc_id
            LEFT JOIN document_queue q ON q.doc_id = p.doc_id AND q.queue = $queue
            LEFT JOIN map_clusters c ON c.retriever = p.retriever AND c.cluster = p.cluster
            WHERE p.retriever = $retriever
            ORDER BY p.doc_id
            """,
            {"retriever": retriever, "queue": JUDGING},
        ).df()


def save_clusters(db: Database, retriever: str, clusters: pd.DataFrame, assigned: pd.DataFrame) -> None:
    """Replace a map's clusters (cluster, label, x, y: its centre) and the points' assignments (doc_id, cluster)."""
    with db.write() as con:
        con.execute("DELETE FROM map_clusters WHERE retriever = ?", [retriever])
        con.register("incoming_clusters", clusters[["cluster", "label", "x", "y"]])
        con.execute(
            "INSERT INTO map_clusters SELECT $retriever, cluster, label, x, y FROM incoming_clusters",
            {"retriever": retriever},
        )
        con.register("incoming_assignments", assigned[["doc_id", "cluster"]])
        con.execute(
            """
            UPDATE map_points SET cluster = a.cluster FROM incoming_assignments a
            WHERE map_points.retriever = $retriever AND map_points.doc_id = a.doc_id
            """,
            {"retriever": retriever},
        )
        con.unregister("incoming_clusters")
        con.unregister("incoming_assignments")


def clusters(db: Database, retriever: str) -> pd.DataFrame:
    """cluster, label and size (points in it now) of a map's clusters."""
    with db.read() as con:
        return con.execute(
            """
            SELECT c.cluster, c.label, count(p.doc_id) AS size FROM map_clusters c
            LEFT JOIN map_points p ON p.retriever = c.retriever AND p.cluster = c.cluster
            WHERE c.retriever = ? GROUP BY ALL ORDER BY c.cluster
            """,
            [retriever],
        ).df()
