"""Notes curators keep on the queries they judge: one per query and curator, replaced when edited."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from store.database import Database


def save_note(db: Database, query_set: str, query_id: str, annotator: str, note: str, now: datetime) -> None:
    """Store (or replace) a curator's note on a query; an empty note removes it."""
    with db.write() as con:
        con.execute(
            "DELETE FROM query_notes WHERE query_set = ? AND query_id = ? AND annotator = ?",
            [query_set, query_id, annotator],
        )
        if note:
            con.execute("INSERT INTO query_notes VALUES (?, ?, ?, ?, ?)", [query_set, query_id, annotator, note, now])


def notes(db: Database, query_set: str, query_id: str | None = None) -> pd.DataFrame:
    """query_id, annotator, note, updated_at of a set's notes (or one query's), newest first."""
    with db.read() as con:
        return con.execute(
            "SELECT query_id, annotator, note, updated_at FROM query_notes WHERE query_set = ? "
            "AND (? IS NULL OR query_id = ?) ORDER BY updated_at DESC",
            [query_set, query_id, query_id],
        ).df()
