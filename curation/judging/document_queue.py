"""Documents queued for judging (from the Map page), which query generation writes queries for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from curation.core import InputError, curator_name
from store import queue as queue_store

if TYPE_CHECKING:
    from curation.core import Workspace


def queue_for_judging(ws: Workspace, doc_ids: Sequence[str], curator: str) -> int:
    """Queue documents for judging (once each); returns how many were newly queued."""
    return queue_store.queue_documents(ws.db, doc_ids, curator_name(curator, "queueing documents"))


def judging_queue(ws: Workspace) -> pd.DataFrame:
    """The queued documents, oldest first: doc_id, added_by, added_at."""
    return queue_store.queued_documents(ws.db)


def queued_documents(ws: Workspace) -> list[str]:
    """The documents a curator queued for judging (on the Map page), oldest first: "selected documents"."""
    picked = queue_store.queued_documents(ws.db)["doc_id"].tolist()
    if not picked:
        raise InputError("no documents are queued for judging; select some on the Map page and queue them")
    return picked
