"""Two rankings of the same queries side by side: overlap (Jaccard@k, rank-biased overlap), how far each
document moved, the queries where two retrievers disagree most, and the pooled list judges see."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.retrieval import Ranked
from store import documents as document_store

if TYPE_CHECKING:
    from curation.core import Workspace


def jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    """|A ∩ B| / |A ∪ B| of two top-k lists (1.0 when both are empty: nothing to disagree on)."""
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 1.0


def rbo(a: Sequence[str], b: Sequence[str], p: float = 0.9) -> float:
    """Rank-biased overlap of two rankings, extrapolated (RBO_ext, eq. 32 of Webber, Moffat & Zobel,
    "A similarity measure for indefinite rankings", ACM TOIS 28(4), 2010).

    The agreement at each depth d (shared items / d) is averaged with weights p^d, so the top ranks count
    most; lists of different length are extrapolated as the paper does. 1.0 for identical lists, 0.0 for
    disjoint ones; both empty counts as identical.
    """
    if not a and not b:
        return 1.0
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    s, length = len(short), len(long)
    if s == 0:
        return 0.0
    seen_short: set[str] = set()
    seen_long: set[str] = set()
    overlap = 0
    overlaps = [0]  # overlaps[d]: items shared by short[:d] and long[:d]
    for d in range(1, length + 1):
        item = long[d - 1]
        overlap += item in seen_short
        seen_long.add(item)
        if d <= s:
            other = short[d - 1]
            overlap += other in seen_long
            seen_short.add(other)
        overlaps.append(overlap)
    x_s, x_l = overlaps[s], overlaps[length]
    total = sum(overlaps[d] / d * p**d for d in range(1, length + 1))
    total += sum(x_s * (d - s) / (s * d) * p**d for d in range(s + 1, length + 1))
    return (1 - p) / p * total + ((x_l - x_s) / length + x_s / s) * p**length


class Overlap(BaseModel):
    """How much two top-k lists of one query agree."""

    query_id: str
    text: str
    jaccard: float
    rbo: float


def disagreement_order(
    queries: dict[str, str], a: dict[str, Ranked], b: dict[str, Ranked], *, p: float
) -> list[Overlap]:
    """Every query with its overlap, the most disagreeing first (lowest RBO, then lowest Jaccard, then id)."""
    overlaps = []
    for query_id, text in queries.items():
        left, right = _ids(a.get(query_id, [])), _ids(b.get(query_id, []))
        overlaps.append(Overlap(query_id=query_id, text=text, jaccard=jaccard(left, right), rbo=rbo(left, right, p)))
    return sorted(overlaps, key=lambda o: (o.rbo, o.jaccard, o.query_id))


def _ids(ranked: Ranked) -> list[str]:
    return [doc_id for doc_id, _, _ in ranked]


class ComparedDoc(BaseModel):
    """One row of one side of the comparison: where the document ranks here and on the other side."""

    doc_id: str
    rank: int
    score: float
    title: str
    url: str | None
    passage: str
    other_rank: int | None
    moved: int | None = None  # ranks gained on this side compared with the other (positive: higher here)
    in_both: bool


def side_by_side(ws: Workspace, a: Ranked, b: Ranked) -> tuple[list[ComparedDoc], list[ComparedDoc]]:
    """Both sides of one query's comparison, with titles and urls, each document marked as in both or one."""
    ranks_a = {doc_id: rank for rank, doc_id in enumerate(_ids(a), start=1)}
    ranks_b = {doc_id: rank for rank, doc_id in enumerate(_ids(b), start=1)}
    fields = document_store.document_fields(ws.db, sorted(ranks_a | ranks_b), ("title", "url"))
    meta = {d: (t, u) for d, t, u in fields[["doc_id", "title", "url"]].itertuples(index=False)}

    def side(ranked: Ranked, other: dict[str, int]) -> list[ComparedDoc]:
        rows = []
        for rank, (doc_id, score, passage) in enumerate(ranked, start=1):
            title, url = meta.get(doc_id, ("", None))
            there = other.get(doc_id)
            rows.append(
                ComparedDoc(
                    doc_id=doc_id,
                    rank=rank,
                    score=score,
                    title=title or "",
                    url=url,
                    passage=passage,
                    other_rank=there,
                    moved=None if there is None else there - rank,
                    in_both=there is not None,
                )  # fmt: skip
            )
        return rows

    return side(a, ranks_b), side(b, ranks_a)


class PooledDoc(BaseModel):
    """A document of the pooled list: the union of both top-k lists."""

    doc_id: str
    rank_a: int | None
    rank_b: int | None
    passage: str


def pooled(a: Ranked, b: Ranked, *, shuffle_key: str | None = None) -> list[PooledDoc]:
    """The union of two top-k lists. With `shuffle_key` the order is shuffled by a seed derived from it (the
    same key, say set + query + annotator, gives the same order on every reload and in every process);
    without, documents come by their best rank on either side."""
    ranks_a = {doc_id: rank for rank, doc_id in enumerate(_ids(a), start=1)}
    ranks_b = {doc_id: rank for rank, doc_id in enumerate(_ids(b), start=1)}
    passages = {doc_id: passage for doc_id, _, passage in [*b, *a]}  # a's passage wins for shared documents
    docs = [
        PooledDoc(doc_id=d, rank_a=ranks_a.get(d), rank_b=ranks_b.get(d), passage=passages[d])
        for d in dict.fromkeys([*ranks_a, *ranks_b])
    ]
    if shuffle_key is None:
        return sorted(docs, key=lambda doc: (min(doc.rank_a or 10**9, doc.rank_b or 10**9), doc.doc_id))
    docs.sort(key=lambda doc: doc.doc_id)  # the shuffle must not depend on the order the lists came in
    random.Random(int.from_bytes(hashlib.blake2b(shuffle_key.encode(), digest_size=8).digest())).shuffle(docs)
    return docs
