"""The cheap first stage of the relevancy filter: SDE's word-count, URL-path-word and exclude rules.

The rules ran before the LLM judge when INDUS-SDE-ST's training data was cleaned (see SDE.md). They
are evaluated in DuckDB (`store.verdicts.apply_rules`), so a 500k-page workspace takes seconds, and
every dropped document records the rule that fired.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel

from store import verdicts as verdict_store

if TYPE_CHECKING:
    from curation.core import Workspace


class RulesResult(BaseModel):
    """What one rules run decided."""

    judged: int
    kept: int
    dropped: int
    median_words: float
    by_rule: dict[str, int]


def run_rules(ws: Workspace, limit: int | None = None) -> RulesResult:
    """Judge every document (the first `limit` by id) with the workspace's rules; replaces earlier rules verdicts."""
    rules = ws.settings.rules
    counts = verdict_store.apply_rules(
        ws.db,
        min_words_fraction=rules.min_words_fraction,
        path_words=rules.path_words,
        url_patterns=rules.exclude_patterns,
        prompt_version=rules.version(),
        now=datetime.now(UTC).replace(tzinfo=None),
        limit=limit,
    )
    return RulesResult(**counts)
