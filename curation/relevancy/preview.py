"""A pattern's impact before it is saved: what it matches, which verdicts change, which judged-relevant documents
it would drop, and the NDCG@10 each stored run would have without the documents it drops.

The projection re-scores stored rankings with the dropped documents taken out (the ones below move up); it
re-embeds nothing, so it answers in the time of one rules pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.relevancy.patterns import Pattern, check_pattern, effective_patterns
from curation.relevancy.rules import evaluate
from store import patterns as pattern_store

if TYPE_CHECKING:
    from curation.core import Workspace

SAMPLE = 10


class MatchedDocument(BaseModel):
    doc_id: str
    title: str
    url: str | None
    collection: str | None
    kept_before: bool
    kept_after: bool


class JudgedDrop(BaseModel):
    """A judged-relevant document the pattern would drop, with the judgment that makes it relevant."""

    doc_id: str
    title: str
    query_set: str
    query_id: str
    grade: int


class NdcgChange(BaseModel):
    """NDCG@10 of a stored run now and with the documents the pattern drops taken out of its rankings."""

    run: str
    retriever: str
    query_set: str
    before: float
    after: float
    change: float


class Preview(BaseModel):
    pattern: Pattern
    matched: int
    sample: list[MatchedDocument]
    changed: int
    newly_dropped: int
    newly_kept: int
    judged_relevant_dropped: list[JudgedDrop]
    ndcg: list[NdcgChange]


def preview_pattern(ws: Workspace, candidate: Pattern, *, with_ndcg: bool = True) -> Preview:
    """What saving `candidate` (active; replacing the pattern with its id, if any) would change, nothing stored."""
    check_pattern(ws, candidate)
    current = effective_patterns(ws)
    proposed = [p for p in current if p.pattern_id != candidate.pattern_id] + [
        candidate.model_copy(update={"active": True})
    ]
    before = evaluate(ws, current).set_index("doc_id")
    after = evaluate(ws, proposed, candidate).set_index("doc_id")
    hit = after[after["candidate"].astype(bool)]
    kept_before = before["kept"].reindex(after.index)
    changed = after["kept"] != kept_before
    dropped = list(after.index[changed & ~after["kept"]])
    sample = [
        MatchedDocument(
            doc_id=str(doc_id),
            title=str(row.page_title),
            url=row.url,
            collection=row.collection,
            kept_before=bool(kept_before[doc_id]),
            kept_after=bool(row.kept),
        )
        for doc_id, row in hit.head(SAMPLE).iterrows()
    ]
    titles = after["page_title"]
    threshold = ws.settings.evaluation.threshold
    relevant = pattern_store.judged_relevant(ws.db, dropped, threshold)
    return Preview(
        pattern=candidate,
        matched=len(hit),
        sample=sample,
        changed=int(changed.sum()),
        newly_dropped=len(dropped),
        newly_kept=int((changed & after["kept"]).sum()),
        judged_relevant_dropped=[
            JudgedDrop(doc_id=d, title=str(titles[d]), query_set=s, query_id=q, grade=g) for s, q, d, g in relevant
        ],
        ndcg=projected_ndcg(ws, set(dropped)) if with_ndcg and dropped else [],
    )


def projected_ndcg(ws: Workspace, dropped: set[str]) -> list[NdcgChange]:
    """NDCG@10 of the newest stored run per retriever, mode and query set, before and after removing `dropped`."""
    from curation.evaluation import JudgmentsError, load_qrels
    from curation.retrieval import ranking, stored_runs

    runs = stored_runs(ws)  # newest first
    if not runs:
        return []
    from ranx import Qrels, Run, evaluate  # loaded only when there are runs to project

    seen: set[tuple[str, str, str]] = set()
    changes: list[NdcgChange] = []
    for run in runs:
        key = (run.retriever, run.mode, run.query_set)
        if key in seen:
            continue
        seen.add(key)
        try:
            grades = load_qrels(ws, run.query_set).grades
        except JudgmentsError:
            continue
        grades = {q: g for q, g in grades.items() if any(v > 0 for v in g.values())}
        ranked = {q: r for q, r in ranking(ws, run.name).items() if q in grades}
        if not grades or not ranked:
            continue
        qrels = Qrels(grades)

        def score(rankings: dict[str, dict[str, float]], q: Qrels = qrels) -> float:
            kept = {k: v for k, v in rankings.items() if v} or {next(iter(rankings)): {"-": 0.0}}
            return float(evaluate(q, Run(kept), "ndcg@10", make_comparable=True))

        now = score(ranked)
        then = score({q: {d: s for d, s in r.items() if d not in dropped} for q, r in ranked.items()})
        changes.append(
            NdcgChange(
                run=run.name,
                retriever=run.retriever,
                query_set=run.query_set,
                before=round(now, 4),
                after=round(then, 4),
                change=round(then - now, 4),
            )
        )
    return changes
