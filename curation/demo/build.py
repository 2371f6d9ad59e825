"""The demo workspace `make run` opens: the project's demo corpus, queries and judgments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from curation.core import ProgressCallback, Reject, benchmark_annotator
from curation.core import demo_dir as default_demo_dir
from curation.ingest import import_qrels, import_queries, ingest
from curation.retrieval import embed

if TYPE_CHECKING:
    from curation.core import Workspace

DEMO_QUERY_SET = "demo"
DEMO_ANNOTATOR = benchmark_annotator(DEMO_QUERY_SET)
DEMO_RETRIEVER = "minilm"  # ships inside a Python package, so the demo has vectors with no download


class DemoBuild(BaseModel):
    documents: int
    queries: int
    judgments: int
    rejected: int
    embedded: int


def build_demo(
    ws: Workspace,
    demo_dir: Path | None = None,
    progress: ProgressCallback | None = None,
    embed_progress: ProgressCallback | None = None,
    retriever: str | None = DEMO_RETRIEVER,
) -> DemoBuild:
    """Load the demo corpus (indexer exports), its queries and their judgments into `ws`, and embed
    it with `retriever` (the packaged MiniLM: search works on first start; None skips embedding)."""
    demo_dir = demo_dir or default_demo_dir()
    result = ingest(ws, [demo_dir / "corpus"], progress=progress)
    rejects: list[Reject] = []
    queries = import_queries(ws, demo_dir / "queries.jsonl", DEMO_QUERY_SET, origin="demo", rejects=rejects)
    judgments = import_qrels(
        ws, sorted((demo_dir / "qrels").glob("*.tsv")), DEMO_QUERY_SET, DEMO_ANNOTATOR, rejects=rejects
    )
    embedded = embed(ws, retriever, progress=embed_progress) if retriever else None
    return DemoBuild(
        documents=result.inserted + result.updated + result.unchanged,
        queries=queries,
        judgments=judgments,
        rejected=result.rejected + len(rejects),
        embedded=embedded.embedded + embedded.skipped if embedded else 0,
    )
