"""Documents and the ingest log in DuckDB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from store.database import Database

COMPARED = ("url", "title", "content_hash", "division", "document_type", "collection", "tree_path", "metadata")


def merge_staged(
    db: Database,
    staged: Path,
    *,
    now: datetime,
    taxonomy: dict[str, list[str]],
    log: dict[str, Any],
) -> dict[str, int]:
    """Upsert a staged Parquet file of rows into `documents` and log the ingest, in one transaction.

    Incoming empty fields never erase stored ones (a COSMOS row adds a division to a crawled page,
    a crawl adds text to a COSMOS row). Content hashes and taxonomy flags are computed here from
    the merged values, so they always describe what is stored. Returns inserted/updated/unchanged.
    """
    with db.write() as con:
        changed = " OR ".join(f"h.{c} IS DISTINCT FROM d.{c}" for c in COMPARED)
        con.execute(
            f"""
            CREATE TEMP TABLE incoming AS
            WITH merged AS (
                SELECT s.doc_id,
                       coalesce(s.url, d.url) AS url,
                       coalesce(nullif(s.title, ''), d.title, '') AS title,
                       coalesce(s.text, d.text, '') AS text,
                       coalesce(s.division, d.division) AS division,
                       coalesce(s.document_type, d.document_type) AS document_type,
                       coalesce(s.collection, d.collection) AS collection,
                       coalesce(s.tree_path, d.tree_path) AS tree_path,
                       s.source_format, s.source_file, s.source_line,
                       CASE WHEN d.metadata IS NULL THEN s.metadata::JSON
                            WHEN s.metadata IS NULL THEN d.metadata
                            ELSE json_merge_patch(d.metadata, s.metadata::JSON) END AS metadata,
                       d.doc_id IS NULL AS is_new
                FROM read_parquet($staged) s LEFT JOIN documents d ON d.doc_id = s.doc_id
            ),
            hashed AS (SELECT *, md5(title || chr(0) || text) AS content_hash FROM merged)
            SELECT h.*, (h.is_new OR {changed}) AS changed,
                   list_filter([
                       CASE WHEN h.division IS NULL OR list_contains($divisions, h.division) THEN NULL
                            WHEN h.division = $placeholder THEN 'division:general'
                            ELSE 'division:unknown' END,
                       CASE WHEN h.document_type IS NULL OR list_contains($types, h.document_type) THEN NULL
                            WHEN list_contains($retired, h.document_type) THEN 'document_type:retired'
                            ELSE 'document_type:unknown' END
                   ], lambda f: f IS NOT NULL) AS taxonomy_flags
            FROM hashed h LEFT JOIN documents d ON d.doc_id = h.doc_id
            """,
            {"staged": str(staged), **taxonomy},
        )
        counts = con.execute(
            """
            SELECT count(*) FILTER (is_new), count(*) FILTER (changed AND NOT is_new),
                   count(*) FILTER (NOT changed) FROM incoming
            """
        ).fetchone()
        assert counts is not None
        inserted, updated, unchanged = (int(c) for c in counts)
        assignments = ", ".join(
            f"{c} = i.{c}" for c in (*COMPARED, "text", "taxonomy_flags", "source_format", "source_file", "source_line")
        )
        con.execute(
            f"""
            UPDATE documents SET {assignments}, last_seen = $now
            FROM incoming i WHERE documents.doc_id = i.doc_id AND i.changed AND NOT i.is_new
            """,
            {"now": now},
        )
        con.execute(
            """
            UPDATE documents SET last_seen = $now
            FROM incoming i WHERE documents.doc_id = i.doc_id AND NOT i.changed
            """,
            {"now": now},
        )
        con.execute(
            """
            INSERT INTO documents BY NAME
            SELECT doc_id, url, title, text, division, document_type, collection, tree_path, taxonomy_flags,
                   source_format, source_file, source_line, content_hash, metadata,
                   $now AS first_seen, $now AS last_seen
            FROM incoming WHERE is_new
            """,
            {"now": now},
        )
        con.execute(
            """
            INSERT INTO ingests (started_at, finished_at, paths, format, collection, read, inserted, updated,
                                 unchanged, rejected, duplicates, rejects_file)
            VALUES ($started_at, $now, $paths, $format, $collection, $read, $inserted, $updated, $unchanged,
                    $rejected, $duplicates, $rejects_file)
            """,
            {**log, "now": now, "inserted": inserted, "updated": updated, "unchanged": unchanged},
        )
        con.execute("DROP TABLE incoming")
    return {"inserted": inserted, "updated": updated, "unchanged": unchanged}


def record_ingest(db: Database, log: dict[str, Any], *, now: datetime) -> None:
    """Log an ingest that landed no rows (every row rejected), so the Overview still shows it."""
    with db.write() as con:
        con.execute(
            """
            INSERT INTO ingests (started_at, finished_at, paths, format, collection, read, inserted, updated,
                                 unchanged, rejected, duplicates, rejects_file)
            VALUES ($started_at, $now, $paths, $format, $collection, $read, 0, 0, 0,
                    $rejected, $duplicates, $rejects_file)
            """,
            {**log, "now": now},
        )


def count_documents(db: Database) -> int:
    with db.read() as con:
        row = con.execute("SELECT count(*) FROM documents").fetchone()
    return int(row[0]) if row else 0


def counts_by(db: Database, column: str) -> dict[str, int]:
    """Documents per value of division, document_type or collection ('(none)' for missing)."""
    if column not in ("division", "document_type", "collection", "source_format"):
        raise ValueError(f"cannot count documents by {column!r}")
    with db.read() as con:
        rows = con.execute(
            f"SELECT coalesce({column}, '(none)') AS v, count(*) FROM documents GROUP BY v ORDER BY 2 DESC, 1"
        ).fetchall()
    return {str(v): int(n) for v, n in rows}


def flagged_counts(db: Database) -> dict[str, int]:
    """How many documents carry each taxonomy flag."""
    with db.read() as con:
        rows = con.execute(
            "SELECT f, count(*) FROM (SELECT unnest(taxonomy_flags) AS f FROM documents) GROUP BY f ORDER BY f"
        ).fetchall()
    return {str(f): int(n) for f, n in rows}


def recent_ingests(db: Database, limit: int = 20) -> pd.DataFrame:
    with db.read() as con:
        return con.execute(
            """
            SELECT ingest_id, finished_at, array_to_string(paths, ', ') AS paths, format, collection, read,
                   inserted, updated, unchanged, rejected, duplicates, rejects_file
            FROM ingests ORDER BY ingest_id DESC LIMIT ?
            """,
            [limit],
        ).df()


def get_documents(db: Database, doc_ids: list[str]) -> list[dict[str, Any]]:
    """Full rows for the given ids, in the order asked (unknown ids are left out)."""
    if not doc_ids:
        return []
    with db.read() as con:
        rows = con.execute("SELECT * FROM documents WHERE doc_id IN (SELECT unnest($ids))", {"ids": doc_ids}).fetchall()
        names = [d[0] for d in con.description]
    by_id = {row[0]: dict(zip(names, row, strict=True)) for row in rows}
    return [by_id[i] for i in doc_ids if i in by_id]


def vector_coverage(db: Database, present: pa.Table) -> dict[str, int]:
    """Documents with current vectors, with stale ones (content changed since), and with none.

    `present` holds doc_id and content_hash of every document a retriever has vectors for.
    """
    with db.read() as con:
        con.register("present_vectors", present)
        row = con.execute(
            """
            SELECT count(*), count(p.doc_id) FILTER (p.content_hash = d.content_hash),
                   count(p.doc_id) FILTER (p.content_hash <> d.content_hash), count(*) FILTER (p.doc_id IS NULL)
            FROM documents d LEFT JOIN present_vectors p USING (doc_id)
            """
        ).fetchone()
    assert row is not None
    return dict(zip(("documents", "current", "stale", "missing"), (int(v) for v in row), strict=True))


def documents_to_embed(db: Database, present: pa.Table) -> list[tuple[str, bool]]:
    """(doc_id, has old vectors) of documents whose current content has no vectors, longest first.

    Longest first: similar lengths share a batch (little padding) and an out-of-memory shows early.
    """
    with db.read() as con:
        con.register("present_vectors", present)
        rows = con.execute(
            """
            SELECT d.doc_id, p.doc_id IS NOT NULL
            FROM documents d LEFT JOIN present_vectors p USING (doc_id)
            WHERE p.doc_id IS NULL OR p.content_hash <> d.content_hash
            ORDER BY length(d.title) + length(d.text) DESC, d.doc_id
            """
        ).fetchall()
    return [(str(doc_id), bool(stale)) for doc_id, stale in rows]


def retagged_documents(db: Database, present: pa.Table) -> list[dict[str, Any]]:
    """Documents whose vectors are current but whose division, document type or collection changed."""
    with db.read() as con:
        con.register("present_vectors", present)
        rows = con.execute(
            """
            SELECT d.doc_id, d.division, d.document_type, d.collection
            FROM documents d JOIN present_vectors p USING (doc_id)
            WHERE p.content_hash = d.content_hash AND (d.division IS DISTINCT FROM p.division
                  OR d.document_type IS DISTINCT FROM p.document_type OR d.collection IS DISTINCT FROM p.collection)
            """
        ).fetchall()
        names = [d[0] for d in con.description]
    return [dict(zip(names, r, strict=True)) for r in rows]
