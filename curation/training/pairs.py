"""Training pairs from judgments: `anchor, positive, negative` per split, as a Hugging Face dataset on disk plus
Parquet and JSONL per split.

Positives are documents graded at or above the threshold. A pair's negative is, in this order of preference,
a document judged below the threshold for that query, a highly ranked unjudged document of `--negatives-from`'s
stored run, or (when a query has neither) a seeded random unjudged document. A judged positive of a query is
never its negative. With `--negatives N` a pair carries N negatives (`negative_1 ... negative_N`): the
documents judged below the threshold first, then negatives mined with `--negatives-from`'s model (see
`curation.training.mining`), then random ones. Only the `train` split's pairs are for training; a guard
refuses to write them when an anchor is a query of another split.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from curation.core import retrieval_text
from curation.evaluation import (
    TRAIN,
    ExportError,
    ExportOptions,
    ExportPlan,
    ExportResult,
    Qrels,
    check_no_leak,
    export_folder,
    plan_export,
)
from curation.retrieval import ranking, resolve_run
from store import documents as document_store

if TYPE_CHECKING:
    from curation.core import Workspace

PAIR_COLUMNS = ("anchor", "positive", "negative")
SOURCES = ("judged", "mined", "ranked", "random")


def pair_columns(negatives: int | None) -> list[str]:
    """`anchor, positive, negative`, or `negative_1 ... negative_N` with several negatives per pair."""
    if not negatives:
        return list(PAIR_COLUMNS)
    return ["anchor", "positive", *(f"negative_{i}" for i in range(1, negatives + 1))]


def export_pairs(ws: Workspace, options: ExportOptions) -> ExportResult:
    """Write training pairs for `options.query_set` (every query is `train` without `split`)."""
    plan = plan_export(ws, "pairs", options)
    with export_folder(plan) as staging:
        _write_pairs(ws, staging, plan, options)
    return plan.result


def _write_pairs(ws: Workspace, staging: Path, plan: ExportPlan, options: ExportOptions) -> None:
    import datasets  # only pairs need it, and it takes seconds to import
    from datasets import Dataset, DatasetDict

    members, texts, qrels, result = plan.members, plan.texts, plan.qrels, plan.result

    threshold = options.threshold or ws.settings.evaluation.threshold
    positives = {
        q: sorted((d for d, g in docs.items() if g >= threshold), key=lambda d: (-docs[d], d))
        for q, docs in qrels.grades.items()
    }
    queries = list(dict.fromkeys(q for ids in members.values() for q in ids if positives.get(q)))
    if options.negatives:
        pools = _mined_pools(ws, options, texts, qrels, positives, threshold, queries, result)
    else:
        if options.negatives_from:
            depth = ws.settings.export.ranked_negatives_depth
            result.runs = [resolve_run(ws, options.negatives_from, options.query_set, depth=depth).run]
        pools = _negative_pools(ws, qrels, positives, threshold, queries, result.runs, result.seed)
    passages = _passages(ws, {d for q in queries for d in positives[q] + [n for n, _ in pools[q]]})

    frames: dict[str, pd.DataFrame] = {}
    used: Counter[str] = Counter()
    trained: list[str] = []
    for split, ids in members.items():
        rows = []
        for q in (q for q in ids if positives.get(q) and pools[q]):
            if split == TRAIN:
                trained.append(q)
            pool = [(n, source) for n, source in pools[q] if n in passages]
            for j, doc in enumerate(positives[q]):
                chosen = _chosen(pool, j, options.negatives)
                if doc in passages and chosen:
                    rows.append((texts[q], passages[doc], *(passages[n] for n, _ in chosen)))
                    used.update(source for _, source in chosen)
        frames[split] = pd.DataFrame(rows, columns=pair_columns(options.negatives))
    check_no_leak({**members, TRAIN: trained}, plan.split_queries)
    if frames[TRAIN].empty:
        raise ExportError(
            f"no training pairs: no {TRAIN!r} query of {options.query_set!r} has a document graded "
            f"{threshold} or more by {qrels.source!r}"
        )
    dataset = DatasetDict({s: Dataset.from_pandas(f, preserve_index=False) for s, f in frames.items()})
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # three bars per split for seconds of work: noise on stderr
    try:
        dataset.save_to_disk(str(staging / "dataset"))
        for split, part in dataset.items():
            part.to_parquet(str(staging / f"{split}.parquet"))
            part.to_json(str(staging / f"{split}.jsonl"), lines=True, force_ascii=False)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    result.rows = {s: len(f) for s, f in frames.items()}
    result.negatives = {source: used[source] for source in SOURCES if used[source] or source != "mined"}


def _chosen(pool: list[tuple[str, str]], j: int, negatives: int | None) -> list[tuple[str, str]]:
    """The negatives of a query's j-th pair: one, rotating over the pool; or, with N, the judged ones first
    in every pair, the rest rotating over what else the pool has."""
    if not pool:
        return []
    if not negatives:
        return [pool[j % len(pool)]]
    head = [n for n in pool if n[1] == "judged"][:negatives]
    rest = pool[len(head) :] or head
    return head + [rest[(j + k) % len(rest)] for k in range(negatives - len(head))]


def _mined_pools(
    ws: Workspace,
    options: ExportOptions,
    texts: dict[str, str],
    qrels: Qrels,
    positives: dict[str, list[str]],
    threshold: int,
    queries: list[str],
    result: ExportResult,
) -> dict[str, list[tuple[str, str]]]:
    """Judged-not-relevant documents, then mined ones, then (for a query with too few) random unjudged ones."""
    from curation.training.mining import mine_negatives, mined_candidates

    run, retriever, candidates = mined_candidates(ws, options, queries)
    result.runs = [run]
    judged = {q: set(qrels.grades[q]) for q in queries}
    passages = _passages(ws, {d for q in queries for d in positives[q] + candidates[q]})
    mined = mine_negatives(
        ws, options, retriever, texts, {q: positives[q] for q in queries}, judged, candidates, passages
    )
    wanted = options.negatives or 1
    spare = document_store.sample_doc_ids(ws.db, wanted * 4 + max(len(judged[q]) for q in queries), result.seed)
    pools: dict[str, list[tuple[str, str]]] = {}
    for q in queries:
        grades = qrels.grades[q]
        below = sorted((d for d, g in grades.items() if g < threshold), key=lambda d: (grades[d], d))
        pools[q] = [(d, "judged") for d in below] + [(d, "mined") for d in mined[q]]
        taken = {d for d, _ in pools[q]} | judged[q]
        pools[q] += [(d, "random") for d in spare if d not in taken][: max(0, wanted - len(pools[q]))]
    return pools


def _negative_pools(
    ws: Workspace,
    qrels: Qrels,
    positives: dict[str, list[str]],
    threshold: int,
    queries: list[str],
    runs: list[str],
    seed: int,
) -> dict[str, list[tuple[str, str]]]:
    """Per query, its negative candidates with their source, in order of preference (see module doc)."""
    depth = ws.settings.export.ranked_negatives_depth
    ranked = {q: list(docs)[:depth] for run in runs for q, docs in ranking(ws, run).items()}
    pools: dict[str, list[tuple[str, str]]] = {}
    for q in queries:
        grades = qrels.grades[q]
        judged = sorted((d for d, g in grades.items() if g < threshold), key=lambda d: (grades[d], d))
        pools[q] = [(d, "judged") for d in judged] + [(d, "ranked") for d in ranked.get(q, []) if d not in grades]
    needy = [q for q in queries if not pools[q]]
    if needy:
        wanted = sum(len(positives[q]) for q in needy) + max(len(qrels.grades[q]) for q in needy)
        spare = iter(document_store.sample_doc_ids(ws.db, wanted, seed))
        for q in needy:
            for doc in spare:
                if doc not in qrels.grades[q]:
                    pools[q].append((doc, "random"))
                if len(pools[q]) == len(positives[q]):
                    break
    return pools


def _passages(ws: Workspace, doc_ids: set[str]) -> dict[str, str]:
    """Title and text of each document as a training passage, cut at `export.max_passage_chars`."""
    limit = ws.settings.export.max_passage_chars
    frame = document_store.document_fields(ws.db, sorted(doc_ids), ("title", "text"))
    return {
        d: passage_text(title, text, limit)
        for d, title, text in frame[["doc_id", "title", "text"]].itertuples(index=False)
    }


def passage_text(title: str, text: str, limit: int) -> str:
    """A document as one training passage: what retrievers read of it (`retrieval_text`), cut at `limit`."""
    return retrieval_text(title, text)[:limit]
