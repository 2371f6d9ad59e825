"""Judgments: append-only rows of (query, document, grade) by an annotator."""

from __future__ import annotations

from typing import Any

import pandas as pd

from store.database import Database


def replace_annotator_judgments(db: Database, query_set: str, annotator: str, rows: list[dict[str, Any]]) -> int:
    """Swap in a whole annotator's judgments for a set (benchmark qrels are re-imported, not revised)."""
    with db.write() as con:
        con.execute("DELETE FROM judgments WHERE query_set = ? AND annotator = ?", [query_set, annotator])
        if rows:
            con.executemany(
                """
                INSERT INTO judgments (query_set, query_id, doc_id, kind, grade, annotator, source)
                VALUES (?, ?, ?, 'grade', ?, ?, ?)
                """,
                [[query_set, r["query_id"], r["doc_id"], r["grade"], annotator, r.get("source")] for r in rows],
            )
    return len(rows)


def judgment_counts(db: Database) -> list[dict[str, Any]]:
    """Judgments in force per query set and annotator (latest row per pair, undone rows left out)."""
    with db.read() as con:
        rows = con.execute(
            """
            SELECT query_set, annotator, count(*) AS judgments,
                   count(*) FILTER (kind = 'grade' AND grade > 0) AS relevant
            FROM current_judgments GROUP BY ALL ORDER BY query_set, annotator
            """
        ).fetchall()
        names = [d[0] for d in con.description]
    return [dict(zip(names, r, strict=True)) for r in rows]


def current_grades(db: Database, query_set: str) -> pd.DataFrame:
    """Every annotator's grade in force per pair of a set (query_id, doc_id, annotator, grade).

    Only kind `grade` counts: `cant_tell` and `skip` say nothing about relevance, and a grade 0 is kept
    as an explicit "not relevant".
    """
    with db.read() as con:
        return con.execute(
            """
            SELECT query_id, doc_id, annotator, grade FROM current_judgments
            WHERE query_set = ? AND kind = 'grade' AND grade IS NOT NULL
            ORDER BY query_id, doc_id, annotator
            """,
            [query_set],
        ).df()
