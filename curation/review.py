"""Curator review of the filter's verdicts: decisions one at a time or in bulk, and taxonomy suggestions.

Every decision is stored with the curator's name and time and wins over machine verdicts; nothing is
recorded without a name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curation.workspace import Workspace
from store import verdicts as verdict_store


class CuratorRequired(ValueError):
    """A decision was attempted without a curator name."""


def _who(curator: str) -> str:
    name = curator.strip()
    if not name:
        raise CuratorRequired("enter your name as curator before recording decisions")
    return name


def decide(ws: Workspace, doc_ids: Sequence[str], *, kept: bool, curator: str, note: str | None = None) -> int:
    """Keep or drop documents by a curator's decision (overriding any machine verdict)."""
    return verdict_store.record_decisions(ws.db, doc_ids, kept=kept, decided_by=_who(curator), note=note or None)


def accept_verdicts(ws: Workspace, curator: str, **filters: Any) -> int:
    """Make the machine verdicts in force that match `filters` (see `verdict_table`) the curator's own.

    For example `quality="GOOD", min_confidence=0.8` accepts every GOOD verdict the judge was sure of.
    Documents a curator already decided are left as they are.
    """
    who = _who(curator)
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
    return verdict_store.review_suggestions(ws.db, items, accepted=accepted, decided_by=_who(curator))
