"""Judging sessions: graded query-document judgments recorded one action at a time, undo, a queue that puts
the queries two retrievers disagree on first, session summaries and agreement between annotators.

Judgments are append-only (see `store.judgments`): a change of mind is a new row and undo is a row that
names the undone one, so nothing is ever lost and the annotator's latest live row is what counts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, Field, model_validator

from curation.benchmark import import_qrels, save_rejects
from curation.comparison import (
    Overlap,
    PooledDoc,
    RankingSource,
    allowed_documents,
    disagreement_order,
    pooled,
    rankings,
)
from curation.loaders import Reject
from curation.review import CuratorRequired
from curation.search import Ranked
from store import judgments as judgment_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.workspace import Workspace

JudgmentKind = Literal["grade", "cant_tell", "skip"]
GRADES = (0, 1, 2, 3)
GRADE_NAMES = {0: "not relevant", 1: "related", 2: "relevant", 3: "highly relevant"}
Weights = Literal["linear", "quadratic"]


class JudgingError(ValueError):
    """A judging request that cannot be served (the message says what to do)."""


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
        self.annotator = self.annotator.strip()
        if not self.annotator:
            raise CuratorRequired("enter your name as curator before judging")
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
    if not annotator.strip():
        raise CuratorRequired("enter your name as curator before judging")
    undone = judgment_store.undo_latest(ws.db, query_set, annotator.strip(), session_id)
    return None if undone is None else Undone(**undone)


class JudgingSetup(BaseModel):
    """What a judging session compares: two rankings of a set, their depth, and what documents may show."""

    query_set: str
    a: RankingSource
    b: RankingSource
    k: int = Field(10, ge=1, le=100)
    blind: bool = True
    kept_only: bool = False
    division: str | None = None

    @property
    def source(self) -> str:
        """The `source` stored with each judgment, e.g. `blind-pool:minilm/vector+bm25/fts@10`."""
        return f"{'blind-pool' if self.blind else 'pool'}:{self.a.key}+{self.b.key}@{self.k}"


class Queue(BaseModel):
    """A set's queries in judging order, with both rankings of each."""

    setup: JudgingSetup
    order: list[Overlap]
    a: dict[str, Ranked]
    b: dict[str, Ranked]

    def pool(self, query_id: str, annotator: str) -> list[PooledDoc]:
        """The documents to judge for a query: both top-k lists pooled, shuffled per query and annotator
        when blind (a reload, or another process, shows the same order)."""
        key = f"{self.setup.query_set}\x1f{query_id}\x1f{annotator}" if self.setup.blind else None
        return pooled(self.a.get(query_id, []), self.b.get(query_id, []), shuffle_key=key)


def build_queue(
    ws: Workspace, setup: JudgingSetup, *, p: float, progress: Callable[[int, int], None] | None = None
) -> Queue:
    """Rank every query of the set with both sources and order the queries by disagreement (lowest RBO first)."""
    frame = query_store.load_queries(ws.db, setup.query_set)
    if frame.empty:
        raise JudgingError(f"query set {setup.query_set!r} has no queries; import, type or generate some first")
    queries = dict(zip(frame["query_id"], frame["text"], strict=True))
    allowed = allowed_documents(ws, kept_only=setup.kept_only, division=setup.division)
    if allowed is not None and not allowed:
        raise JudgingError(
            "no document is kept" + (f" in {setup.division}" if setup.division else "")
            + ": run the relevancy filter (Filter & review page) or judge all documents"
        )  # fmt: skip
    steps = 2 * len(queries)

    def part(offset: int) -> Callable[[int, int], None] | None:
        return None if progress is None else lambda done, _total: progress(offset + done, steps)

    a = rankings(ws, setup.a, queries, k=setup.k, restrict_to=allowed, progress=part(0))
    b = rankings(ws, setup.b, queries, k=setup.k, restrict_to=allowed, progress=part(len(queries)))
    return Queue(setup=setup, order=disagreement_order(queries, a, b, p=p), a=a, b=b)


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


class Agreement(BaseModel):
    """Cohen's kappa of two annotators on the pairs both graded."""

    a: str
    b: str
    pairs: int
    kappa: float | None = Field(description="unweighted; None when undefined (both gave one same grade throughout)")
    weighted_kappa: float | None
    weights: Weights


def agreement(ws: Workspace, query_set: str, *, weights: Weights = "quadratic") -> list[Agreement]:
    """Cohen's kappa (scikit-learn) for every pair of annotators with pairs graded by both.

    Only grades count ("can't tell" and "skip" say nothing about relevance). The weighted kappa counts a
    disagreement of 0 against 3 as worse than 2 against 3 (`linear` or `quadratic` weights).
    """
    from sklearn.metrics import cohen_kappa_score

    counts = judgment_store.grade_pairs(ws.db, query_set)
    result = []
    for (a, b), part in counts.groupby(["a", "b"], sort=True):
        # One row per combination of grades, weighted by how many pairs got it: the same kappa as one row per pair.
        left, right, n = part["grade_a"].astype(int), part["grade_b"].astype(int), part["pairs"].to_numpy()

        def kappa(
            weighting: Weights | None, left: pd.Series = left, right: pd.Series = right, n: object = n
        ) -> float | None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 when both used a single grade
                value = float(cohen_kappa_score(left, right, labels=list(GRADES), weights=weighting, sample_weight=n))
            return None if pd.isna(value) else value

        result.append(
            Agreement(
                a=str(a),
                b=str(b),
                pairs=int(n.sum()),
                kappa=kappa(None),
                weighted_kappa=kappa(weights),
                weights=weights,
            )  # fmt: skip
        )
    return result


class JudgmentImport(BaseModel):
    """What `judgments import` stored."""

    query_set: str
    annotator: str
    judgments: int
    rejected: int
    rejects_file: str | None = None


def import_judgments(ws: Workspace, paths: list[Path], query_set: str, annotator: str) -> JudgmentImport:
    """Store qrels files (BEIR TSV or TREC) as an annotator's judgments, replacing that annotator's earlier
    import. Refused for an annotator who judged the set in the app, whose history must not be replaced."""
    annotator = annotator.strip()
    if not annotator:
        raise CuratorRequired("--annotator needs a name")
    if not query_store.query_ids(ws.db, query_set):
        raise JudgingError(f"query set {query_set!r} has no queries; import its queries first (`queries import`)")
    made_in_app = judgment_store.annotator_has_sessions(ws.db, query_set, annotator)
    if made_in_app:
        raise JudgingError(
            f"{annotator!r} has {made_in_app} judgments made in the app on {query_set!r}; "
            f"import under another name (e.g. {annotator}-import) so they are kept"
        )
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise JudgingError(f"no such file: {', '.join(missing)}")
    rejects: list[Reject] = []
    stored = import_qrels(ws, paths, query_set, annotator, rejects=rejects)
    rejects_file = save_rejects(ws.rejects_dir / f"judgments-{Path(paths[0]).stem}.csv", rejects)
    return JudgmentImport(
        query_set=query_set, annotator=annotator, judgments=stored, rejected=len(rejects), rejects_file=rejects_file
    )
