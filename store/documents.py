"""Documents and the ingest log in DuckDB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from store.database import Database, fetch_dicts

COMPARED = ("url", "title", "content_hash", "division", "document_type", "collection", "tree_path", "metadata")


def merge_staged(
    db: Database,
    staged: str,
    *,
    now: datetime,
    taxonomy: dict[str, list[str]],
    log: dict[str, Any],
    new_collection: str | None = None,
    benchmark: str | None = None,
) -> dict[str, int]:
    """Upsert a staged Parquet file of rows into `documents` and log the ingest, in one transaction.

    `new_collection` is the collection of the rows this merge inserts (stored documents keep theirs);
    `benchmark` records every staged document as a member of that benchmark's corpus (replacing its
    earlier membership).

    Incoming empty fields never erase stored ones (a COSMOS row adds a division to a crawled page,
    a crawl adds text to a COSMOS row). Content hashes and taxonomy flags are computed here from
    the merged values, so they always describe what is stored. New rows go straight from the
    staged parts into the table (no intermediate copy of their text). `staged` is a glob of Parquet
    parts; of rows sharing a doc_id only the first in input order is used.
    Returns inserted/updated/unchanged.
    """
    params = {"staged": staged, "now": now, "new_collection": new_collection, **taxonomy}
    with db.write() as con:
        seen = _count(
            con.execute(
                """
                UPDATE documents SET last_seen = $now
                FROM (SELECT DISTINCT doc_id FROM read_parquet($staged)) s WHERE documents.doc_id = s.doc_id
                """,
                {"staged": params["staged"], "now": now},
            )
        )
        con.execute(f"CREATE TEMP TABLE changed_ids AS {_CHANGED_IDS}", {"staged": staged})
        updated = _count(
            con.execute(
                f"""
                UPDATE documents SET {", ".join(f"{c} = m.{c}" for c in _UPDATED)}
                FROM (
                    SELECT m.*, {_FLAGS} AS taxonomy_flags FROM (
                        SELECT *, md5(title || chr(0) || text) AS content_hash FROM ({_MERGED})
                        WHERE doc_id IN (SELECT doc_id FROM changed_ids)
                    ) m
                ) m
                WHERE documents.doc_id = m.doc_id
                """,
                {k: v for k, v in params.items() if k not in ("now", "new_collection")},
            )
        )
        con.execute("DROP TABLE changed_ids")
        inserted = _count(
            con.execute(
                f"""
                INSERT INTO documents BY NAME
                SELECT m.*, {_FLAGS} AS taxonomy_flags, $now AS first_seen, $now AS last_seen FROM (
                    SELECT doc_id, url, title, coalesce(text, '') AS text, division, document_type,
                           coalesce(collection, $new_collection) AS collection,
                           tree_path, source_format, source_file, source_line,
                           json_merge_patch('{{}}', metadata::JSON) AS metadata,
                           md5(title || chr(0) || coalesce(text, '')) AS content_hash
                    FROM {_FIRST_STAGED} s
                    WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = s.doc_id)
                ) m
                """,
                params,
            )
        )
        unchanged = seen - updated
        if benchmark is not None:
            con.execute("DELETE FROM benchmark_documents WHERE benchmark = ?", [benchmark])
            con.execute(
                "INSERT INTO benchmark_documents SELECT DISTINCT $benchmark, doc_id FROM read_parquet($staged)",
                {"benchmark": benchmark, "staged": staged},
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
    return {"inserted": inserted, "updated": updated, "unchanged": unchanged}


# Staged rows, the first occurrence of each doc_id in input order (the key-only window is cheap).
_FIRST_STAGED = """(
    SELECT * FROM read_parquet($staged) SEMI JOIN (
        SELECT ordinal FROM read_parquet($staged)
        QUALIFY row_number() OVER (PARTITION BY doc_id ORDER BY ordinal) = 1
    ) USING (ordinal)
)"""
# Staged rows merged onto what is stored: incoming empty fields keep the stored value, and a division or
# document type a curator accepted (`curated_labels`) wins over the source's.
_MERGED = f"""
    SELECT s.doc_id,
           coalesce(s.url, d.url) AS url,
           coalesce(nullif(s.title, ''), d.title, '') AS title,
           coalesce(s.text, d.text, '') AS text,
           coalesce(c.division, s.division, d.division) AS division,
           coalesce(c.document_type, s.document_type, d.document_type) AS document_type,
           coalesce(s.collection, d.collection) AS collection,
           coalesce(s.tree_path, d.tree_path) AS tree_path,
           s.source_format, s.source_file, s.source_line,
           CASE WHEN d.metadata IS NULL THEN json_merge_patch('{{}}', s.metadata::JSON)
                WHEN s.metadata IS NULL THEN d.metadata
                ELSE json_merge_patch(d.metadata, s.metadata::JSON) END AS metadata
    FROM {_FIRST_STAGED} s JOIN documents d ON d.doc_id = s.doc_id
    LEFT JOIN curated_labels c ON c.doc_id = s.doc_id
"""
# Stored documents the staged rows would change. Compared without reading stored texts: a staged
# text is compared through the stored hash, and a row without text (COSMOS) keeps the stored text.
_CHANGED_IDS = f"""
    SELECT s.doc_id FROM {_FIRST_STAGED} s JOIN documents d ON d.doc_id = s.doc_id
    LEFT JOIN curated_labels c ON c.doc_id = s.doc_id
    WHERE coalesce(nullif(s.title, ''), d.title, '') IS DISTINCT FROM d.title
       OR (s.text IS NOT NULL
           AND md5(coalesce(nullif(s.title, ''), d.title, '') || chr(0) || s.text) IS DISTINCT FROM d.content_hash)
       OR coalesce(s.url, d.url) IS DISTINCT FROM d.url
       OR coalesce(c.division, s.division, d.division) IS DISTINCT FROM d.division
       OR coalesce(c.document_type, s.document_type, d.document_type) IS DISTINCT FROM d.document_type
       OR coalesce(s.collection, d.collection) IS DISTINCT FROM d.collection
       OR coalesce(s.tree_path, d.tree_path) IS DISTINCT FROM d.tree_path
       OR (s.metadata IS NOT NULL AND (d.metadata IS NULL
           OR json_merge_patch(d.metadata, s.metadata::JSON)::VARCHAR IS DISTINCT FROM d.metadata::VARCHAR))
"""
# Values outside the taxonomy lists passed in are kept as written and flagged.
_FLAGS = """list_filter([
    CASE WHEN m.division IS NULL OR list_contains($divisions, m.division) THEN NULL
         WHEN m.division = $placeholder THEN 'division:general'
         ELSE 'division:unknown' END,
    CASE WHEN m.document_type IS NULL OR list_contains($types, m.document_type) THEN NULL
         WHEN list_contains($retired, m.document_type) THEN 'document_type:retired'
         ELSE 'document_type:unknown' END
], lambda f: f IS NOT NULL)"""
_UPDATED = (*COMPARED, "text", "taxonomy_flags", "source_format", "source_file", "source_line")


def staged_duplicates(staged: str) -> list[dict[str, Any]]:
    """Staged rows whose doc_id appeared earlier in the same input, with where it first appeared.

    Runs on an in-memory DuckDB over the staged parts: the workspace is not touched.
    """
    con = duckdb.connect()
    try:
        rows = con.execute(
            """
            SELECT doc_id, source_file, source_line, first_file, first_line FROM (
                SELECT doc_id, source_file, source_line, ordinal,
                       first_value(source_file) OVER w AS first_file, first_value(source_line) OVER w AS first_line,
                       row_number() OVER w AS n
                FROM read_parquet(?)
                WINDOW w AS (PARTITION BY doc_id ORDER BY ordinal)
            ) WHERE n > 1 ORDER BY ordinal
            """,
            [staged],
        ).fetchall()
    finally:
        con.close()
    names = ("doc_id", "source_file", "source_line", "first_file", "first_line")
    return [dict(zip(names, row, strict=True)) for row in rows]


def _count(result: Any) -> int:
    row = result.fetchone()
    return int(row[0]) if row else 0


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


def benchmark_documents(db: Database, benchmark: str) -> set[str]:
    """The documents of a benchmark's corpus, as its latest import listed them."""
    with db.read() as con:
        rows = con.execute("SELECT doc_id FROM benchmark_documents WHERE benchmark = ?", [benchmark]).fetchall()
    return {str(r[0]) for r in rows}


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


def existing_ids(db: Database, doc_ids: list[str]) -> set[str]:
    """Which of these ids are stored."""
    with db.read() as con:
        rows = con.execute("SELECT doc_id FROM documents WHERE doc_id IN (SELECT unnest($ids))", {"ids": doc_ids})
        return {r[0] for r in rows.fetchall()}


def get_documents(db: Database, doc_ids: list[str]) -> list[dict[str, Any]]:
    """Full rows for the given ids, in the order asked (unknown ids are left out)."""
    if not doc_ids:
        return []
    with db.read() as con:
        rows = fetch_dicts(con, "SELECT * FROM documents WHERE doc_id IN (SELECT unnest($ids))", {"ids": doc_ids})
    by_id = {row["doc_id"]: row for row in rows}
    return [by_id[i] for i in doc_ids if i in by_id]


def document_fields(db: Database, doc_ids: list[str], fields: tuple[str, ...]) -> pd.DataFrame:
    """Chosen columns of the given documents, one row per known id (a light `get_documents`)."""
    unknown = set(fields) - {"doc_id", "url", "title", "text", "division", "document_type", "collection"}
    if unknown:
        raise ValueError(f"cannot read document fields {sorted(unknown)}")
    columns = ", ".join(dict.fromkeys(("doc_id", *fields)))
    with db.read() as con:
        return con.execute(
            f"SELECT {columns} FROM documents WHERE doc_id IN (SELECT unnest($ids))", {"ids": list(doc_ids)}
        ).df()


def sample_doc_ids(
    db: Database, n: int | None, seed: int, *, division: str | None = None, kept_only: bool = False
) -> list[str]:
    """`n` document ids (all with None) in a pseudo-random order fixed by `seed` (the same seed gives the
    same ids), optionally only of one division and only those the relevancy filter keeps."""
    with db.read() as con:
        rows = con.execute(
            """
            SELECT doc_id FROM documents
            WHERE ($division IS NULL OR division = $division)
              AND (NOT $kept_only OR doc_id IN (SELECT doc_id FROM verdicts_in_force WHERE kept))
            ORDER BY hash(doc_id || $seed), doc_id LIMIT $n
            """,
            {"seed": str(seed), "n": n, "division": division, "kept_only": kept_only},
        ).fetchall()
    return [r[0] for r in rows]


def write_beir_corpus(db: Database, path: Path) -> int:
    """Write every document as a BEIR `corpus.jsonl` line (_id, title, text, metadata); returns the count.

    The URL travels in `metadata.url`, where the BEIR loader looks for it. DuckDB streams the file,
    so a large corpus is written without being held in memory.
    """
    with db.read() as con:
        con.execute(
            f"""
            COPY (
                SELECT doc_id AS _id, title, text,
                       CASE WHEN url IS NULL THEN coalesce(metadata, '{{}}'::JSON)
                            ELSE json_merge_patch(coalesce(metadata, '{{}}'::JSON), json_object('url', url))
                       END AS metadata
                FROM documents ORDER BY doc_id
            ) TO '{_sql_path(path)}' (FORMAT json)
            """
        )
        row = con.execute("SELECT count(*) FROM documents").fetchone()
    return int(row[0]) if row else 0


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


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
        return fetch_dicts(
            con,
            """
            SELECT d.doc_id, d.division, d.document_type, d.collection
            FROM documents d JOIN present_vectors p USING (doc_id)
            WHERE p.content_hash = d.content_hash AND (d.division IS DISTINCT FROM p.division
                  OR d.document_type IS DISTINCT FROM p.document_type OR d.collection IS DISTINCT FROM p.collection)
            """,
        )
