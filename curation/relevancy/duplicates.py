"""Near-duplicate clusters: print versions, mirrors, a page under two collections, copies that differ only in
navigation text or one edited sentence, which SDE's exact de-duplication (content hash, canonical URL) misses.

MinHash LSH over word shingles with rensa (Rust; bench/rules.py measures it against datasketch at equal
recall), after lines that most pages of a collection share (navigation, footers) are left out, so pages of one
site do not look alike through their chrome. LSH candidates are confirmed by their estimated Jaccard before
they join a cluster (union-find), so distinct pages about the same topic stay apart. Semantic near-duplicates
come from a retriever's document vectors (cosine above `[dedup] semantic_threshold`). A cluster suggests a
canonical document with the reason it was chosen; `keep_one` records curator decisions for the whole cluster.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from curation.core import ProgressCallback, curator_name
from store import duplicates as duplicate_store
from store import verdicts as verdict_store

if TYPE_CHECKING:
    from curation.core import Workspace

MINHASH = "minhash"
_WORD = re.compile(r"\w+")
_SEED = 42
_SEMANTIC_BLOCK = 2048


class DedupResult(BaseModel):
    """What one dedup run found (`dedup --json`)."""

    method: str
    documents: int
    clusters: int
    duplicates: int
    largest: int


class Cluster(BaseModel):
    """A stored cluster: its members, the suggested canonical document and why (`dedup --list --json`)."""

    id: str
    method: str
    canonical: str
    reason: str
    members: list[str]


def shingles(text: str, boilerplate: set[str], size: int) -> list[str]:
    """Word `size`-grams of the text without its boilerplate lines, lower-cased (one shingle for a short text).

    A text made only of lines its collection shares (copies of one page) keeps them all."""
    lines = [line for line in text.splitlines() if line.strip()]
    kept = [line for line in lines if line.strip() not in boilerplate] or lines
    words = _WORD.findall(" ".join(kept).lower())
    if len(words) <= size:
        return [" ".join(words)] if words else []
    return list(map(" ".join, zip(*(words[k:] for k in range(size)), strict=False)))


def lsh_bands(num_perm: int, threshold: float) -> int:
    """Bands whose S-curve threshold (1/b)^(1/r) sits a little under the Jaccard threshold, favouring recall;
    candidates are confirmed by their estimated Jaccard anyway."""
    divisors = [b for b in range(2, num_perm + 1) if num_perm % b == 0]
    return min(divisors, key=lambda b: abs((1 / b) ** (b / num_perm) - (threshold - 0.1)))


def signatures(token_sets: list[list[str]], num_perm: int) -> list[Any]:
    """One rensa MinHash per token set (computed in Rust for the whole batch)."""
    from rensa import RMinHash  # Rust extension, loaded only to dedup

    return list(RMinHash.from_token_sets(token_sets, num_perm=num_perm, seed=_SEED))


def lsh_pairs(
    hashes: list[Any], present: list[int], *, threshold: float, num_perm: int
) -> list[tuple[int, int, float]]:
    """(i, j, estimated Jaccard) among the `present` signatures whose estimate reaches `threshold`, found by LSH."""
    from rensa import RMinHashLSH

    lsh = RMinHashLSH(threshold=threshold, num_perm=num_perm, num_bands=lsh_bands(num_perm, threshold))
    for i in present:
        lsh.insert(i, hashes[i])
    pairs = []
    for i in present:
        for j in lsh.query(hashes[i]):
            if j > i:
                similarity = hashes[i].jaccard(hashes[j])
                if similarity >= threshold:
                    pairs.append((i, int(j), float(similarity)))
    return pairs


def minhash_pairs(token_sets: list[list[str]], *, threshold: float, num_perm: int) -> list[tuple[int, int, float]]:
    """(i, j, estimated Jaccard) of the token sets whose estimate reaches `threshold`."""
    present = [i for i, tokens in enumerate(token_sets) if tokens]
    return lsh_pairs(signatures(token_sets, num_perm), present, threshold=threshold, num_perm=num_perm)


def _components(pairs: list[tuple[int, int, float]]) -> dict[int, list[int]]:
    """Union-find over the pairs: {root: members}."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in pairs:
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return groups


def find_duplicates(
    ws: Workspace, threshold: float | None = None, progress: ProgressCallback | None = None
) -> DedupResult:
    """MinHash LSH clusters over every document; replaces the stored `minhash` clusters."""
    settings = ws.settings.dedup
    threshold = threshold or settings.threshold
    boilerplate = duplicate_store.boilerplate_lines(
        ws.db, share=settings.boilerplate_share, min_pages=settings.boilerplate_min_pages
    )
    total = duplicate_store.document_count(ws.db)
    ids: list[str] = []
    hashes: list[Any] = []
    present: list[int] = []
    words: dict[str, int] = {}  # content words (boilerplate left out): a mirror's own chrome does not count
    for batch in duplicate_store.document_batches(ws.db):
        token_sets = [
            shingles(text, boilerplate.get(collection, set()), settings.shingle_words)
            for collection, text in zip(batch["collection"], batch["text"], strict=True)
        ]
        for doc_id, tokens in zip(batch["doc_id"], token_sets, strict=True):
            if tokens:
                present.append(len(ids))
            words[str(doc_id)] = len(tokens) + settings.shingle_words - 1 if tokens else 0
            ids.append(str(doc_id))
        hashes += signatures(token_sets, settings.num_perm)  # the shingles of a batch are dropped here
        if progress:
            progress(len(ids), total)
    pairs = lsh_pairs(hashes, present, threshold=threshold, num_perm=settings.num_perm)
    return _store(ws, MINHASH, ids, pairs, words)


def find_semantic_duplicates(
    ws: Workspace, retriever: str, threshold: float | None = None, progress: ProgressCallback | None = None
) -> DedupResult:
    """Clusters of documents whose vectors (a retriever's, one per document) reach the cosine threshold."""
    from curation.retrieval import document_vectors

    threshold = threshold or ws.settings.dedup.semantic_threshold
    ids, matrix = document_vectors(ws, retriever)
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, len(ids), _SEMANTIC_BLOCK):
        scores = matrix[start : start + _SEMANTIC_BLOCK] @ matrix.T
        for a, b in zip(*np.nonzero(scores >= threshold), strict=True):
            i = start + int(a)
            if int(b) > i:
                pairs.append((i, int(b), float(scores[a, b])))
        if progress:
            progress(min(start + _SEMANTIC_BLOCK, len(ids)), len(ids))
    return _store(ws, f"semantic:{retriever}", ids, pairs)


def _store(
    ws: Workspace,
    method: str,
    ids: list[str],
    pairs: list[tuple[int, int, float]],
    words: dict[str, int] | None = None,
) -> DedupResult:
    best: dict[int, float] = {}
    for i, j, s in pairs:
        best[i], best[j] = max(best.get(i, 0.0), s), max(best.get(j, 0.0), s)
    groups = sorted(_components(pairs).values(), key=lambda g: (-len(g), min(ids[m] for m in g)))
    table = duplicate_store.candidate_facts(ws.db, [ids[m] for g in groups for m in g])
    facts = {
        d: (bool(c), bool(k), int(words[d] if words is not None else n), u or "")
        for d, c, k, n, u in zip(
            table["doc_id"], table["curator_kept"], table["kept"], table["words"], table["url"], strict=True
        )
    }
    rows = []
    for number, members in enumerate(groups, start=1):
        doc_ids = sorted(ids[m] for m in members)
        canonical, reason = pick_canonical(facts, doc_ids)
        cluster_id = f"{method.split(':')[0][0]}{number}"
        similarity = {ids[m]: round(best[m], 4) for m in members}
        rows += [(cluster_id, d, d == canonical, reason if d == canonical else None, similarity[d]) for d in doc_ids]
    frame = pd.DataFrame(rows, columns=list(duplicate_store.CLUSTER_COLUMNS))
    duplicate_store.replace_clusters(ws.db, method, frame)
    return DedupResult(
        method=method,
        documents=len(ids),
        clusters=len(groups),
        duplicates=sum(len(g) - 1 for g in groups),
        largest=max((len(g) for g in groups), default=0),
    )


def pick_canonical(facts: dict[str, tuple[bool, bool, int, str]], doc_ids: list[str]) -> tuple[str, str]:
    """The member to keep and why: one a curator kept, else one the filter keeps, else the longest text (for
    MinHash counted without boilerplate), else the shortest URL, else the first id. `facts` holds
    (curator_kept, kept, words, url) per doc_id (store.duplicates.candidate_facts)."""

    def rank(d: str) -> tuple[bool, bool, int, int, str]:
        curator_kept, kept, words, url = facts[d]
        return (not curator_kept, not kept, -words, len(url), d)

    first, second = sorted(doc_ids, key=rank)[:2]
    a, b = rank(first), rank(second)
    reasons = ["kept by a curator", "the only one the filter keeps", f"the longest text ({-a[2]} words)"]
    reasons.append("the shortest URL")
    return first, next((r for i, r in enumerate(reasons) if a[i] != b[i]), "first by id (the copies are alike)")


def duplicate_clusters(ws: Workspace, method: str | None = None) -> list[Cluster]:
    """Stored clusters, largest first."""
    table = duplicate_store.cluster_rows(ws.db, method)
    clusters = []
    for (method_name, cluster_id), group in table.groupby(["method", "cluster_id"], sort=False):
        canonical = group[group["canonical"]].iloc[0]
        clusters.append(
            Cluster(
                id=str(cluster_id),
                method=str(method_name),
                canonical=str(canonical["doc_id"]),
                reason=str(canonical["reason"]),
                members=[str(d) for d in group["doc_id"]],
            )
        )
    return clusters


def cluster_table(ws: Workspace, method: str | None = None) -> pd.DataFrame:
    """Members of the stored clusters with title, url, collection, verdict, largest cluster first (the page)."""
    return duplicate_store.cluster_rows(ws.db, method)


def keep_one(ws: Workspace, cluster_id: str, keep: str, who: str, method: str = MINHASH) -> int:
    """Keep one member of a cluster and drop the others (curator decisions, reason `duplicate of <doc_id>`)."""
    name = curator_name(who)
    found = next((c for c in duplicate_clusters(ws, method) if c.id == cluster_id), None)
    if found is None or keep not in found.members:
        raise ValueError(f"{keep!r} is not a member of cluster {cluster_id!r}")
    others = [d for d in found.members if d != keep]
    verdict_store.record_decisions(ws.db, [keep], kept=True, decided_by=name, note=f"canonical of cluster {cluster_id}")
    verdict_store.record_decisions(ws.db, others, kept=False, decided_by=name, note=f"duplicate of {keep}")
    return len(others)
