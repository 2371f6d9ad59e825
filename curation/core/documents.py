"""The stored documents as every stage reads them: what a retriever reads of a page, lookups and counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from store import collections as collection_store
from store import documents as document_store

if TYPE_CHECKING:
    from curation.core.workspace import Workspace


def retrieval_text(title: str, text: str) -> str:
    """What a retriever reads of a document, when embedding it and when training on it: title, then text."""
    return f"{title}\n\n{text}" if title else text


def get_documents(ws: Workspace, doc_ids: list[str]) -> list[dict[str, Any]]:
    """The stored rows of these documents (every field), in no particular order; unknown ids are left out."""
    return document_store.get_documents(ws.db, doc_ids)


def document_counts(ws: Workspace, field: str) -> dict[str, int]:
    """Documents per value of `division`, `document_type` or `collection`, most common first."""
    return document_store.counts_by(ws.db, field)


def collection_names(ws: Workspace) -> dict[str, str]:
    """{collection key: its name as typed at ingest or given by the manifest}; keys without one are left out."""
    return collection_store.collection_names(ws.db)


def collection_label(names: dict[str, str], key: str) -> str:
    """What people read for a collection: its name, else its key."""
    return names.get(key, key)


def documents_with(ws: Workspace, facet: str, value: str | None, limit: int = 500) -> pd.DataFrame:
    """The documents of one division, document type or collection (None: those without one), by title."""
    return collection_store.documents_with(ws.db, facet, value, limit)
