"""Runs: a retriever's ranking of every query of a set, made in batches, stored with what made it, and chosen for
evaluation, comparison and export only while it still stands for the retriever as it is.

A run records its retriever, mode and depth k, the retriever's fingerprint (settings and model revision), the
version of the vectors it searched and the version of the query set (a hash of its ids and texts). Asked for a
retriever, `resolve_run` takes the newest run matching all of these with k at least the depth asked, and makes a
fresh one otherwise. A run frozen by name (`run --name`, Compare's "Store run") is used as it is when asked for
by that name, and is reported as frozen with its date.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.retrieval.embed_job import current_fingerprint, table_name
from curation.retrieval.errors import NoStoredRun, SearchError
from curation.retrieval.search import RUN_MODES, Mode, Ranked, RunMode, Searcher
from curation.retrieval.tables import current_table
from store import queries as query_store
from store import runs as run_store
from store import vectors

if TYPE_CHECKING:
    from curation.core import Workspace

DEFAULT_DEPTH = 100  # documents an automatic run keeps per query


class RunSummary(BaseModel):
    """What `make_run` stored."""

    run: str
    queries: int
    k: int
    mode: str
    frozen: bool


class RunInfo(BaseModel):
    """A stored run: what made it, when, and whether a person froze it by name."""

    name: str
    retriever: str
    query_set: str
    mode: str
    k: int
    created_at: datetime
    frozen: bool
    queries: int
    fingerprint: str | None = None
    vectors_version: int | None = None
    set_version: str | None = None

    @property
    def label(self) -> str:
        """How pages list it: name, mode, depth, and frozen runs with their date."""
        kind = f"frozen {self.created_at:%Y-%m-%d %H:%M}" if self.frozen else f"made {self.created_at:%Y-%m-%d %H:%M}"
        return f"{self.name} ({self.retriever}/{self.mode}, top {self.k}, {kind})"


class UsedRun(BaseModel):
    """The run that stands for a retriever (or a run asked by name) in an evaluation, comparison or export."""

    asked: str
    run: str
    retriever: str
    mode: str
    k: int
    created_at: datetime
    frozen: bool
    made: bool
    note: str | None = None


def make_run(
    ws: Workspace,
    retriever: str,
    query_set: str,
    *,
    k: int = DEFAULT_DEPTH,
    name: str | None = None,
    mode: str = "vector",
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Rank the top `k` documents for every query of a set and store the run.

    A run given a `name` is frozen: it stays usable by that name whatever changes later. Without one it is
    the retriever's current run on the set (`RETRIEVER:SET`, `RETRIEVER/MODE:SET` for another mode than the
    retriever's first), replaced when a fresh one is made.
    """
    if mode not in RUN_MODES:
        raise SearchError(f"unknown mode {mode!r}; use one of {', '.join(RUN_MODES)}")
    queries = _queries(ws, query_set)
    searcher = Searcher.open(ws, retriever, mode)  # type: ignore[arg-type]
    ranked = searcher.rank_all(dict(zip(queries["query_id"], queries["text"], strict=True)), k=k, progress=progress)
    rows = [
        {"query_id": query_id, "rank": rank, "doc_id": doc_id, "score": score, "passage": passage}
        for query_id, hits in ranked.items()
        for rank, (doc_id, score, passage) in enumerate(hits, start=1)
    ]
    frozen = name is not None
    run = name or _automatic_name(ws, retriever, searcher.mode, query_set)
    frame = pd.DataFrame(rows, columns=["query_id", "rank", "doc_id", "score", "passage"])
    meta = {
        "name": run,
        "retriever": retriever,
        "query_set": query_set,
        "mode": searcher.mode,
        "k": k,
        "frozen": frozen,
        **_state(ws, retriever, searcher.mode, queries),
    }
    run_store.save_run(ws.db, meta, frame)
    return RunSummary(run=run, queries=len(queries), k=k, mode=searcher.mode, frozen=frozen)


def rank_queries(
    ws: Workspace,
    retriever: str,
    queries: dict[str, str],
    *,
    k: int,
    mode: Mode = "vector",
    restrict_to: Collection[str] | None = None,
    progress: ProgressCallback | None = None,
    exact: bool | None = None,
) -> dict[str, Ranked]:
    """Top `k` (doc_id, score, passage) per query id of {query_id: text}, encoded and searched in batches; exact
    float search for many queries, the index for a few (`exact=None`, see `Searcher.rank_all`)."""
    searcher = Searcher.open(ws, retriever, mode)
    return searcher.rank_all(queries, k=k, restrict_to=restrict_to, progress=progress, exact=exact)


def resolve_run(
    ws: Workspace,
    asked: str,
    query_set: str,
    *,
    depth: int = DEFAULT_DEPTH,
    progress: ProgressCallback | None = None,
) -> UsedRun:
    """The run that stands for `asked` on a set: a registered retriever (`NAME` in its first mode, or
    `NAME/MODE`) gets its newest run made under its current fingerprint, vectors and set version in that mode
    with k >= `depth`, or a fresh one (top max(depth, 100)); a stored run's own name gets that run as it is; a
    retriever no longer registered gets its newest run, said so in the note.
    """
    retriever, _, mode = asked.partition("/")
    runs = stored_runs(ws, query_set)
    if retriever in ws.settings.retrievers:
        current = current_run(ws, asked, query_set, depth=depth)
        if current is not None:
            return _used(asked, current, made=False)
        mode = _mode(ws, retriever, mode)
        made = make_run(ws, retriever, query_set, k=max(depth, DEFAULT_DEPTH), mode=mode, progress=progress)
        fresh = next(r for r in stored_runs(ws, query_set) if r.name == made.run)
        return _used(asked, fresh, made=True)
    by_name = next((r for r in runs if r.name == asked), None)
    if by_name is not None:
        return _used(asked, by_name, made=False, depth=depth)
    of_retriever = [r for r in runs if r.retriever == retriever and (not mode or r.mode == mode)]
    if of_retriever:
        note = f"{retriever!r} is not a registered retriever: its newest stored run is used as it is"
        return _used(asked, of_retriever[0], made=False, depth=depth, note=note)
    known = ", ".join(sorted({r.name for r in runs})) or "none"
    raise NoStoredRun(f"{asked!r} is neither a retriever nor a stored run of query set {query_set!r} (runs: {known})")


def current_run(ws: Workspace, asked: str, query_set: str, *, depth: int = DEFAULT_DEPTH) -> RunInfo | None:
    """The newest stored run of a registered retriever (`NAME` or `NAME/MODE`) that matches it as it is now
    (fingerprint, vectors, the set's queries, mode) with k >= `depth`; None when one must be made."""
    retriever, _, mode = asked.partition("/")
    mode = _mode(ws, retriever, mode)
    state = _state(ws, retriever, mode, _queries(ws, query_set))
    wanted = (state["fingerprint"], state["vectors_version"], state["set_version"])
    for run in stored_runs(ws, query_set):  # newest first
        versions = (run.fingerprint, run.vectors_version, run.set_version)
        if run.retriever == retriever and run.mode == mode and run.k >= depth and versions == wanted:
            return run
    return None


def _mode(ws: Workspace, retriever: str, mode: str) -> str:
    """The mode a run of `retriever` is made in: full-text for bm25, else the one asked (vector by default)."""
    return "fts" if ws.settings.retrievers[retriever].kind == "bm25" else (mode or "vector")


def ranking(ws: Workspace, run_name: str) -> dict[str, dict[str, float]]:
    """A stored run as {query_id: {doc_id: score}}, scored by stored rank so ties keep their stored order.

    A document met again further down (another of its passages) keeps its best rank.
    """
    frame = run_store.load_run(ws.db, run_name)
    result: dict[str, dict[str, float]] = {}
    for query_id, doc_id, rank in frame[["query_id", "doc_id", "rank"]].itertuples(index=False):
        result.setdefault(str(query_id), {}).setdefault(str(doc_id), 1.0 / int(rank))
    return result


def stored_runs(ws: Workspace, query_set: str | None = None) -> list[RunInfo]:
    """The stored runs (of one query set), newest first."""
    return [RunInfo.model_validate(r) for r in run_store.list_runs(ws.db, query_set)]


def set_version(queries: pd.DataFrame) -> str:
    """A query set's version: a hash of its query ids and texts (an edited or added query changes it)."""
    digest = hashlib.blake2b(digest_size=12)
    for query_id, text in sorted(zip(queries["query_id"], queries["text"], strict=True)):
        digest.update(f"{query_id}\x00{text}\x01".encode())
    return digest.hexdigest()


def _queries(ws: Workspace, query_set: str) -> pd.DataFrame:
    queries = query_store.load_queries(ws.db, query_set)
    if queries.empty:
        known = ", ".join(s["name"] for s in query_store.list_query_sets(ws.db)) or "none yet"
        raise SearchError(f"query set {query_set!r} has no queries (sets: {known})")
    return queries


def _state(ws: Workspace, retriever: str, mode: RunMode | str, queries: pd.DataFrame) -> dict[str, object]:
    """What a run of `retriever` made now depends on (the 1-bit copy follows the float vectors it is made from)."""
    return {
        "fingerprint": current_fingerprint(ws, retriever),
        "vectors_version": vectors.version(ws.vectors_uri, current_table(ws, retriever)),
        "set_version": set_version(queries),
    }


def retriever_version(ws: Workspace, retriever: str) -> str:
    """What a live ranking of `retriever` depends on besides its queries: its fingerprint and the version of
    the vectors it searches, or that it has no current vectors (a cache of its rankings or coverage keyed by
    this is current)."""
    try:
        state = _state(ws, retriever, "", pd.DataFrame({"query_id": [], "text": []}))
    except SearchError as exc:  # no vectors, or made under other settings: the table's own version says which
        return f"{current_fingerprint(ws, retriever)}@{vectors.version(ws.vectors_uri, table_name(retriever))}:{exc}"
    return f"{state['fingerprint']}@{state['vectors_version']}"


def _automatic_name(ws: Workspace, retriever: str, mode: str, query_set: str) -> str:
    """`RETRIEVER:SET` (or `RETRIEVER/MODE:SET`), unless a frozen run holds that name."""
    spec = ws.settings.retrievers[retriever]
    first_mode = "fts" if spec.kind == "bm25" else "vector"
    name = f"{retriever}:{query_set}" if mode == first_mode else f"{retriever}/{mode}:{query_set}"
    held = {r.name for r in stored_runs(ws, query_set) if r.frozen}
    return f"{name} (auto)" if name in held else name


def _used(asked: str, run: RunInfo, *, made: bool, depth: int | None = None, note: str | None = None) -> UsedRun:
    notes = [note] if note else []
    if run.frozen:
        notes.append(f"frozen run of {run.created_at:%Y-%m-%d %H:%M}, used as it is")
    if depth is not None and run.k < depth:
        notes.append(f"ranks only the top {run.k}: cutoffs past {run.k} see no more documents")
    return UsedRun(
        asked=asked,
        run=run.name,
        retriever=run.retriever,
        mode=run.mode,
        k=run.k,
        created_at=run.created_at,
        frozen=run.frozen,
        made=made,
        note="; ".join(notes) or None,
    )
