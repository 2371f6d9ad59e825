"""The judgments that count for evaluation and export: graded qrels {query_id: {doc_id: grade}}.

Judgments of a set come from one annotator (a curator's name or a benchmark's `benchmark:NAME`) or from
`all` curators. With `all`, the grades of every curator on a pair are averaged and rounded half up
(grades 1 and 2 give 2, grades 0 and 1 give 1, grades 0, 0 and 1 give 0); benchmark annotators are left
out of `all`, because a benchmark is a separate, fixed ground truth rather than one more opinion.

A set imported from a BEIR folder has the splits of its qrels files: each `qrels/<name>.tsv` is a split
(train, dev, test, or task names such as qa_pairs), and a query belongs to the splits its judgments come
from. Qrels of chosen splits hold only those queries, and only the benchmark judgments read from those files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from curation.core import BENCHMARK_PREFIX, is_benchmark, natural_key, qrels_source
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
    splits: list[str] | None = None

    def relevant(self, threshold: int) -> dict[str, set[str]]:
        """Per query, the documents graded at or above `threshold` (queries with none are left out)."""
        found = {q: {d for d, g in docs.items() if g >= threshold} for q, docs in self.grades.items()}
        return {q: docs for q, docs in found.items() if docs}


def judgment_sources(ws: Workspace, query_set: str) -> list[str]:
    """What `--judgments` accepts for a set: `all` (when curators judged it), then each annotator."""
    annotators = sorted(a for a in judged_queries(ws, query_set) if a != ALL_CURATORS)
    curators = [a for a in annotators if not is_benchmark(a)]
    return ([ALL_CURATORS] if curators else []) + annotators


def judged_queries(ws: Workspace, query_set: str) -> dict[str, int]:
    """How many queries of the set each judgment source graded (`all`: any curator), `all` first, then by name."""
    counts = judgment_store.judged_queries(ws.db, query_set, BENCHMARK_PREFIX)
    curators = counts.pop("", 0)
    return ({ALL_CURATORS: curators} if curators else {}) | dict(sorted(counts.items()))


def default_judgments(ws: Workspace, query_set: str) -> str:
    """The source that graded the most queries of the set (ties: all curators, then by name)."""
    counts = judged_queries(ws, query_set)
    if not counts:
        raise JudgmentsError(f"query set {query_set!r} has no judgments; judge it or import a benchmark first")
    return min(counts, key=lambda source: (-counts[source], source != ALL_CURATORS, source))


def set_splits(ws: Workspace, query_set: str) -> dict[str, list[str]]:
    """The set's own splits from the qrels files of its benchmark import ({split: query ids}, ids in natural
    order); empty when it has none."""
    found = judgment_store.qrels_file_queries(ws.db, query_set, BENCHMARK_PREFIX)
    return {split: sorted(ids, key=natural_key) for split, ids in sorted(found.items())}


def parse_splits(ws: Workspace, query_set: str, text: str | list[str] | None) -> list[str] | None:
    """Split names from `test` or `qa_pairs,search_pairs` (or a list), checked against the set's splits."""
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text or []) if s.strip()]
    if not names:
        return None
    known = set_splits(ws, query_set)
    unknown = [s for s in names if s not in known]
    if unknown:
        have = ", ".join(known) or "none (it was not imported from qrels files)"
        raise JudgmentsError(f"query set {query_set!r} has no split {unknown[0]!r}; its splits: {have}")
    return list(dict.fromkeys(names))


def load_qrels(ws: Workspace, query_set: str, judgments: str | None = None, splits: list[str] | None = None) -> Qrels:
    """The grades in force for a set from `judgments` (an annotator, `all`, or the default when None), of the
    queries of `splits` only when given (see the module doc)."""
    source = judgments or default_judgments(ws, query_set)
    frame = judgment_store.current_grades(ws.db, query_set)
    if splits:
        own = set_splits(ws, query_set)
        members = {q for s in splits for q in own.get(s, [])}
        split_files = {qrels_source(f"{s}.tsv") for s in own}
        chosen_files = {qrels_source(f"{s}.tsv") for s in splits}
        from_other_split = frame["source"].isin(split_files - chosen_files) & frame["annotator"].map(is_benchmark)
        frame = frame[frame["query_id"].isin(members) & ~from_other_split]
    if source == ALL_CURATORS:
        frame = frame[~frame["annotator"].map(is_benchmark)]
        frame = frame.groupby(["query_id", "doc_id"], as_index=False)["grade"].mean()
        frame["grade"] = np.floor(frame["grade"] + 0.5)
    else:
        frame = frame[frame["annotator"] == source]
    if frame.empty:
        choices = ", ".join(judgment_sources(ws, query_set)) or "none"
        where = f" in split {', '.join(splits)}" if splits else ""
        raise JudgmentsError(
            f"no grades from {source!r} on query set {query_set!r}{where} (judgments there: {choices})"
        )
    grades: dict[str, dict[str, int]] = {}
    for query_id, doc_id, grade in frame[["query_id", "doc_id", "grade"]].itertuples(index=False):
        grades.setdefault(str(query_id), {})[str(doc_id)] = int(grade)
    return Qrels(source=source, grades=grades, splits=splits)
