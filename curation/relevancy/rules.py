"""The cheap first stage of the relevancy filter: curation patterns, URL path words and the word count.

The rules ran before the LLM judge when INDUS-SDE-ST's training data was cleaned (see SDE.md). DuckDB
evaluates every pattern's regex in one scan (`store.patterns.rule_matches`); the verdict is resolved here the
way COSMOS resolves patterns: an include beats an exclude, among patterns of one kind the most specific wins
(exact URL, then the longer literal prefix, then a collection's over a global one), and every verdict names
the pattern or rule that decided it. The word count compares a page with the median of its own collection,
so a collection of short dataset abstracts is not dropped for being shorter than news pages.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel

from curation.relevancy.patterns import Pattern, effective_patterns
from store import patterns as pattern_store

if TYPE_CHECKING:
    from curation.core import Workspace

DECIDED_COLUMNS = ["doc_id", "content_hash", "kept", "rule", "reason", "division", "document_type", "title"]


class RulesResult(BaseModel):
    """What one rules run decided."""

    judged: int
    kept: int
    dropped: int
    median_words: float
    by_rule: dict[str, int]


def _reason(p: Pattern) -> str:
    return f'URL matches the {p.kind} pattern "{p.pattern_id}"' + (f" ({p.pattern})" if p.kind == "include" else "")


def decide(patterns: list[Pattern], matched: pd.DataFrame, *, fraction: float, floor: int) -> pd.DataFrame:
    """Resolve each document's matched patterns (`matched` from `store.patterns.rule_matches`) into a verdict,
    with the url, collection, word count and page title next to it."""
    rows = []
    for doc in matched.itertuples(index=False):
        hits = [patterns[i] for i in doc.matched]
        best: dict[str, Pattern] = {}
        for p in hits:
            if p.kind not in best or p.specificity() > best[p.kind].specificity():
                best[p.kind] = p
        kept, rule, reason = True, None, None
        if "include" in best:
            rule, reason = best["include"].label(), _reason(best["include"])
        elif "exclude" in best:
            kept, rule, reason = False, best["exclude"].label(), _reason(best["exclude"])
        elif len(doc.path_hits):
            word = doc.path_hits[0]
            kept, rule, reason = False, f"path_word:{word}", f'URL path contains the word "{word}"'
        elif doc.words < floor:
            kept, rule, reason = False, "min_words", f"{doc.words} words, under the floor of {floor} words"
        elif doc.words < fraction * doc.median:
            where = f"collection {doc.collection}" if doc.collection is not None else "the workspace"
            kept, rule = False, "min_words"
            reason = f"{doc.words} words, under {fraction} x the median of {round(doc.median)} words of {where}"
        fields = doc._asdict()
        values = {k: best[k].render(fields) if k in best else None for k in ("division", "document_type", "title")}
        rows.append([doc.doc_id, doc.content_hash, kept, rule, reason, *values.values(), [p.pattern_id for p in hits]])
    decided = pd.DataFrame(rows, columns=[*DECIDED_COLUMNS, "matched_ids"])
    decided["kept"] = decided["kept"].astype(bool)
    fields = matched[["url", "collection", "words"]].assign(page_title=matched["title"]).reset_index(drop=True)
    return pd.concat([decided, fields], axis=1)


def evaluate(ws: Workspace, patterns: list[Pattern], limit: int | None = None) -> pd.DataFrame:
    """What the rules with these patterns (the active ones count) decide for every document, without storing it."""
    active = [p for p in patterns if p.active]
    rules = ws.settings.rules
    matched = pattern_store.rule_matches(
        ws.db, [(p.regex(), p.target(), p.scope) for p in active], path_words=rules.path_words, limit=limit
    )
    return decide(active, matched, fraction=rules.min_words_fraction, floor=rules.min_words_floor)


def rules_version(ws: Workspace, patterns: list[Pattern]) -> str:
    """The settings' hash with the active patterns: stored with each verdict so a reviewer can tell what ran."""
    text = ws.settings.rules.version() + "".join(sorted(p.model_dump_json() for p in patterns if p.active))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def run_rules(ws: Workspace, limit: int | None = None) -> RulesResult:
    """Judge every document (the first `limit` by id) with the workspace's patterns and rules; replaces earlier
    rules verdicts."""
    patterns = effective_patterns(ws)
    decided = evaluate(ws, patterns, limit)
    pattern_store.save_rules_verdicts(
        ws.db,
        decided[DECIDED_COLUMNS],
        prompt_version=rules_version(ws, patterns),
        now=datetime.now(UTC).replace(tzinfo=None),
    )
    dropped = decided[~decided["kept"]]
    by_rule = dropped["rule"].value_counts()
    return RulesResult(
        judged=len(decided),
        kept=int(decided["kept"].sum()),
        dropped=len(dropped),
        median_words=float(decided["words"].median()) if len(decided) else 0.0,
        by_rule={str(r): int(n) for r, n in sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))},
    )
