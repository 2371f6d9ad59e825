"""Search: one function for the CLI, the app and frozen runs; a document ranks by its best passage."""

from __future__ import annotations

import math
import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.retrieval.embed_job import open_encoder
from curation.retrieval.errors import SearchError
from curation.retrieval.fusion import reciprocal_rank_fusion
from curation.retrieval.tables import SIGN_MODE, current_table, sign_table
from embeddings.quantization import hamming_similarity, rescore, to_storage
from embeddings.registry import RetrieverSpec, get_spec
from store import documents as document_store
from store import vectors
from store.settings import VectorSettings

if TYPE_CHECKING:
    from curation.core import Workspace
    from embeddings.encoder import Encoder

Mode = Literal["vector", "fts", "hybrid"]
MODES: tuple[Mode, ...] = ("vector", "fts", "hybrid")
RunMode = Literal["vector", "fts", "hybrid", "binary"]
RUN_MODES: tuple[RunMode, ...] = (*MODES, SIGN_MODE)
EXACT_BLOCK_ROWS = 32_768  # passages scored per matrix product in exact search
EXACT_MIN_QUERIES = 16  # fewer queries than this are searched through the index (see `Searcher.rank_all`)
PASSAGES_PER_DOCUMENT = 4  # first guess of passages fetched per wanted document; grown when short
FULL_TEXT_THREADS = min(4, os.cpu_count() or 1)  # full-text searches of a batch run at once (LanceDB's own threads)
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
    vector = searcher.encode([query]) if searcher.encoder else None
    ranked = searcher.ranked_many([query], vector, k=k, where=where, restrict_to=restrict_to)[0]
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
    """A retriever ready to search: its table opened once, its model loaded when the mode needs one.

    Mode `binary` searches the 1-bit copy of a dense float retriever's vectors by Hamming distance, as SDE
    serves a binary index (see `sign_table`); it is offered to runs and evaluation, not to live search.
    """

    ws: Workspace
    retriever: str
    spec: RetrieverSpec
    table: str
    mode: RunMode
    encoder: Encoder | None
    passages: vectors.Passages
    per_document: int

    @classmethod
    def open(cls, ws: Workspace, retriever: str, mode: RunMode) -> Searcher:
        spec = get_spec(ws.settings.retrievers, retriever)
        if spec.kind == "bm25":
            if mode in ("hybrid", SIGN_MODE):
                raise SearchError(f"{retriever!r} is full-text only; {mode} search needs a dense retriever")
            mode = "fts"
        table = sign_table(ws, retriever) if mode == SIGN_MODE else current_table(ws, retriever)
        encoder = open_encoder(ws, retriever) if mode != "fts" else None
        passages = vectors.passage_count(ws.vectors_uri, table)
        documents = vectors.document_count(ws.vectors_uri, table) or 1
        # Passages fetched per wanted document: exactly one where every document is one passage.
        per_document = 1 if passages <= documents else min(PASSAGES_PER_DOCUMENT, math.ceil(2 * passages / documents))
        return cls(ws, retriever, spec, table, mode, encoder, vectors.Passages(ws.vectors_uri, table), per_document)

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
        exact: bool | None = True,
    ) -> dict[str, Ranked]:
        """Top `k` per query id of {query_id: text}: queries encoded and searched in batches of
        `[vectors] query_batch`, progress reported after each batch. Float vectors are searched exactly (one scan
        of the table per batch: what runs and evaluation use); with `exact=None`, only when there are at least
        `EXACT_MIN_QUERIES` queries, else one index search each (a page's query or two: a scan of a large table
        costs seconds, an index search milliseconds)."""
        ids = list(queries)
        if exact is None:
            exact = len(ids) >= EXACT_MIN_QUERIES
        step = self.ws.settings.vectors.query_batch
        result: dict[str, Ranked] = {}
        if progress:
            progress(0, len(ids))
        for start in range(0, len(ids), step):
            chunk = ids[start : start + step]
            texts = [queries[q] for q in chunk]
            query_vectors = self.encode(texts) if self.encoder else None
            ranked = self.ranked_many(texts, query_vectors, k=k, restrict_to=restrict_to, exact=exact)
            result.update(zip(chunk, ranked, strict=True))
            if progress:
                progress(len(result), len(ids))
        return result

    def ranked_many(
        self,
        texts: list[str],
        query_vectors: np.ndarray | None,
        *,
        k: int,
        where: str | None = None,
        restrict_to: Collection[str] | None = None,
        exact: bool = False,
    ) -> list[Ranked]:
        """Best passage per document, `k` documents per query; fetches more passages for the queries whose
        passages fell on fewer than k documents. With `exact` (a run's batch of queries), float vectors are
        searched exactly by one scan of the table for the whole batch instead of the ANN index."""
        allowed = None if restrict_to is None else set(restrict_to)
        if allowed is not None and not allowed:
            return [[] for _ in texts]
        clauses = [f"({where})"] if where else []
        prefilter = allowed is not None and len(allowed) <= self.ws.settings.vectors.prefilter_max_ids
        if prefilter and allowed is not None:
            clauses.append(vectors.in_list("doc_id", sorted(allowed)))
        condition = " AND ".join(clauses) or None
        result: list[Ranked] = [[] for _ in texts]
        pending = list(range(len(texts)))
        limit = k * self.per_document
        while pending:
            try:
                if exact and not where and self.mode == "vector" and self.spec.precision != "binary":
                    assert query_vectors is not None
                    fetched = exact_nearest(self.passages, query_vectors[pending], limit=limit, allowed=allowed)
                else:
                    fetched = self._fetch(texts, query_vectors, pending, limit, condition)
            except ValueError as exc:
                if not where:
                    raise
                raise SearchError(f"invalid filter {where!r}: {exc}") from None
            short = []
            for index, rows in zip(pending, fetched, strict=True):
                best: dict[str, tuple[float, str]] = {}
                for doc_id, score, passage in rows:
                    if doc_id not in best and (allowed is None or prefilter or doc_id in allowed):
                        best[doc_id] = (score, passage)
                result[index] = [(doc_id, score, passage) for doc_id, (score, passage) in list(best.items())[:k]]
                if len(best) < k and len(rows) >= limit:
                    short.append(index)
            pending, limit = short, limit * 4
        return result

    def _fetch(
        self, texts: list[str], query_vectors: np.ndarray | None, indices: list[int], limit: int, where: str | None
    ) -> list[Ranked]:
        """`limit` passages per query of `indices`, best first, with a similarity score (larger is better)."""
        if self.mode == "fts":
            return self._full_text([texts[i] for i in indices], limit, where)
        assert query_vectors is not None
        if self.mode == "hybrid":  # LanceDB's hybrid search, for the whole batch: its vector side in one call
            nearest = self._nearest(query_vectors[indices], limit, where)
            words = self._full_text([texts[i] for i in indices], limit, where)
            return [reciprocal_rank_fusion(v, w)[:limit] for v, w in zip(nearest, words, strict=True)]
        return self._nearest(query_vectors[indices], limit, where)

    def _nearest(self, query_vectors: np.ndarray, limit: int, where: str | None) -> list[Ranked]:
        """The batch's nearest passages in one index search (Hamming, re-scored, for 1-bit tables)."""
        settings = self.ws.settings.vectors
        rescore_factor = settings.binary_rescore if self.spec.precision == "binary" else 0
        return nearest_passages(
            self.passages, query_vectors, binary=self.mode == SIGN_MODE or self.spec.precision == "binary",
            rescore_factor=rescore_factor, limit=limit, where=where, settings=settings,
        )  # fmt: skip

    def _full_text(self, texts: list[str], limit: int, where: str | None) -> list[Ranked]:
        """`limit` passages per text by BM25, best first; LanceDB searches on its own threads, so a batch's
        searches are sent a few at a time."""
        with ThreadPoolExecutor(max_workers=FULL_TEXT_THREADS) as pool:
            found = list(pool.map(lambda text: self.passages.full_text(text, limit=limit, where=where), texts))
        return [_rows(f, f["_score"].to_numpy()) for f in found]


def nearest_passages(
    passages: vectors.Passages,
    query_vectors: np.ndarray,
    *,
    binary: bool,
    rescore_factor: int,
    limit: int,
    where: str | None,
    settings: VectorSettings,
) -> list[Ranked]:
    """The `limit` passages nearest each float query vector, searched in one call: cosine for float tables;
    for binary ones, Hamming distance, then (with `rescore_factor`) the float query re-scores the top
    candidates."""
    rescored = binary and rescore_factor > 0
    found = passages.nearest(
        to_storage(query_vectors, "binary") if binary else query_vectors,
        limit=limit * (rescore_factor if rescored else 1), where=where,
        metric="hamming" if binary else "cosine", settings=settings, with_vectors=rescored,
    )  # fmt: skip
    owner = found["query_index"].to_numpy()
    distances = found["_distance"].to_numpy()
    packed = found["vector"].combine_chunks().flatten().to_numpy().reshape(found.num_rows, -1) if rescored else None
    dimension = query_vectors.shape[1]
    results = []
    for index, vector in enumerate(query_vectors):
        rows = np.flatnonzero(owner == index)
        if not binary:
            scores = 1.0 - distances[rows]
        elif packed is None:
            scores = hamming_similarity(distances[rows], dimension)
        else:
            scores = rescore(vector, packed[rows], dimension)
        results.append(_rows(found.take(rows), scores)[:limit])
    return results


def exact_nearest(
    passages: vectors.Passages, query_vectors: np.ndarray, *, limit: int, allowed: set[str] | None
) -> list[Ranked]:
    """The `limit` passages of highest cosine similarity to each query, exactly: the table is read once, block by
    block, for all the queries (a batch of a run), each block scored by one matrix product and merged into a
    running top `limit`. For many queries this is faster than one index search each, and it is exact, as the
    evaluators of MTEB and sentence-transformers are."""
    queries = _unit(np.asarray(query_vectors, dtype=np.float32))
    count = len(queries)
    scores = np.empty((count, 0), dtype=np.float32)
    doc_ids = np.empty((count, 0), dtype=object)
    texts = np.empty((count, 0), dtype=object)
    for batch in passages.scan(("doc_id", "text", "vector"), batch_rows=EXACT_BLOCK_ROWS):
        ids = np.array(batch["doc_id"].to_pylist(), dtype=object)
        keep = np.fromiter((d in allowed for d in ids), bool, len(ids)) if allowed is not None else slice(None)
        column = batch["vector"]
        block = column.flatten().to_numpy(zero_copy_only=False).reshape(len(batch), column.type.list_size)[keep]
        if not len(block):
            continue
        block_scores = queries @ _unit(block.astype(np.float32, copy=False)).T
        take = min(limit, block_scores.shape[1])
        top = np.argpartition(-block_scores, take - 1, axis=1)[:, :take]
        scores = np.concatenate([scores, np.take_along_axis(block_scores, top, axis=1)], axis=1)
        doc_ids = np.concatenate([doc_ids, ids[keep][top]], axis=1)
        texts = np.concatenate([texts, np.array(batch["text"].to_pylist(), dtype=object)[keep][top]], axis=1)
        if scores.shape[1] > limit:
            best = np.argpartition(-scores, limit - 1, axis=1)[:, :limit]
            scores, doc_ids, texts = (np.take_along_axis(a, best, axis=1) for a in (scores, doc_ids, texts))
    order = np.argsort(-scores, axis=1, kind="stable")
    return [[(str(doc_ids[i, j]), float(scores[i, j]), str(texts[i, j])) for j in order[i]] for i in range(count)]


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def _rows(found: pa.Table, scores: np.ndarray) -> Ranked:
    """(doc_id, score, passage) of LanceDB results, best first."""
    doc_ids = found["doc_id"].to_pylist()
    texts = found["text"].to_pylist()
    order = np.argsort(-scores, kind="stable")
    return [(doc_ids[i], float(scores[i]), texts[i]) for i in order]
