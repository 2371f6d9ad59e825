"""Graded query-document judgments recorded one action at a time, undo, and what is in force.

Judgments are append-only (see `store.judgments`): a change of mind is a new row and undo is a row that
names the undone one, so nothing is ever lost and the annotator's latest live row is what counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, Field, model_validator

from curation.core import curator_name
from store import judgments as judgment_store

if TYPE_CHECKING:
    from curation.core import Workspace

JudgmentKind = Literal["grade", "cant_tell", "skip"]
GRADES = (0, 1, 2, 3)
GRADE_NAMES = {0: "not relevant", 1: "related", 2: "relevant", 3: "highly relevant"}


class Judgment(BaseModel):
    """One judging action: a grade 0-3, "can't tell" or "skip" on a query-document pair."""

    query_set: str
    query_id: str
    doc_id: str
    kind: JudgmentKind = "grade"
    grade: int | None = Field(None, ge=0, le=3)
    annotator: str
    session_id: str | None = None
    source: str | None = Field(None, description="the ranking the judgment was made from")

    @model_validator(mode="after")
    def _check(self) -> Judgment:
        self.annotator = curator_name(self.annotator, "judging")
        if (self.kind == "grade") != (self.grade is not None):
            raise ValueError("a grade judgment needs a grade 0-3, and only a grade judgment has one")
        return self


def record(ws: Workspace, judgment: Judgment) -> int:
    """Store one judgment (a change of mind is simply a newer one); returns its id."""
    return judgment_store.record_judgments(ws.db, [judgment.model_dump()])[0]


class Undone(BaseModel):
    """The judgment an undo took back."""

    judgment_id: int
    query_id: str
    doc_id: str


def undo(ws: Workspace, query_set: str, annotator: str, session_id: str | None = None) -> Undone | None:
    """Undo the annotator's latest live judgment made in the app on this set (None when there is none)."""
    undone = judgment_store.undo_latest(ws.db, query_set, curator_name(annotator, "judging"), session_id)
    return None if undone is None else Undone(**undone)


def current_judgments(
    ws: Workspace, query_set: str, *, query_id: str | None = None, annotator: str | None = None
) -> pd.DataFrame:
    """The judgments in force in a set (of one query, one annotator): query_id, doc_id, annotator, kind, grade."""
    return judgment_store.current_for_query(ws.db, query_set, query_id=query_id, annotator=annotator)


def label(kind: str, grade: float | None) -> str:
    """A judgment as people read it: `2 relevant`, `can't tell`, `skip`."""
    if kind == "grade" and grade is not None and not pd.isna(grade):
        return f"{int(grade)} {GRADE_NAMES[int(grade)]}"
    return {"cant_tell": "can't tell"}.get(kind, kind)


def history(ws: Workspace, query_set: str, query_id: str | None = None) -> pd.DataFrame:
    """Every row of the set (or query), undone and undo rows included: nothing is ever deleted."""
    return judgment_store.judgment_history(ws.db, query_set, query_id)
