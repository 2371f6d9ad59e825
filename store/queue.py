"""Queues of documents picked for later work: the map's "queue for judging" is the `judging` queue.

A document is in a queue at most once; queueing it again keeps who added it first and when. Judging
sessions (and synthetic query generation for selected documents) read the `judging` queue with
`queued_documents` and take documents out with `dequeue` once they are done with them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from store.database import Database

JUDGING = "judging"


def queue_documents(db: Database, doc_ids: Sequence[str], added_by: str, queue: str = JUDGING) -> int:
    """Put documents in `queue`; returns how many were not in it yet (unknown ids are ignored)."""
    if not doc_ids:
        return 0
    with db.write() as con:
        row = con.execute(
            """
            INSERT INTO document_queue (doc_id, queue, added_by)
            SELECT DISTINCT d.doc_id, $queue, $added_by FROM documents d
            WHERE d.doc_id IN (SELECT unnest($ids::VARCHAR[]))
            ON CONFLICT DO NOTHING
            """,
            {"ids": list(doc_ids), "queue": queue, "added_by": added_by},
        ).fetchone()
    return int(row[0]) if row else 0


def queued_documents(db: Database, queue: str = JUDGING) -> pd.DataFrame:
    """doc_id, added_by and added_at of the documents in `queue`, oldest first."""
    with db.read() as con:
        return con.execute(
            "SELECT doc_id, added_by, added_at FROM document_queue WHERE queue = ? ORDER BY added_at, doc_id", [queue]
        ).df()


def dequeue(db: Database, doc_ids: Sequence[str], queue: str = JUDGING) -> int:
    """Take documents out of `queue`; returns how many were in it."""
    if not doc_ids:
        return 0
    with db.write() as con:
        row = con.execute(
            "DELETE FROM document_queue WHERE queue = $queue AND doc_id IN (SELECT unnest($ids::VARCHAR[]))",
            {"ids": list(doc_ids), "queue": queue},
        ).fetchone()
    return int(row[0]) if row else 0
