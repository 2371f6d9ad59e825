"""Qrels files (BEIR TSV or TREC) stored as one annotator's judgments of a set."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.core import Reject, curator_name, save_rejects
from curation.ingest import import_qrels
from curation.judging.errors import JudgingError
from store import judgments as judgment_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core import Workspace


class JudgmentImport(BaseModel):
    """What `judgments import` stored."""

    query_set: str
    annotator: str
    judgments: int
    rejected: int
    rejects_file: str | None = None


def import_judgments(ws: Workspace, paths: list[Path], query_set: str, annotator: str) -> JudgmentImport:
    """Store qrels files (BEIR TSV or TREC) as an annotator's judgments, replacing that annotator's earlier
    import. Refused for an annotator who judged the set in the app, whose history must not be replaced."""
    annotator = curator_name(annotator, "importing judgments (--annotator)")
    if not query_store.query_ids(ws.db, query_set):
        raise JudgingError(f"query set {query_set!r} has no queries; import its queries first (`queries import`)")
    made_in_app = judgment_store.annotator_has_sessions(ws.db, query_set, annotator)
    if made_in_app:
        raise JudgingError(
            f"{annotator!r} has {made_in_app} judgments made in the app on {query_set!r}; "
            f"import under another name (e.g. {annotator}-import) so they are kept"
        )
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise JudgingError(f"no such file: {', '.join(missing)}")
    rejects: list[Reject] = []
    stored = import_qrels(ws, paths, query_set, annotator, rejects=rejects)
    rejects_file = save_rejects(ws.rejects_dir / f"judgments-{Path(paths[0]).stem}.csv", rejects)
    return JudgmentImport(
        query_set=query_set, annotator=annotator, judgments=stored, rejected=len(rejects), rejects_file=rejects_file
    )
