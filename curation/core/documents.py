"""The stored documents as every stage reads them: what a retriever reads of a page, lookups and counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
