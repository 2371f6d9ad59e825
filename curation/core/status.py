"""What a workspace holds, for `status` and the Overview page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from store import documents as document_store
from store import judgments as judgment_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core.workspace import Workspace


class WorkspaceStatus(BaseModel):
    workspace: str
    schema_version: int
    documents: int
    by_division: dict[str, int]
    by_document_type: dict[str, int]
    by_collection: dict[str, int]
    taxonomy_flags: dict[str, int]
    query_sets: dict[str, int]
    judgments: int
    judgments_by_annotator: dict[str, int]


def workspace_status(ws: Workspace) -> WorkspaceStatus:
    """Counts of documents by taxonomy and collection, of query sets and of judgments in force."""
    judgments = judgment_store.judgment_counts(ws.db)
    by_annotator: dict[str, int] = {}
    for row in judgments:
        by_annotator[row["annotator"]] = by_annotator.get(row["annotator"], 0) + row["judgments"]
    return WorkspaceStatus(
        workspace=str(ws.root),
        schema_version=ws.db.schema_version,
        documents=document_store.count_documents(ws.db),
        by_division=document_store.counts_by(ws.db, "division"),
        by_document_type=document_store.counts_by(ws.db, "document_type"),
        by_collection=document_store.counts_by(ws.db, "collection"),
        taxonomy_flags=document_store.flagged_counts(ws.db),
        query_sets={s["name"]: s["queries"] for s in query_store.list_query_sets(ws.db)},
        judgments=sum(by_annotator.values()),
        judgments_by_annotator=by_annotator,
    )
