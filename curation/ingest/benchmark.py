"""Import a BEIR benchmark folder: corpus as documents, queries as a set, qrels as judgments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from pydantic import BaseModel

from curation.core import (
    QRELS_HEADER,
    InputError,
    ProgressCallback,
    Reject,
    benchmark_annotator,
    qrels_source,
    save_rejects,
)
from curation.ingest.load import IngestOptions, ingest
from curation.ingest.urls import normalize_url
from store import documents as document_store
from store import judgments as judgment_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core import Workspace


class BenchmarkImport(BaseModel):
    """What `import-benchmark` stored."""

    documents: int
    queries: int
    judgments: int
    rejected: int
    rejects_file: str | None = None


def import_benchmark(
    ws: Workspace, folder: Path, name: str, progress: ProgressCallback | None = None
) -> BenchmarkImport:
    """Read `corpus.jsonl`, `queries.jsonl` and every `qrels/*.tsv` of a BEIR folder.

    Documents new to the workspace join collection `name`; stored ones keep their collection (re-importing an
    exported half must not move the corpus), and every corpus document is recorded as a member of the
    benchmark. Qrels are stored as judgments by annotator `benchmark:<name>`, each file `qrels/<split>.tsv`
    naming the split its queries belong to; a score of 0 is kept as an explicit "not relevant". Re-importing
    replaces that annotator's judgments instead of doubling them.
    """
    corpus = folder / "corpus.jsonl"
    queries_file = folder / "queries.jsonl"
    for required in (corpus, queries_file):
        if not required.is_file():
            raise InputError(f"{folder}: not a BEIR folder ({required.name} is missing)")
    docs = ingest(ws, [corpus], IngestOptions(format="beir", new_collection=name, benchmark=name), progress)

    rejects: list[Reject] = []
    queries = import_queries(ws, queries_file, name, origin="benchmark", rejects=rejects)
    judgments = import_qrels(
        ws, sorted((folder / "qrels").glob("*.tsv")), name, benchmark_annotator(name), rejects=rejects
    )
    path = Path(docs.rejects_file) if docs.rejects_file else ws.rejects_dir / f"benchmark-{name}.csv"
    rejects_file = save_rejects(path, rejects) or docs.rejects_file
    return BenchmarkImport(
        documents=docs.inserted + docs.updated + docs.unchanged,
        queries=queries,
        judgments=judgments,
        rejected=docs.rejected + len(rejects),
        rejects_file=rejects_file,
    )


def import_queries(ws: Workspace, path: Path, query_set: str, *, origin: str, rejects: list[Reject]) -> int:
    """Add the queries of a BEIR `queries.jsonl` to a set; bad lines are appended to `rejects`."""
    rows = _read_queries(path, rejects)
    return query_store.upsert_queries(ws.db, query_set, rows, origin=origin, description=f"from {path}")


def import_qrels(ws: Workspace, paths: list[Path], query_set: str, annotator: str, *, rejects: list[Reject]) -> int:
    """Store BEIR qrels files as one annotator's judgments for a set, replacing that annotator's old ones."""
    known_queries = query_store.query_ids(ws.db, query_set)
    rows = [row for path in paths for row in _read_qrels(path, known_queries, rejects)]
    _resolve_url_ids(ws, rows)
    return judgment_store.replace_annotator_judgments(ws.db, query_set, annotator, rows)


def _resolve_url_ids(ws: Workspace, rows: list[dict[str, object]]) -> None:
    """Qrels may name pages by URL as written; stored pages are keyed by the normalized URL."""
    urls = {str(r["doc_id"]) for r in rows if str(r["doc_id"]).startswith(("http://", "https://"))}
    if not urls:
        return
    stored = document_store.existing_ids(ws.db, [*urls, *map(normalize_url, urls)])
    for row in rows:
        doc_id = str(row["doc_id"])
        if doc_id in urls and doc_id not in stored and normalize_url(doc_id) in stored:
            row["doc_id"] = normalize_url(doc_id)


def _read_queries(path: Path, rejects: list[Reject]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                rejects.append(Reject(file=str(path), line=number, reason=f"invalid JSON: {exc}"))
                continue
            query_id = str(data.get("_id", "")).strip() if isinstance(data, dict) else ""
            text = str(data.get("text", "")).strip() if isinstance(data, dict) else ""
            if not query_id or not text:
                rejects.append(Reject(file=str(path), line=number, reason="query needs _id and text"))
                continue
            metadata = data.get("metadata") or None
            rows.append(
                {
                    "query_id": query_id,
                    "text": text,
                    "metadata": orjson.dumps(metadata).decode() if metadata else None,
                }
            )
    return rows


def _read_qrels(path: Path, known_queries: set[str], rejects: list[Reject]) -> list[dict[str, object]]:
    """Rows of a BEIR qrels TSV (header line optional, CRLF or LF line ends) or of TREC qrels
    (`query 0 doc grade`, whitespace-separated), told apart line by line."""
    rows: list[dict[str, object]] = []
    source = qrels_source(path.name)
    with open(path, newline="", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("\t")
            if number == 1 and tuple(f.strip().lower() for f in fields) == QRELS_HEADER:
                continue
            if not line.strip():
                continue
            if len(fields) != 3 and len(line.split()) == 4:
                fields = [line.split()[i] for i in (0, 2, 3)]  # TREC: query, iteration (unused), doc, grade
            if len(fields) != 3:
                rejects.append(
                    Reject(
                        file=str(path),
                        line=number,
                        reason=f"expected 3 tab-separated (BEIR) or 4 (TREC) fields, got {len(fields)}",
                    )
                )
                continue
            query_id, doc_id, score = (f.strip() for f in fields)
            try:
                grade = int(float(score))
            except ValueError:
                rejects.append(Reject(file=str(path), line=number, reason=f"score {score!r} is not a number"))
                continue
            if query_id not in known_queries:
                rejects.append(
                    Reject(file=str(path), line=number, reason=f"query {query_id!r} is not in queries.jsonl")
                )
                continue
            rows.append({"query_id": query_id, "doc_id": doc_id, "grade": grade, "source": source})
    return rows
