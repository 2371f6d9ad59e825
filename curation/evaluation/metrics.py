"""Evaluate stored runs against judgments with ranx: metrics, paired significance, drill-down, report.

Graded and binary metrics are kept apart. NDCG and DCG are graded: a document's grade is its gain
(Järvelin & Kekäläinen; ranx `ndcg`). Every other metric (MRR, recall, MAP, precision, ...) is binary:
a document is relevant when its grade reaches the threshold (ranx's relevance level `-lN`; a metric
written with its own `-lN` keeps it). The evaluated queries are the set's queries with at least one
document at or above the threshold; a query a run did not answer scores 0 in that run.

A query's division is its own `division` metadata when it has one, otherwise the most common
division among its relevant documents, otherwise "(none)".
"""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from typing import TYPE_CHECKING

import orjson
import pandas as pd
from pydantic import BaseModel
from ranx import Qrels as RanxQrels
from ranx import Run as RanxRun
from ranx import compare

from curation.core import ProgressCallback, natural_key, normalize_division
from curation.evaluation.errors import EvaluationError
from curation.evaluation.qrels import Qrels, load_qrels, set_splits
from curation.evaluation.settings import TEST_NAMES, StatTest
from curation.retrieval import DEFAULT_DEPTH, UsedRun, ranking, resolve_run
from store import documents as document_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core import Workspace

GRADED_METRICS = frozenset({"ndcg", "dcg", "ndcg_burges", "dcg_burges"})
BINARY_METRICS = frozenset({"mrr", "map", "recall", "precision", "hits", "hit_rate", "f1", "r-precision", "bpref"})
_METRIC = re.compile(r"^(?P<name>[a-z_-]+?)(@(?P<k>\d+))?(-l(?P<level>\d+))?$")
NO_DIVISION = "(none)"
_NOTHING_FOUND = "\x00nothing found"
MAX_RETRIEVERS = 26  # each retriever gets a letter in reports
MIN_RELIABLE_QUERIES = 20  # fewer evaluated queries than this is warned about


class Significance(BaseModel):
    """A paired test between two retrievers on one metric, over the same queries; `p_value` is None (n/a)
    when there are too few queries for the test to mean anything, and `note` says why."""

    a: str
    b: str
    metric: str
    test: StatTest
    p_value: float | None
    significant: bool
    note: str | None = None


class SkippedQuery(BaseModel):
    """A query of the set (or of the chosen splits) that was not evaluated, and why."""

    query_id: str
    reason: str


class Evaluation(BaseModel):
    """Metrics of several retrievers on one query set, with per-query scores for drill-down."""

    query_set: str
    splits: list[str] | None = None
    judgments: str
    threshold: int
    test: StatTest
    max_p: float
    runs: dict[str, UsedRun]
    queries: int
    set_queries: int
    skipped_queries: list[SkippedQuery]
    warnings: list[str]
    metrics: dict[str, dict[str, float]]
    significance: list[Significance]
    per_query: dict[str, dict[str, dict[str, float]]]
    query_text: dict[str, str]
    divisions: dict[str, str]

    def summary(self) -> dict[str, object]:
        """What `eval --json` prints."""
        return self.model_dump(
            mode="json",
            include={
                "query_set", "splits", "judgments", "threshold", "runs", "queries", "set_queries",
                "skipped_queries", "warnings", "metrics", "significance",
            },
        )  # fmt: skip


def parse_metrics(text: str | list[str] | None, defaults: list[str]) -> list[str]:
    """Metric names from `ndcg@10,mrr@5` (or a list); unknown names are refused with the known ones."""
    names = [m.strip().lower() for m in (text.split(",") if isinstance(text, str) else text or []) if m.strip()]
    names = list(dict.fromkeys(names or defaults))
    for name in names:
        match = _METRIC.match(name)
        if not match or match["name"] not in GRADED_METRICS | BINARY_METRICS:
            known = ", ".join(sorted(GRADED_METRICS | BINARY_METRICS))
            raise EvaluationError(f"unknown metric {name!r}: use NAME or NAME@K with NAME one of {known}")
    return names


def is_graded(metric: str) -> bool:
    match = _METRIC.match(metric)
    return bool(match) and match["name"] in GRADED_METRICS


def run_depth(metrics: list[str]) -> int:
    """How deep a run must rank for these metrics: the largest cutoff, or a full run's depth when a metric
    (map, mrr) has none."""
    cutoffs = [_METRIC.match(m)["k"] for m in metrics]  # type: ignore[index]
    return max(int(k) if k else DEFAULT_DEPTH for k in cutoffs) if cutoffs else DEFAULT_DEPTH


def _ranx_name(metric: str, threshold: int) -> str:
    """The name ranx computes: binary metrics get the threshold as relevance level unless they carry one."""
    if is_graded(metric) or "-l" in metric:
        return metric
    return f"{metric}-l{threshold}"


def score_rankings(
    grades: dict[str, dict[str, int]], rankings: dict[str, dict[str, float]], metrics: list[str], threshold: int
) -> dict[str, float]:
    """Mean metrics of rankings made outside stored runs (a model being trained), scored as `evaluate_runs`
    scores runs: graded NDCG, binary metrics at `threshold`, a query without a ranking scoring 0."""
    from ranx import evaluate

    names = {m: _ranx_name(m, threshold) for m in metrics}
    answered = {q: docs or {_NOTHING_FOUND: 0.0} for q, docs in rankings.items()}
    answered |= {q: {_NOTHING_FOUND: 0.0} for q in grades if q not in answered}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unsafe cast from")
        scores = evaluate(RanxQrels.from_dict(grades), RanxRun.from_dict(answered), list(names.values()))
    if not isinstance(scores, dict):
        scores = {next(iter(names.values())): scores}
    return {m: float(scores[n]) for m, n in names.items()}


def evaluate_runs(
    ws: Workspace,
    retrievers: list[str],
    query_set: str,
    *,
    judgments: str | None = None,
    metrics: list[str] | None = None,
    threshold: int | None = None,
    test: StatTest | None = None,
    max_p: float | None = None,
    splits: list[str] | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """Score a run of each retriever on `query_set` (its `splits` only, when given) and test every pair.

    `retrievers` are registered retrievers (`NAME` or `NAME/MODE`), each scored on a run that matches it as it
    is now (made first when there is none, with `progress`), or stored runs asked for by name. Raises
    NoStoredRun, JudgmentsError when the judgments asked for do not exist, and EvaluationError for anything
    else that makes the evaluation empty.
    """
    settings = ws.settings.evaluation
    threshold = threshold or settings.threshold
    test = test or settings.test
    max_p = max_p or settings.max_p
    metrics = parse_metrics(metrics, settings.metrics)
    retrievers = list(dict.fromkeys(r.strip() for r in retrievers if r.strip()))
    if not retrievers:
        raise EvaluationError("name at least one retriever")
    if len(retrievers) > MAX_RETRIEVERS:
        raise EvaluationError(f"compare at most {MAX_RETRIEVERS} retrievers at once")

    qrels = load_qrels(ws, query_set, judgments, splits)
    queries = query_store.load_queries(ws.db, query_set)
    scope = _scope(ws, query_set, queries, splits)
    relevant = {q: docs for q, docs in qrels.relevant(threshold).items() if q in scope}
    skipped = _skipped(scope, qrels, relevant, threshold)
    if not relevant:
        raise EvaluationError(
            f"no query of set {query_set!r}{_in(splits)} has a document graded {threshold} or more by {qrels.source!r}"
        )
    depth = run_depth(metrics)
    runs = {r: resolve_run(ws, r, query_set, depth=depth, progress=progress) for r in retrievers}

    ranx_qrels = RanxQrels.from_dict({q: qrels.grades[q] for q in relevant})
    ranx_runs = []
    for retriever, used in runs.items():
        # ranx cannot hold a run without any document; one that found nothing scores 0 on every query.
        scores = {q: docs for q, docs in ranking(ws, used.run).items() if q in relevant}
        run = RanxRun.from_dict(scores or {query: {_NOTHING_FOUND: 0.0} for query in relevant}, name=retriever)
        ranx_runs.append(run.make_comparable(ranx_qrels))
    names = {m: _ranx_name(m, threshold) for m in metrics}
    testable = len(relevant) >= settings.min_test_queries
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="unsafe cast from")  # numba, inside ranx's metrics
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy on identical scores; the p-value is handled below
        report = compare(
            ranx_qrels,
            ranx_runs,
            list(names.values()),
            stat_test=test,
            n_permutations=settings.permutations if testable else 100,
            max_p=max_p,
        )

    significance = []
    for i, a in enumerate(retrievers):
        for b in retrievers[i + 1 :]:
            for metric, ranx_name in names.items():
                if not testable:
                    note = (
                        f"n/a: {len(relevant)} evaluated queries, a {TEST_NAMES[test]} needs at least "
                        f"{settings.min_test_queries} ([evaluation] min_test_queries)"
                    )
                    significance.append(
                        Significance(a=a, b=b, metric=metric, test=test, p_value=None, significant=False, note=note)
                    )
                    continue
                p_value = float(report.comparisons[a, b][ranx_name]["p_value"])
                # Identical per-query scores make the t statistic 0/0: no evidence of a difference.
                p_value = 1.0 if math.isnan(p_value) else p_value
                if test == "fisher":
                    # ranx gives count / n, 0 when no permutation reaches the observed difference; a finite
                    # sample cannot show p = 0, so report (count + 1) / (n + 1) (Phipson & Smyth, 2010).
                    n = settings.permutations
                    p_value = (round(p_value * n) + 1) / (n + 1)
                significance.append(
                    Significance(a=a, b=b, metric=metric, test=test, p_value=p_value, significant=p_value <= max_p)
                )
    texts = dict(zip(queries["query_id"], queries["text"], strict=True))
    order = sorted(relevant, key=natural_key)
    return Evaluation(
        query_set=query_set,
        splits=splits,
        judgments=qrels.source,
        threshold=threshold,
        test=test,
        max_p=max_p,
        runs=runs,
        queries=len(relevant),
        set_queries=len(scope),
        skipped_queries=skipped,
        warnings=_warnings(len(relevant), len(scope), qrels.source, runs),
        metrics={r: {m: float(report.results[r][n]) for m, n in names.items()} for r in retrievers},
        significance=significance,
        per_query={
            run.name: {m: {q: float(run.scores[n][q]) for q in order} for m, n in names.items()} for run in ranx_runs
        },
        query_text={q: texts[q] for q in order},
        divisions=_query_divisions(ws, queries, relevant),
    )


def _in(splits: list[str] | None) -> str:
    return f" (split {', '.join(splits)})" if splits else ""


def _scope(ws: Workspace, query_set: str, queries: pd.DataFrame, splits: list[str] | None) -> list[str]:
    """The queries an evaluation is about: the set's, or its chosen splits', in natural order."""
    if not splits:
        return sorted(queries["query_id"], key=natural_key)
    own = set_splits(ws, query_set)
    return sorted({q for s in splits for q in own.get(s, [])} & set(queries["query_id"]), key=natural_key)


def _skipped(scope: list[str], qrels: Qrels, relevant: dict[str, set[str]], threshold: int) -> list[SkippedQuery]:
    return [
        SkippedQuery(
            query_id=q,
            reason=f"no document graded {threshold} or more by {qrels.source}"
            if q in qrels.grades
            else f"no judgment from {qrels.source}",
        )
        for q in scope
        if q not in relevant
    ]


def _warnings(evaluated: int, in_scope: int, source: str, runs: dict[str, UsedRun]) -> list[str]:
    """What makes the figures less trustworthy than they look."""
    found = []
    if evaluated < MIN_RELIABLE_QUERIES:
        found.append(
            f"only {evaluated} queries were evaluated (fewer than {MIN_RELIABLE_QUERIES}): differences between "
            "retrievers are not reliable"
        )
    if evaluated * 2 < in_scope:
        found.append(
            f"only {evaluated} of the {in_scope} queries were evaluated (fewer than half): the rest have no relevant "
            f"judgment from {source}; another judgment source may cover more"
        )
    found += [f"{name}: {used.note}" for name, used in runs.items() if used.note]
    return found


def _query_divisions(ws: Workspace, queries: pd.DataFrame, relevant: dict[str, set[str]]) -> dict[str, str]:
    own = {}
    for query_id, metadata in zip(queries["query_id"], queries["metadata"], strict=True):
        data = orjson.loads(metadata) if isinstance(metadata, str) else {}
        division = data.get("division") if isinstance(data, dict) else None
        if query_id in relevant and isinstance(division, str) and division.strip():
            own[query_id] = normalize_division(division) or NO_DIVISION
    missing = [q for q in relevant if q not in own]
    doc_ids = sorted({d for q in missing for d in relevant[q]})
    fields = document_store.document_fields(ws.db, doc_ids, ("division",))
    doc_division = {d: v for d, v in zip(fields["doc_id"], fields["division"], strict=True) if isinstance(v, str)}
    for query_id in missing:
        counts = Counter(doc_division[d] for d in relevant[query_id] if d in doc_division)
        own[query_id] = min(counts, key=lambda v: (-counts[v], v)) if counts else NO_DIVISION
    return own
