"""Where a ranking comes from: a live retriever (searched now, in one of its modes) or a stored run (frozen
with `make_run`), so a retriever can be compared with itself as it ranked last week."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.retrieval import MODES, Mode, Ranked, rank_queries, searchable_retrievers
from store import documents as document_store
from store import runs as run_store

if TYPE_CHECKING:
    from curation.core import Workspace

RUN_PREFIX = "run:"


class RankingSource(BaseModel):
    """Where a ranking comes from: a retriever searched live in a mode, or a stored run."""

    retriever: str | None = None
    mode: Mode = "vector"
    run: str | None = None

    @property
    def key(self) -> str:
        """How judgments record the ranking they were made from: `RETRIEVER/MODE` or `run:NAME`."""
        return f"{RUN_PREFIX}{self.run}" if self.run else f"{self.retriever}/{self.mode}"


def ranking_sources(ws: Workspace, query_set: str | None = None) -> list[RankingSource]:
    """Every live retriever (bm25 in fts mode, dense ones in vector and hybrid mode), then the set's stored runs."""
    live = [
        RankingSource(retriever=name, mode=mode)
        for name in searchable_retrievers(ws)
        for mode in (("fts",) if ws.settings.retrievers[name].kind == "bm25" else tuple(m for m in MODES if m != "fts"))
    ]
    runs = [RankingSource(run=r["name"]) for r in run_store.list_runs(ws.db, query_set)] if query_set else []
    return live + runs


def allowed_documents(ws: Workspace, *, kept_only: bool, division: str | None) -> set[str] | None:
    """The documents rankings may show: those the relevancy filter keeps and/or of one division (None: all)."""
    if not kept_only and division is None:
        return None
    return set(document_store.sample_doc_ids(ws.db, None, 0, division=division, kept_only=kept_only))


def rankings(
    ws: Workspace,
    source: RankingSource,
    queries: dict[str, str],
    *,
    k: int,
    restrict_to: Collection[str] | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Ranked]:
    """Top `k` (doc_id, score, passage) per query id of {query_id: text}, live or from the stored run."""
    if source.retriever:
        return rank_queries(
            ws, source.retriever, queries, k=k, mode=source.mode, restrict_to=restrict_to, progress=progress
        )
    frame = run_store.load_run(ws.db, str(source.run))
    allowed = None if restrict_to is None else set(restrict_to)
    result: dict[str, Ranked] = {query_id: [] for query_id in queries}
    for query_id, doc_id, score, passage in frame[["query_id", "doc_id", "score", "passage"]].itertuples(index=False):
        ranked = result.get(query_id)
        if ranked is None or len(ranked) >= k or (allowed is not None and doc_id not in allowed):
            continue
        if all(doc_id != seen for seen, _, _ in ranked):  # a document met again (another passage) keeps its best rank
            ranked.append((doc_id, float(score), passage or ""))
    if progress:
        progress(len(queries), len(queries))
    return result
