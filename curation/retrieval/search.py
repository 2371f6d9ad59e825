"""Search: one function for the CLI, the app and frozen runs; a document ranks by its best passage."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.retrieval.embed_job import open_encoder, table_name
from curation.retrieval.errors import SearchError
from embeddings.quantization import hamming_similarity, rescore, to_storage
from embeddings.registry import RetrieverSpec, fingerprint, get_spec
from store import documents as document_store
from store import vectors
from store.settings import VectorSettings

if TYPE_CHECKING:
    from curation.core import Workspace
    from embeddings.encoder import Encoder

Mode = Literal["vector", "fts", "hybrid"]
MODES: tuple[Mode, ...] = ("vector", "fts", "hybrid")
PASSAGES_PER_DOCUMENT = 4  # first guess of passages fetched per wanted document; grown when short
Ranked = list[tuple[str, float, str]]  # (doc_id, score, best passage), best first


class SearchHit(BaseModel):
    """One ranked document with the passage that matched best."""

    doc_id: str
    rank: int
    score: float
    title: str
    url: str | None
    division: str | None
    document_type: str | None
    collection: str | None
    passage: str


def search(
    ws: Workspace,
    retriever: str,
    query: str,
    *,
    k: int = 10,
    mode: Mode = "vector",
    where: str | None = None,
    restrict_to: Collection[str] | None = None,
) -> list[SearchHit]:
    """The top `k` documents for `query`.

    `where` is a filter on division, document_type, collection or doc_id (SQL, e.g.
    "division = 'Earth Science'"); `restrict_to` limits results to those doc ids (the documents the
    relevancy filter kept, say): small sets are a prefilter, large ones a postfilter.
    """
    if not query.strip():
        raise SearchError("the query is empty")
    searcher = Searcher.open(ws, retriever, mode)
    vector = searcher.encode([query])[0] if searcher.encoder else None
    ranked = searcher.ranked(query, vector, k=k, where=where, restrict_to=restrict_to)
    docs = {doc["doc_id"]: doc for doc in document_store.get_documents(ws.db, [doc_id for doc_id, _, _ in ranked])}
    hits = []
    for rank, (doc_id, score, passage) in enumerate(ranked, start=1):
        doc = docs.get(doc_id, {})
        facets = {key: doc.get(key) for key in ("url", "division", "document_type", "collection")}
        hits.append(
            SearchHit(doc_id=doc_id, rank=rank, score=score, title=doc.get("title") or "", passage=passage, **facets)
        )
    return hits


def filter_clause(**values: Collection[str]) -> str | None:
    """A `where` for search from chosen values per filter column, e.g. division=["Earth Science"]."""
    clauses = [vectors.in_list(column, chosen) for column, chosen in values.items() if chosen]
    unknown = set(values) - set(vectors.FILTER_COLUMNS)
    if unknown:
        raise SearchError(f"cannot filter on {', '.join(sorted(unknown))}")
    return " AND ".join(clauses) or None


@dataclass
class Searcher:
    """A retriever ready to search: its table checked, its model loaded when the mode needs one."""

    ws: Workspace
    retriever: str
    spec: RetrieverSpec
    table: str
    mode: Mode
    encoder: Encoder | None

    @classmethod
    def open(cls, ws: Workspace, retriever: str, mode: Mode) -> Searcher:
        spec = get_spec(ws.settings.retrievers, retriever)
        if spec.kind == "bm25":
            if mode == "hybrid":
                raise SearchError(f"{retriever!r} is full-text only; hybrid search needs a dense retriever")
            mode = "fts"
        table = current_table(ws, retriever)
        encoder = open_encoder(ws, retriever) if mode != "fts" else None
        return cls(ws, retriever, spec, table, mode, encoder)

    def encode(self, texts: list[str]) -> np.ndarray:
        assert self.encoder is not None
        return self.encoder.encode_queries(texts)

    def rank_all(
        self,
        queries: dict[str, str],
        *,
        k: int,
        restrict_to: Collection[str] | None = None,
        progress: ProgressCallback | None = None,
    ) -> dict[str, Ranked]:
        if not queries:
            return {}
        texts = list(queries.values())
        query_vectors = self.encode(texts) if self.encoder else [None] * len(texts)
        result: dict[str, Ranked] = {}
        for done, (query_id, text, vector) in enumerate(zip(queries, texts, query_vectors, strict=True), start=1):
            result[query_id] = self.ranked(text, vector, k=k, restrict_to=restrict_to)
            if progress:
                progress(done, len(queries))
        return result

    def ranked(
        self,
        query: str,
        vector: np.ndarray | None,
        *,
        k: int,
        where: str | None = None,
        restrict_to: Collection[str] | None = None,
    ) -> Ranked:
        """Best passage per document, `k` documents; fetches more passages until k documents are found."""
        allowed = None if restrict_to is None else set(restrict_to)
        if allowed is not None and not allowed:
            return []
        clauses = [f"({where})"] if where else []
        prefilter = allowed is not None and len(allowed) <= self.ws.settings.vectors.prefilter_max_ids
        if prefilter and allowed is not None:
            clauses.append(vectors.in_list("doc_id", sorted(allowed)))
        condition = " AND ".join(clauses) or None
        limit = k * PASSAGES_PER_DOCUMENT
        while True:
            try:
                rows = self._fetch(query, vector, limit, condition)
            except ValueError as exc:
                if not where:
                    raise
                raise SearchError(f"invalid filter {where!r}: {exc}") from None
            best: dict[str, tuple[float, str]] = {}
            for doc_id, score, passage in rows:
                if doc_id not in best and (allowed is None or prefilter or doc_id in allowed):
                    best[doc_id] = (score, passage)
            if len(best) >= k or len(rows) < limit:
                return [(doc_id, score, passage) for doc_id, (score, passage) in list(best.items())[:k]]
            limit *= 4

    def _fetch(self, query: str, vector: np.ndarray | None, limit: int, where: str | None) -> Ranked:
        """`limit` passages, best first, with a similarity score (larger is better)."""
        settings = self.ws.settings.vectors
        if self.mode == "fts":
            found = vectors.full_text(self.ws.vectors_dir, self.table, query, limit=limit, where=where)
            return _rows(found, found["_score"].to_numpy())
        assert vector is not None and self.spec.metric is not None
        if self.mode == "hybrid":
            stored = to_storage(vector[None, :], self.spec.precision)[0]
            found = vectors.hybrid(
                self.ws.vectors_dir, self.table, stored, query,
                limit=limit, where=where, metric=self.spec.metric, settings=settings,
            )  # fmt: skip
            return _rows(found, found["_relevance_score"].to_numpy())
        return nearest_passages(
            self.ws.vectors_dir, self.table, vector, binary=self.spec.precision == "binary",
            limit=limit, where=where, settings=settings,
        )  # fmt: skip


def nearest_passages(
    vectors_dir: Path,
    table: str,
    vector: np.ndarray,
    *,
    binary: bool,
    limit: int,
    where: str | None,
    settings: VectorSettings,
) -> Ranked:
    """The `limit` passages nearest a float query vector: cosine for float tables; for binary ones,
    Hamming distance, then (with `binary_rescore`) the float query re-scores the top candidates."""
    rescored = binary and settings.binary_rescore > 0
    found = vectors.nearest(
        vectors_dir, table, to_storage(vector[None, :], "binary")[0] if binary else vector,
        limit=limit * (settings.binary_rescore if rescored else 1), where=where,
        metric="hamming" if binary else "cosine", settings=settings, with_vectors=rescored,
    )  # fmt: skip
    if not binary:
        return _rows(found, 1.0 - found["_distance"].to_numpy())
    if not rescored:
        return _rows(found, hamming_similarity(found["_distance"].to_numpy(), vector.shape[0]))
    packed = found["vector"].combine_chunks().flatten().to_numpy().reshape(found.num_rows, -1)
    return _rows(found, rescore(vector, packed, vector.shape[0]))[:limit]


def _rows(found: pa.Table, scores: np.ndarray) -> Ranked:
    """(doc_id, score, passage) of LanceDB results, best first."""
    doc_ids = found["doc_id"].to_pylist()
    texts = found["text"].to_pylist()
    order = np.argsort(-scores, kind="stable")
    return [(doc_ids[i], float(scores[i]), texts[i]) for i in order]


def current_table(ws: Workspace, retriever: str) -> str:
    """The vector table of a retriever whose vectors exist and match its settings; SearchError saying what
    to run otherwise."""
    table = table_name(retriever)
    built = vectors.fingerprint(ws.vectors_dir, table)
    if built is None:
        raise SearchError(
            f"retriever {retriever!r} has no vectors yet; run `sde-workbench embed --retriever {retriever}` "
            "or use the Embed page"
        )
    if built != fingerprint(get_spec(ws.settings.retrievers, retriever)):
        raise SearchError(
            f"retriever {retriever!r} changed in workbench.toml since its vectors were made; "
            f"run `sde-workbench embed --retriever {retriever}` to rebuild them"
        )
    return table


def searchable_retrievers(ws: Workspace) -> list[str]:
    """Retrievers whose vectors exist and match their current settings."""
    return [
        name
        for name, spec in ws.settings.retrievers.items()
        if vectors.fingerprint(ws.vectors_dir, table_name(name)) == fingerprint(spec)
    ]
