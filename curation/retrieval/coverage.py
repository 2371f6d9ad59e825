"""Every retriever of the registry with whether it can run here and how much of the corpus it has vectors for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.retrieval.embed_job import current_fingerprint, table_name
from embeddings.registry import RetrieverSpec, availability
from store import documents as document_store
from store import vectors

if TYPE_CHECKING:
    from curation.core import Workspace


class RetrieverCoverage(BaseModel):
    """A retriever as the Embed page and `retrievers` show it: can it run, and how much is embedded."""

    name: str
    kind: str
    model: str | None
    description: str
    available: bool
    source: str
    hint: str | None
    documents: int
    current: int
    stale: int
    missing: int
    passages: int


def coverage(ws: Workspace) -> list[RetrieverCoverage]:
    """Every retriever of the registry with its availability and its vectors over the documents."""
    return [_coverage(ws, name, spec) for name, spec in ws.settings.retrievers.items()]


def _coverage(ws: Workspace, name: str, spec: RetrieverSpec) -> RetrieverCoverage:
    table = table_name(name)
    found = availability(name, spec, ws.root)
    counts = document_store.vector_coverage(ws.db, vectors.present_documents(ws.vectors_uri, table))
    if vectors.fingerprint(ws.vectors_uri, table) not in (None, current_fingerprint(ws, name)):
        counts = {**counts, "current": 0, "stale": counts["current"] + counts["stale"]}
    return RetrieverCoverage(
        name=name,
        kind=spec.kind,
        model=spec.model,
        description=spec.description,
        available=found.available,
        source=found.source,
        hint=found.hint,
        passages=vectors.passage_count(ws.vectors_uri, table),
        **counts,
    )
