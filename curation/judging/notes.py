"""A curator's note on a query of a set: what the query asks for, why it is hard to judge, what to check."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from curation.core import curator_name
from store import query_notes

if TYPE_CHECKING:
    from curation.core import Workspace


def save_query_note(ws: Workspace, query_set: str, query_id: str, annotator: str, note: str) -> None:
    """Keep `note` as `annotator`'s note on the query (an empty note removes it); CuratorRequired without a name."""
    who = curator_name(annotator, "keeping notes")
    query_notes.save_note(ws.db, query_set, query_id, who, note.strip(), datetime.now())


def query_notes_of(ws: Workspace, query_set: str, query_id: str | None = None) -> pd.DataFrame:
    """The notes on a set's queries (or on one query): query_id, annotator, note, updated_at, newest first."""
    return query_notes.notes(ws.db, query_set, query_id)
