"""Near-duplicate clusters in DuckDB (`duplicate_clusters`, migration 11) and the reads that find them.

Boilerplate lines are counted by DuckDB (a line's pages per collection, spilled to disk when large), documents
are read in short keyset-paged batches so no connection is held while MinHash signatures are computed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from store.database import Database

CLUSTER_COLUMNS = ("cluster_id", "doc_id", "canonical", "reason", "similarity")


def boilerplate_lines(db: Database, *, share: float, min_pages: int) -> dict[str | None, set[str]]:
    """Per collection, the trimmed lines found on more than `share` of its pages (collections of at least
    `min_pages` pages): navigation, footers and banners that would make unrelated pages look alike."""
    with db.read() as con:
        rows = con.execute(
            """
            WITH sized AS (SELECT collection, count(*) AS pages FROM documents GROUP BY ALL),
            lines AS (
                SELECT DISTINCT doc_id, collection, trim(unnest(string_split(text, chr(10)))) AS line FROM documents
            )
            SELECT l.collection, l.line FROM lines l JOIN sized s ON s.collection IS NOT DISTINCT FROM l.collection
            WHERE l.line <> '' AND s.pages >= $min_pages
            GROUP BY l.collection, l.line HAVING count(*) > $share * any_value(s.pages)
            """,
            {"share": share, "min_pages": min_pages},
        ).fetchall()
    found: dict[str | None, set[str]] = {}
    for collection, line in rows:
        found.setdefault(collection, set()).add(str(line))
    return found


def document_batches(db: Database, batch_rows: int = 20_000) -> Iterator[pd.DataFrame]:
    """(doc_id, collection, text) of every document by id, one short read per batch."""
    last = ""
    while True:
        with db.read() as con:
            batch = con.execute(
                "SELECT doc_id, collection, text FROM documents WHERE doc_id > $last ORDER BY doc_id LIMIT $n",
                {"last": last, "n": batch_rows},
            ).df()
        if batch.empty:
            return
        yield batch
        last = str(batch["doc_id"].iloc[-1])


def document_count(db: Database) -> int:
    with db.read() as con:
        row = con.execute("SELECT count(*) FROM documents").fetchone()
    return int(row[0]) if row else 0


def candidate_facts(db: Database, doc_ids: list[str]) -> pd.DataFrame:
    """What picks a cluster's canonical document: a curator kept it, the verdict in force keeps it, its
    words, its URL."""
    with db.read() as con:
        return con.execute(
            """
            SELECT d.doc_id, d.url, length(regexp_replace(d.text, '\\s*\\S+\\s*', 'x', 'g')) AS words,
                   coalesce(f.kept, true) AS kept, coalesce(c.kept, false) AS curator_kept
            FROM documents d LEFT JOIN verdicts_in_force f USING (doc_id)
            LEFT JOIN latest_decisions c ON c.doc_id = d.doc_id
            WHERE d.doc_id IN (SELECT unnest($ids))
            """,
            {"ids": doc_ids},
        ).df()


def replace_clusters(db: Database, method: str, frame: pd.DataFrame) -> int:
    """Replace the clusters of one method (`minhash`, `semantic:<retriever>`) with `frame`'s rows."""
    with db.write() as con:
        con.execute("DELETE FROM duplicate_clusters WHERE method = ?", [method])
        if len(frame):
            con.register("incoming_clusters", frame[list(CLUSTER_COLUMNS)])
            con.execute(
                f"INSERT INTO duplicate_clusters (method, {', '.join(CLUSTER_COLUMNS)}) "
                "SELECT $method, * FROM incoming_clusters",
                {"method": method},
            )
            con.unregister("incoming_clusters")
    return len(frame)


def cluster_rows(db: Database, method: str | None = None) -> pd.DataFrame:
    """Every member of every stored cluster with its title, url, collection and verdict in force, largest
    cluster first, the canonical document first within a cluster."""
    with db.read() as con:
        return con.execute(
            """
            SELECT k.method, k.cluster_id, k.doc_id, k.canonical, k.reason, k.similarity, d.title, d.url,
                   d.collection, f.kept, count(*) OVER (PARTITION BY k.method, k.cluster_id) AS size
            FROM duplicate_clusters k JOIN documents d USING (doc_id)
            LEFT JOIN verdicts_in_force f ON f.doc_id = k.doc_id
            WHERE $method IS NULL OR k.method = $method
            ORDER BY size DESC, k.method, k.cluster_id, k.canonical DESC, k.doc_id
            """,
            {"method": method},
        ).df()
