"""The judgments that count for evaluation and export: graded qrels {query_id: {doc_id: grade}}.

Judgments of a set come from one annotator (a curator's name or a benchmark's `benchmark:NAME`) or from
`all` curators. With `all`, the grades of every curator on a pair are averaged and rounded half up
(grades 1 and 2 give 2, grades 0 and 1 give 1, grades 0, 0 and 1 give 0); benchmark annotators are left
out of `all`, because a benchmark is a separate, fixed ground truth rather than one more opinion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from curation.core import is_benchmark
from store import judgments as judgment_store

if TYPE_CHECKING:
    from curation.core import Workspace

ALL_CURATORS = "all"


class JudgmentsError(ValueError):
    """The judgments asked for do not exist (the message says which ones do)."""


class Qrels(BaseModel):
    """Graded judgments of one set from one source; a grade 0 is an explicit "not relevant"."""

    source: str
    grades: dict[str, dict[str, int]]

    def relevant(self, threshold: int) -> dict[str, set[str]]:
        """Per query, the documents graded at or above `threshold` (queries with none are left out)."""
        found = {q: {d for d, g in docs.items() if g >= threshold} for q, docs in self.grades.items()}
        return {q: docs for q, docs in found.items() if docs}


def judgment_sources(ws: Workspace, query_set: str) -> list[str]:
    """What `--judgments` accepts for a set: `all` (when curators judged it), then each annotator."""
    annotators = sorted({r["annotator"] for r in judgment_store.judgment_counts(ws.db) if r["query_set"] == query_set})
    curators = [a for a in annotators if not is_benchmark(a)]
    return ([ALL_CURATORS] if curators else []) + annotators


def default_judgments(ws: Workspace, query_set: str) -> str:
    """Curators' judgments when the set has any, otherwise its benchmark's qrels."""
    sources = judgment_sources(ws, query_set)
    if not sources:
        raise JudgmentsError(f"query set {query_set!r} has no judgments; judge it or import a benchmark first")
    return sources[0]


def load_qrels(ws: Workspace, query_set: str, judgments: str | None = None) -> Qrels:
    """The grades in force for a set from `judgments` (an annotator, `all`, or the default when None)."""
    source = judgments or default_judgments(ws, query_set)
    frame = judgment_store.current_grades(ws.db, query_set)
    if source == ALL_CURATORS:
        frame = frame[~frame["annotator"].map(is_benchmark)]
        frame = frame.groupby(["query_id", "doc_id"], as_index=False)["grade"].mean()
        frame["grade"] = np.floor(frame["grade"] + 0.5)
    else:
        frame = frame[frame["annotator"] == source]
    if frame.empty:
        choices = ", ".join(judgment_sources(ws, query_set)) or "none"
        raise JudgmentsError(f"no grades from {source!r} on query set {query_set!r} (judgments there: {choices})")
    grades: dict[str, dict[str, int]] = {}
    for query_id, doc_id, grade in frame[["query_id", "doc_id", "grade"]].itertuples(index=False):
        grades.setdefault(str(query_id), {})[str(doc_id)] = int(grade)
    return Qrels(source=source, grades=grades)
