"""The judging queue: every query of a set ranked by two sources, the queries they disagree on most first, and
the pooled documents an annotator sees for each (shuffled per annotator in blind mode)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from curation.core import ProgressCallback
from curation.judging.comparison import Overlap, PooledDoc, disagreement_order, pooled
from curation.judging.errors import JudgingError
from curation.judging.rankings import RankingSource, allowed_documents, rankings
from curation.retrieval import Ranked, retriever_version, set_version
from store import queries as query_store
from store import runs as run_store

if TYPE_CHECKING:
    from curation.core import Workspace


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


def build_queue(ws: Workspace, setup: JudgingSetup, *, p: float, progress: ProgressCallback | None = None) -> Queue:
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

    def part(offset: int) -> ProgressCallback | None:
        return None if progress is None else lambda done, _total: progress(offset + done, steps)

    a = rankings(ws, setup.a, queries, k=setup.k, restrict_to=allowed, progress=part(0))
    b = rankings(ws, setup.b, queries, k=setup.k, restrict_to=allowed, progress=part(len(queries)))
    return Queue(setup=setup, order=disagreement_order(queries, a, b, p=p), a=a, b=b)


def queue_version(ws: Workspace, setup: JudgingSetup) -> str:
    """What `build_queue(ws, setup)` would rank from, hashed: the set's queries, each source's state (a live
    retriever's fingerprint and vectors version, a stored run's creation time) and the documents allowed.

    A queue cached under this key is shared by every session (and judged against) until one of these changes;
    judgments do not change it.
    """
    digest = hashlib.blake2b(setup.model_dump_json().encode(), digest_size=16)
    digest.update(set_version(query_store.load_queries(ws.db, setup.query_set)).encode())
    runs = {r["name"]: r for r in run_store.list_runs(ws.db, setup.query_set)}
    for source in (setup.a, setup.b):
        if source.retriever:
            digest.update(retriever_version(ws, source.retriever).encode())
        else:
            digest.update(str(runs.get(str(source.run), {}).get("created_at")).encode())
    allowed = allowed_documents(ws, kept_only=setup.kept_only, division=setup.division)
    for doc_id in sorted(allowed) if allowed is not None else ():
        digest.update(doc_id.encode() + b"\x00")
    return digest.hexdigest()
