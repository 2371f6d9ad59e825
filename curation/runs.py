"""Stored runs looked up by retriever: the ranking that evaluation and export read for a query set."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store import runs as run_store

if TYPE_CHECKING:
    from curation.workspace import Workspace


class NoStoredRun(LookupError):
    """A retriever has no stored run for a query set (the message says how to make one)."""


def latest_run(ws: Workspace, retriever: str, query_set: str) -> str:
    """The newest stored run of `retriever` on `query_set`; a run's own name is accepted too."""
    runs = run_store.list_runs(ws.db, query_set)
    for run in runs:  # newest first
        if run["name"] == retriever or run["retriever"] == retriever:
            return str(run["name"])
    raise NoStoredRun(
        f"no stored run of {retriever!r} for query set {query_set!r}: "
        f"run `sde-workbench run --retriever {retriever} --queries {query_set}` first"
    )


def ranking(ws: Workspace, run_name: str) -> dict[str, dict[str, float]]:
    """A stored run as {query_id: {doc_id: score}}, scored by stored rank so ties keep their stored order.

    A document met again further down (another of its passages) keeps its best rank.
    """
    frame = run_store.load_run(ws.db, run_name)
    result: dict[str, dict[str, float]] = {}
    for query_id, doc_id, rank in frame[["query_id", "doc_id", "rank"]].itertuples(index=False):
        result.setdefault(str(query_id), {}).setdefault(str(doc_id), 1.0 / int(rank))
    return result
