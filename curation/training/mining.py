"""Hard negatives mined with sentence-transformers' `mine_hard_negatives` and a dense retriever's own model.

The candidates are the documents of the retriever's stored run of the query set (made when missing, down to
`--range-max` or `[export] ranked_negatives_depth`), so mining re-scores what the retriever ranks high instead
of encoding the whole corpus again. `mine_hard_negatives` then applies its range and relative margin (against
unjudged positives ranked above the judged one) and never returns a pair's positive; on top of that a document
judged for the query is never a mined negative: a judged-relevant one would be a false negative, a
judged-not-relevant one comes first in the pool already.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from curation.evaluation import ExportError, ExportOptions
from curation.retrieval import open_encoder, ranking, resolve_run

if TYPE_CHECKING:
    from curation.core import Workspace


def mined_candidates(
    ws: Workspace, options: ExportOptions, queries: list[str]
) -> tuple[str, str, dict[str, list[str]]]:
    """The run mined from, the dense retriever whose model re-scores it, and its ranked documents per query.
    `--negatives-from` names a dense retriever (its current run, made when missing) or a stored run of one."""
    name = options.negatives_from or ""
    if not name:
        raise ExportError("--negatives mines negatives with a retriever's model: name it with --negatives-from")
    depth = max(options.range_max or 0, ws.settings.export.ranked_negatives_depth)
    registered = ws.settings.retrievers.get(name.partition("/")[0])
    used = None if registered and registered.kind != "dense" else resolve_run(ws, name, options.query_set, depth=depth)
    spec = ws.settings.retrievers.get(used.retriever) if used else None
    if used is None or spec is None or spec.kind != "dense":
        raise ExportError(f"--negatives mines with a dense retriever's model; {name!r} is not a dense retriever's")
    ranked = ranking(ws, used.run)
    return used.run, used.retriever, {q: list(ranked.get(q, []))[:depth] for q in queries}


def mine_negatives(
    ws: Workspace,
    options: ExportOptions,
    retriever: str,
    texts: dict[str, str],
    positives: dict[str, list[str]],
    judged: dict[str, set[str]],
    candidates: dict[str, list[str]],
    passages: dict[str, str],
) -> dict[str, list[str]]:
    """Per query, mined negative document ids, hardest first (never one judged for the query)."""
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives

    encoder = open_encoder(ws, retriever)
    queries = [q for q in positives if positives[q]]
    pairs = [(texts[q], passages[d]) for q in queries for d in positives[q] if d in passages]
    corpus_ids = list(dict.fromkeys(d for q in queries for d in candidates.get(q, []) if d in passages))
    if not pairs or not corpus_ids:
        return {q: [] for q in queries}
    wanted = options.negatives or 1
    most_judged = max(len(judged[q]) for q in queries)
    room = min(len(corpus_ids), options.range_max or len(corpus_ids)) - options.range_min
    if room < 1:
        raise ExportError(f"--range-min {options.range_min} leaves no candidate of {len(corpus_ids)} to mine from")
    mined = mine_hard_negatives(
        Dataset.from_dict({"anchor": [a for a, _ in pairs], "positive": [p for _, p in pairs]}),
        encoder.model,
        corpus=[passages[d] for d in corpus_ids],
        range_min=options.range_min,
        range_max=options.range_max,
        relative_margin=options.margin,
        num_negatives=min(wanted + most_judged, room),
        sampling_strategy="top",
        query_prompt=encoder.spec.query_prompt or None,
        corpus_prompt=encoder.spec.document_prompt or None,
        output_format="triplet",
        batch_size=encoder.batch_size or 32,
        verbose=False,
    )
    by_text: dict[str, list[str]] = defaultdict(list)
    for d in corpus_ids:
        by_text[passages[d]].append(d)
    by_anchor: dict[str, list[str]] = defaultdict(list)
    for anchor, negative in zip(mined["anchor"], mined["negative"], strict=True):
        by_anchor[anchor].extend(by_text.get(negative, []))
    return {q: [d for d in dict.fromkeys(by_anchor.get(texts[q], [])) if d not in judged[q]] for q in queries}
