"""Reciprocal rank fusion of a vector and a full-text ranking, as LanceDB's hybrid search fuses them.

LanceDB's default hybrid reranker (`RRFReranker`, K=60) gives each result the sum over the rankings it is in of
1 / (rank + K), ranks counted from 1. Many queries at once (a run, the Judge queue) search the vector index once
for all of them, BM25 per query, and fuse here, instead of one hybrid call per query.
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60  # LanceDB's RRFReranker default (Cormack et al., SIGIR 2009)


def reciprocal_rank_fusion(*rankings: Sequence[tuple[str, float, str]], k: int = RRF_K) -> list[tuple[str, float, str]]:
    """Passages of `rankings` ((doc_id, score, passage) each, best first) fused by reciprocal rank, best first; a
    passage is known by its document and text, so one met in both rankings is counted once with both ranks."""
    scores: dict[tuple[str, str], float] = {}
    for ranked in rankings:
        for rank, (doc_id, _, passage) in enumerate(ranked, 1):
            scores[(doc_id, passage)] = scores.get((doc_id, passage), 0.0) + 1.0 / (rank + k)
    fused = sorted(scores.items(), key=lambda item: -item[1])
    return [(doc_id, score, passage) for (doc_id, passage), score in fused]
