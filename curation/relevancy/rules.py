"""The cheap first stage of the relevancy filter: curation patterns, URL path words and the word count.

The rules ran before the LLM judge when INDUS-SDE-ST's training data was cleaned (see SDE.md). Patterns are
resolved the way COSMOS resolves them: an include beats an exclude, among patterns of one kind the most
specific wins (exact URL, then the longer literal prefix, then a collection's over a global one), and every
verdict names the pattern or rule that decided it. This module orders them; DuckDB evaluates everything in one
scan (`store.patterns`), so a 300k-page workspace takes seconds. The word count compares a page with the
median of its own collection, so a collection of short dataset abstracts is not dropped for being shorter
than news pages.
"""

from __future__ import annotations

import hashlib
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
from pydantic import BaseModel

from curation.relevancy.patterns import VALUE_KINDS, Pattern, effective_patterns
from store import patterns as pattern_store

if TYPE_CHECKING:
    from curation.core import Workspace


class RulesResult(BaseModel):
    """What one rules run decided."""

    judged: int
    kept: int
    dropped: int
    median_words: float
    by_rule: dict[str, int]


def _reason(p: Pattern) -> str:
    return f'URL matches the {p.kind} pattern "{p.pattern_id}"' + (f" ({p.pattern})" if p.kind == "include" else "")


def _parts(p: Pattern) -> list[str]:
    """A value as template parts: literal text, or `{field}` for a title template's field."""
    if p.kind != "title":
        return [p.value or ""]
    parts: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(p.value or ""):
        parts += [literal] if literal else []
        parts += ["{" + field] if field else []
    return parts


def rule_spec(ws: Workspace, patterns: list[Pattern], limit: int | None = None) -> pattern_store.RuleSpec:
    """The active patterns in the order that resolves them, with the `[rules]` path words and word count."""
    active = sorted((p for p in patterns if p.active), key=lambda p: p.specificity(), reverse=True)
    rules = ws.settings.rules

    def matcher(p: Pattern) -> pattern_store.Matcher:
        return (p.regex(), p.target(), p.scope)

    return pattern_store.RuleSpec(
        includes=[(matcher(p), p.label(), _reason(p)) for p in active if p.kind == "include"],
        excludes=[(matcher(p), p.label(), _reason(p)) for p in active if p.kind == "exclude"],
        values={k: [(matcher(p), _parts(p)) for p in active if p.kind == k] for k in VALUE_KINDS},
        path_words=rules.path_words,
        fraction=rules.min_words_fraction,
        floor=rules.min_words_floor,
        limit=limit,
    )


def evaluate(ws: Workspace, patterns: list[Pattern], candidate: Pattern | None = None) -> pd.DataFrame:
    """What the rules with these patterns decide for every document, nothing stored; `candidate` marks the
    documents one pattern matches (column `candidate`)."""
    spec = rule_spec(ws, patterns)
    if candidate is not None:
        spec.candidate = (candidate.regex(), candidate.target(), candidate.scope)
    frame = pattern_store.evaluate_rules(ws.db, spec)
    frame["kept"] = frame["kept"].astype(bool)
    return frame


def rules_version(ws: Workspace, patterns: list[Pattern]) -> str:
    """The settings' hash with the active patterns: stored with each verdict so a reviewer can tell what ran."""
    text = ws.settings.rules.version() + "".join(sorted(p.model_dump_json() for p in patterns if p.active))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def run_rules(ws: Workspace, limit: int | None = None) -> RulesResult:
    """Judge every document (the first `limit` by id) with the workspace's patterns and rules; replaces earlier
    rules verdicts."""
    patterns = effective_patterns(ws)
    counts = pattern_store.apply_rules(
        ws.db,
        rule_spec(ws, patterns, limit),
        prompt_version=rules_version(ws, patterns),
        now=datetime.now(UTC).replace(tzinfo=None),
    )
    return RulesResult(**counts)
