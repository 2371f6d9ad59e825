"""Judgments: append-only rows of (query, document, grade) by an annotator."""

from __future__ import annotations

from typing import Any

import pandas as pd

from store.database import Database, fetch_dicts


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
        return fetch_dicts(
            con,
            """
            SELECT query_set, annotator, count(*) AS judgments,
                   count(*) FILTER (kind = 'grade' AND grade > 0) AS relevant
            FROM current_judgments GROUP BY ALL ORDER BY query_set, annotator
            """,
        )


def current_grades(db: Database, query_set: str) -> pd.DataFrame:
    """Every annotator's grade in force per pair of a set (query_id, doc_id, annotator, grade, source).

    Only kind `grade` counts: `cant_tell` and `skip` say nothing about relevance, and a grade 0 is kept
    as an explicit "not relevant".
    """
    with db.read() as con:
        return con.execute(
            """
            SELECT query_id, doc_id, annotator, grade, source FROM current_judgments
            WHERE query_set = ? AND kind = 'grade' AND grade IS NOT NULL
            ORDER BY query_id, doc_id, annotator
            """,
            [query_set],
        ).df()


def judged_queries(db: Database, query_set: str, benchmark_prefix: str) -> dict[str, int]:
    """Queries of a set with at least one grade, per annotator, and under "" for all annotators that are not
    benchmarks (whose names start with `benchmark_prefix`) together."""
    graded = "FROM current_judgments WHERE query_set = $set AND kind = 'grade' AND grade IS NOT NULL"
    with db.read() as con:
        rows = con.execute(
            f"""
            SELECT annotator, count(DISTINCT query_id) {graded} GROUP BY annotator
            UNION ALL
            SELECT '', count(DISTINCT query_id) {graded} AND NOT starts_with(annotator, $prefix)
            """,
            {"set": query_set, "prefix": benchmark_prefix},
        ).fetchall()
    return {str(a): int(n) for a, n in rows}


def qrels_file_queries(db: Database, query_set: str, benchmark_prefix: str) -> dict[str, set[str]]:
    """The queries of a set per qrels file its benchmark judgments came from ({file stem: query ids})."""
    with db.read() as con:
        rows = con.execute(
            r"""
            SELECT DISTINCT regexp_extract(source, '^qrels/(.+)\.tsv$', 1) AS split, query_id FROM current_judgments
            WHERE query_set = $set AND starts_with(annotator, $prefix) AND regexp_matches(source, '^qrels/.+\.tsv$')
            """,
            {"set": query_set, "prefix": benchmark_prefix},
        ).fetchall()
    found: dict[str, set[str]] = {}
    for split, query_id in rows:
        found.setdefault(str(split), set()).add(str(query_id))
    return found


def record_judgments(db: Database, rows: list[dict[str, Any]]) -> list[int]:
    """Append judgments (kind grade / cant_tell / skip) made in a session; returns their ids, in order."""
    with db.write() as con:
        return [
            int(
                con.execute(
                    """
                    INSERT INTO judgments (query_set, query_id, doc_id, kind, grade, annotator, session_id, source)
                    VALUES ($query_set, $query_id, $doc_id, $kind, $grade, $annotator, $session_id, $source)
                    RETURNING judgment_id
                    """,
                    row,
                ).fetchone()[0]
            )
            for row in rows
        ]


def undo_latest(db: Database, query_set: str, annotator: str, session_id: str | None) -> dict[str, Any] | None:
    """Undo the annotator's newest live judgment made in the app in this set; returns the undone row's
    judgment_id, query_id and doc_id (None when there is nothing to undo).

    The undo is itself a row (`kind = 'undo'`, `undoes` = that id), so history keeps both; each further
    undo reaches one judgment further back.
    """
    with db.write() as con:
        row = con.execute(
            """
            SELECT j.judgment_id, j.query_id, j.doc_id FROM judgments j
            WHERE j.query_set = ? AND j.annotator = ? AND j.kind <> 'undo'
              AND j.session_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM judgments u WHERE u.undoes = j.judgment_id)
            ORDER BY j.created_at DESC, j.judgment_id DESC LIMIT 1
            """,
            [query_set, annotator],
        ).fetchone()
        if row is None:
            return None
        con.execute(
            """
            INSERT INTO judgments (query_set, query_id, doc_id, kind, annotator, session_id, undoes)
            VALUES (?, ?, ?, 'undo', ?, ?, ?)
            """,
            [query_set, row[1], row[2], annotator, session_id, row[0]],
        )
    return {"judgment_id": int(row[0]), "query_id": str(row[1]), "doc_id": str(row[2])}


def judgment_history(db: Database, query_set: str, query_id: str | None = None) -> pd.DataFrame:
    """Every row of a set (or of one query), undo rows and undone rows included, oldest first."""
    with db.read() as con:
        return con.execute(
            """
            SELECT judgment_id, query_id, doc_id, kind, grade, annotator, session_id, source, undoes, created_at,
                   EXISTS (SELECT 1 FROM judgments u WHERE u.undoes = j.judgment_id) AS undone
            FROM judgments j WHERE query_set = $set AND ($query IS NULL OR query_id = $query)
            ORDER BY created_at, judgment_id
            """,
            {"set": query_set, "query": query_id},
        ).df()


def current_for_query(
    db: Database, query_set: str, *, query_id: str | None = None, annotator: str | None = None
) -> pd.DataFrame:
    """The judgments in force (every kind) in a set, of one query and/or one annotator when given.

    Filters on the view's partition columns, which DuckDB pushes below its window: milliseconds at 100k rows.
    """
    with db.read() as con:
        return con.execute(
            """
            SELECT query_id, doc_id, annotator, kind, grade, source, created_at FROM current_judgments
            WHERE query_set = $set AND ($query IS NULL OR query_id = $query) AND ($who IS NULL OR annotator = $who)
            ORDER BY query_id, doc_id, annotator
            """,
            {"set": query_set, "query": query_id, "who": annotator},
        ).df()


def grade_pairs(db: Database, query_set: str) -> pd.DataFrame:
    """How often each two annotators gave each two grades to one pair: a, b, grade_a, grade_b, pairs.

    The confusion counts agreement measures need, counted in SQL instead of joining grades in Python.
    """
    with db.read() as con:
        return con.execute(
            """
            WITH g AS (
                SELECT query_id, doc_id, annotator, grade FROM current_judgments
                WHERE query_set = ? AND kind = 'grade' AND grade IS NOT NULL
            )
            SELECT x.annotator AS a, y.annotator AS b, x.grade AS grade_a, y.grade AS grade_b, count(*) AS pairs
            FROM g x JOIN g y ON x.query_id = y.query_id AND x.doc_id = y.doc_id AND x.annotator < y.annotator
            GROUP BY ALL ORDER BY ALL
            """,
            [query_set],
        ).df()


def annotator_has_sessions(db: Database, query_set: str, annotator: str) -> int:
    """How many of an annotator's rows in a set were made in the app (imports have no session)."""
    with db.read() as con:
        row = con.execute(
            "SELECT count(*) FROM judgments WHERE query_set = ? AND annotator = ? AND session_id IS NOT NULL",
            [query_set, annotator],
        ).fetchone()
    return int(row[0]) if row else 0


def session_summaries(
    db: Database, *, idle_seconds: float, session_id: str | None = None, annotator: str | None = None
) -> pd.DataFrame:
    """Per session and query set: annotator, pairs judged (in force now), actions, first and last action, and
    the time spent judging (gaps between actions, each counted up to `idle_seconds`, so a break is not work)."""
    with db.read() as con:
        return con.execute(
            """
            WITH acts AS (
                SELECT session_id, annotator, query_set, created_at,
                       epoch(created_at - lag(created_at) OVER (
                           PARTITION BY session_id, query_set ORDER BY created_at, judgment_id)) AS gap
                FROM judgments WHERE session_id IS NOT NULL AND ($session IS NULL OR session_id = $session)
                    AND ($who IS NULL OR annotator = $who)
            ),
            live AS (
                SELECT session_id, query_set, count(*) AS pairs FROM current_judgments
                WHERE session_id IS NOT NULL AND ($who IS NULL OR annotator = $who) GROUP BY ALL
            )
            SELECT a.session_id, a.annotator, a.query_set, coalesce(any_value(l.pairs), 0) AS pairs_judged,
                   count(*) AS actions,
                   min(a.created_at) AS started_at, max(a.created_at) AS last_at,
                   coalesce(sum(least(coalesce(a.gap, 0), $idle)), 0) AS seconds
            FROM acts a LEFT JOIN live l USING (session_id, query_set)
            GROUP BY a.session_id, a.annotator, a.query_set ORDER BY last_at DESC
            """,
            {"session": session_id, "idle": idle_seconds, "who": annotator},
        ).df()
