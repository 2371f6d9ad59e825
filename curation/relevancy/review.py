"""Curator review of the filter's verdicts: what the judges decided, decisions one at a time or in bulk, and
taxonomy suggestions.

Every decision is stored with the curator's name and time and wins over machine verdicts; nothing is
recorded without a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from curation.core import curator_name
from store import verdicts as verdict_store

if TYPE_CHECKING:
    from curation.core import Workspace


def verdicts(ws: Workspace, **filters: Any) -> pd.DataFrame:
    """The verdict in force per document with its url, title, facets, LLM confidence and suggestions.

    Filters: kept, judge, quality, rule, division, collection, min_confidence; `limit` and `offset` page it.
    """
    return verdict_store.verdict_table(ws.db, **filters)


def verdict_matches(ws: Workspace, **filters: Any) -> int:
    """How many documents `verdicts` lists under the same filters (without limit and offset)."""
    return verdict_store.verdict_matches(ws.db, **filters)


def verdict_counts(ws: Workspace) -> dict[str, dict[str, int]]:
    """Documents by verdict in force (kept/dropped/unjudged), by judge, by rule, by LLM quality, and LLM failures."""
    return verdict_store.verdict_counts(ws.db)


def llm_failures(ws: Workspace, limit: int = 200) -> pd.DataFrame:
    """The latest failure per document the LLM has not judged yet, with its reason (retried on the next run)."""
    return verdict_store.llm_errors(ws.db, limit)


def pending_suggestions(ws: Workspace, *, min_confidence: float = 0.0) -> pd.DataFrame:
    """Division and document-type suggestions of current LLM verdicts that differ and are not reviewed yet."""
    return verdict_store.pending_suggestions(ws.db, min_confidence=min_confidence)


def kept_documents(ws: Workspace) -> set[str]:
    """Documents whose verdict in force keeps them: what search, maps, comparison and export restrict to.

    Documents no judge has seen are not included: run the rules first (they take seconds).
    """
    return verdict_store.kept_doc_ids(ws.db)


def decide(ws: Workspace, doc_ids: Sequence[str], *, kept: bool, curator: str, note: str | None = None) -> int:
    """Keep or drop documents by a curator's decision (overriding any machine verdict)."""
    return verdict_store.record_decisions(
        ws.db, doc_ids, kept=kept, decided_by=curator_name(curator), note=note or None
    )


def accept_verdicts(ws: Workspace, curator: str, **filters: Any) -> int:
    """Make the machine verdicts in force that match `filters` (see `verdicts`) the curator's own.

    For example `quality="GOOD", min_confidence=0.8` accepts every GOOD verdict the judge was sure of.
    Documents a curator already decided are left as they are.
    """
    who = curator_name(curator)
    table = verdict_store.verdict_table(ws.db, **filters)
    table = table[table["judge"] != "curator"]
    note = "accepted machine verdict"
    kept = table.loc[table["kept"].astype(bool), "doc_id"].tolist()
    dropped = table.loc[~table["kept"].astype(bool), "doc_id"].tolist()
    return verdict_store.record_decisions(ws.db, kept, kept=True, decided_by=who, note=note) + (
        verdict_store.record_decisions(ws.db, dropped, kept=False, decided_by=who, note=note)
    )


def review_suggestions(ws: Workspace, items: Sequence[tuple[str, str, str]], *, accepted: bool, curator: str) -> int:
    """Accept (the document takes the value, also across re-ingests) or reject (doc_id, field, value) suggestions."""
    return verdict_store.review_suggestions(ws.db, items, accepted=accepted, decided_by=curator_name(curator))
