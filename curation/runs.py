"""Stored runs looked up by retriever: the ranking that evaluation and export read for a query set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store import runs as run_store

if TYPE_CHECKING:
    from curation.workspace import Workspace


class NoStoredRun(LookupError):
    """A name is neither a stored run of a query set nor a retriever that could make one."""


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
    from curation.search import make_run  # loads models: only when a run must be made

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
