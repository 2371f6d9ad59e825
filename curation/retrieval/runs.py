"""Runs: a retriever's ranking of every query of a set, made in batches, stored, and looked up for evaluation."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.retrieval.errors import NoStoredRun, SearchError
from curation.retrieval.search import MODES, Mode, Ranked, Searcher
from store import queries as query_store
from store import runs as run_store

if TYPE_CHECKING:
    from curation.core import Workspace


class RunSummary(BaseModel):
    """What `make_run` stored."""

    run: str
    queries: int
    k: int


def make_run(
    ws: Workspace,
    retriever: str,
    query_set: str,
    *,
    k: int = 100,
    name: str | None = None,
    mode: str = "vector",
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Rank the top `k` documents for every query of a set and store it as run `name`
    (default `retriever:query_set`), replacing a run of that name."""
    if mode not in MODES:
        raise SearchError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    queries = query_store.load_queries(ws.db, query_set)
    if queries.empty:
        known = ", ".join(s["name"] for s in query_store.list_query_sets(ws.db)) or "none yet"
        raise SearchError(f"query set {query_set!r} has no queries (sets: {known})")
    searcher = Searcher.open(ws, retriever, mode)  # type: ignore[arg-type]
    ranked = searcher.rank_all(dict(zip(queries["query_id"], queries["text"], strict=True)), k=k, progress=progress)
    rows = [
        {"query_id": query_id, "rank": rank, "doc_id": doc_id, "score": score, "passage": passage}
        for query_id, hits in ranked.items()
        for rank, (doc_id, score, passage) in enumerate(hits, start=1)
    ]
    run = name or f"{retriever}:{query_set}"
    frame = pd.DataFrame(rows, columns=["query_id", "rank", "doc_id", "score", "passage"])
    meta = {"name": run, "retriever": retriever, "query_set": query_set, "mode": searcher.mode, "k": k}
    run_store.save_run(ws.db, meta, frame)
    return RunSummary(run=run, queries=len(queries), k=k)


def rank_queries(
    ws: Workspace,
    retriever: str,
    queries: dict[str, str],
    *,
    k: int,
    mode: Mode = "vector",
    restrict_to: Collection[str] | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Ranked]:
    """Top `k` (doc_id, score, passage) per query id of {query_id: text}, the queries encoded in one batch."""
    return Searcher.open(ws, retriever, mode).rank_all(queries, k=k, restrict_to=restrict_to, progress=progress)


def ensure_run(ws: Workspace, retriever: str, query_set: str, k: int = 100) -> str:
    """The newest stored run of `retriever` on `query_set` (a run's own name is accepted too).

    A registered retriever without one is run first (top `k`), so evaluation and export can always
    be asked by retriever name; the run is stored and reused next time.
    """
    runs = run_store.list_runs(ws.db, query_set)
    for run in runs:  # newest first
        if run["name"] == retriever or run["retriever"] == retriever:
            return str(run["name"])
    if retriever not in ws.settings.retrievers:
        known = ", ".join(sorted({str(r["name"]) for r in runs})) or "none"
        raise NoStoredRun(
            f"{retriever!r} is neither a retriever nor a stored run of query set {query_set!r} (runs: {known})"
        )
    return make_run(ws, retriever, query_set, k=k).run


def ranking(ws: Workspace, run_name: str) -> dict[str, dict[str, float]]:
    """A stored run as {query_id: {doc_id: score}}, scored by stored rank so ties keep their stored order.

    A document met again further down (another of its passages) keeps its best rank.
    """
    frame = run_store.load_run(ws.db, run_name)
    result: dict[str, dict[str, float]] = {}
    for query_id, doc_id, rank in frame[["query_id", "doc_id", "rank"]].itertuples(index=False):
        result.setdefault(str(query_id), {}).setdefault(str(doc_id), 1.0 / int(rank))
    return result


def stored_runs(ws: Workspace, query_set: str | None = None) -> list[dict[str, Any]]:
    """The stored runs (of one query set), newest first: name, retriever, query_set, mode, k, created_at."""
    return run_store.list_runs(ws.db, query_set)
