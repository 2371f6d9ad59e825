"""Judging sessions: what each annotator did in one sitting, and how long they spent judging."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from store import judgments as judgment_store

if TYPE_CHECKING:
    from curation.core import Workspace


class SessionSummary(BaseModel):
    """What one judging session did on one set."""

    session_id: str
    annotator: str
    query_set: str
    pairs_judged: int = Field(description="pairs whose judgment in force was made in this session")
    actions: int = Field(description="every row written, changes and undos included")
    started_at: datetime
    last_at: datetime
    seconds: float = Field(description="time spent judging; pauses count up to [judging] idle_seconds")


def sessions(ws: Workspace, session_id: str | None = None, annotator: str | None = None) -> list[SessionSummary]:
    """Summaries of every judging session (or one, or one annotator's), the most recent first."""
    idle = ws.settings.judging.idle_seconds
    frame = judgment_store.session_summaries(ws.db, idle_seconds=idle, session_id=session_id, annotator=annotator)
    return [SessionSummary(**row) for row in frame.to_dict("records")]
