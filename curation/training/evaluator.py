"""Evaluation while training: the workspace's judgments for `--eval SET[:SPLIT]`, scored on the model being
trained with the Evaluate page's metrics (`score_rankings`) and its document encoding (the retriever's chunks or
truncation, prompts and normalisation, through the same `Encoder`), every `--eval-steps` on the main process.

The sets are read from the workspace before training (`prepare_evaluation`) into a plain bundle, so the
training processes (one, or several under torchrun) never open the database. Each evaluation appends a row to
`metrics.jsonl` in the checkpoint folder; with `--select METRIC@SET[:SPLIT]` the best model so far is saved to
`best/` there, kept next to the last one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from pydantic import BaseModel
from sentence_transformers.base.evaluation.evaluator import SentenceEvaluator

from curation.core import retrieval_text
from curation.evaluation import (
    LEADERBOARD_METRICS,
    load_qrels,
    parse_benchmarks,
    parse_metrics,
    run_depth,
    score_rankings,
)
from curation.training.errors import FinetuneError
from embeddings.encoder import Encoder
from embeddings.registry import RetrieverSpec
from store import documents as document_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core import Workspace

_SELECT = re.compile(r"^(?P<metric>[a-z_-]+(@\d+)?(-l\d+)?)@(?P<bench>.+)$")
EVAL_LOG = "metrics.jsonl"
BEST = "best"


class EvalSet(BaseModel):
    """One benchmark: its judged queries' texts and grades."""

    label: str
    queries: dict[str, str]
    grades: dict[str, dict[str, int]]


class EvalBundle(BaseModel):
    """What the evaluator needs, read from the workspace before training."""

    sets: list[EvalSet]
    documents: dict[str, str]
    metrics: list[str]
    threshold: int
    select: tuple[str, str] | None = None


def prepare_evaluation(ws: Workspace, entries: list[str], select: str | None) -> EvalBundle | None:
    """The `--eval` sets with their judgments and the corpus; None without any."""
    chosen = None
    if select:
        match = _SELECT.match(select.strip().lower() if "@" in select else "")
        if not match:
            raise FinetuneError(f"--select {select!r}: use METRIC@SET[:SPLIT], e.g. ndcg@5@scifact:test")
        chosen = (parse_metrics(match["metric"], [])[0], parse_benchmarks(ws, match["bench"])[0].label)
        entries = [*entries, select.strip()[len(match["metric"]) + 1 :]]
    if not entries:
        return None
    benchmarks = {b.label: b for b in parse_benchmarks(ws, entries)}
    threshold = ws.settings.evaluation.threshold
    sets = []
    for label, bench in benchmarks.items():
        qrels = load_qrels(ws, bench.query_set, None, bench.splits)
        relevant = qrels.relevant(threshold)
        texts = query_store.load_queries(ws.db, bench.query_set)
        texts = {q: t for q, t in zip(texts["query_id"], texts["text"], strict=True) if q in relevant}
        if not texts:
            raise FinetuneError(f"--eval {label}: no query has a document graded {threshold} or more")
        sets.append(EvalSet(label=label, queries=texts, grades={q: qrels.grades[q] for q in texts}))
    frame = document_store.document_fields(ws.db, document_store.sample_doc_ids(ws.db, None, 0), ("title", "text"))
    documents = {d: retrieval_text(t, x) for d, t, x in frame[["doc_id", "title", "text"]].itertuples(index=False)}
    metrics = list(LEADERBOARD_METRICS) + ([chosen[0]] if chosen and chosen[0] not in LEADERBOARD_METRICS else [])
    return EvalBundle(sets=sets, documents=documents, metrics=metrics, threshold=threshold, select=chosen)


class WorkspaceEvaluator(SentenceEvaluator):
    """Scores the model on the bundle's sets; logs each evaluation and keeps the best model (main process)."""

    def __init__(self, bundle: EvalBundle, spec: RetrieverSpec, folder: Path, batch_size: int) -> None:
        super().__init__()
        self.bundle, self.spec, self.folder, self.batch_size = bundle, spec, folder, batch_size
        if bundle.select:
            self.primary_metric = _key(*reversed(bundle.select))
        self.greater_is_better = True

    def __call__(self, model: Any, output_path: str | None = None, epoch: float = -1, steps: int = -1) -> dict:
        values = evaluate_model(self.bundle, self.spec, model, self.batch_size)
        row = {"step": max(steps, 0), "epoch": epoch if epoch >= 0 else None, "metrics": values}
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / EVAL_LOG).open("ab") as log:
            log.write(orjson.dumps(row) + b"\n")
        if self.bundle.select:
            metric, label = self.bundle.select
            best = best_row(self.folder, self.bundle.select)
            if best is None or best["step"] == row["step"]:
                model.save(str(self.folder / BEST))
                (self.folder / "best.json").write_bytes(orjson.dumps(row))
        return {_key(label, m): v for label, by in values.items() for m, v in by.items()}


def evaluate_model(bundle: EvalBundle, spec: RetrieverSpec, model: Any, batch_size: int) -> dict[str, dict[str, float]]:
    """Metrics by set label: documents encoded as the retriever encodes them, each scoring as its best passage."""
    encoder = Encoder(spec, model, str(model.device), batch_size)
    chunker = encoder.chunker()
    doc_ids = list(bundle.documents)
    texts = [bundle.documents[d] for d in doc_ids]
    encode, starts = [], []
    for text, passages in zip(texts, chunker.split(texts), strict=True):
        starts.append(len(encode))
        encode += [text] if chunker.first_only else passages
    vectors = _unit(encoder.encode_passages(encode))
    depth = min(run_depth(bundle.metrics), len(doc_ids))
    values = {}
    for evalset in bundle.sets:
        ids = list(evalset.queries)
        scores = _unit(encoder.encode_queries([evalset.queries[q] for q in ids])) @ vectors.T
        per_doc = np.maximum.reduceat(scores, starts, axis=1)
        top = np.argsort(-per_doc, axis=1, kind="stable")[:, :depth]
        rankings = {q: {doc_ids[j]: float(per_doc[i, j]) for j in top[i]} for i, q in enumerate(ids)}
        values[evalset.label] = score_rankings(evalset.grades, rankings, bundle.metrics, bundle.threshold)
    return values


def eval_rows(folder: Path) -> list[dict[str, Any]]:
    """The evaluations logged in a checkpoint folder, one per step (the latest row of a step wins)."""
    path = folder / EVAL_LOG
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines() if line] if path.exists() else []
    return sorted({r["step"]: r for r in rows}.values(), key=lambda r: r["step"])


def best_row(folder: Path, select: tuple[str, str]) -> dict[str, Any] | None:
    """The logged evaluation with the highest selected metric (the earliest on ties)."""
    metric, label = select
    rows = eval_rows(folder)
    return max(rows, key=lambda r: (r["metrics"][label][metric], -r["step"])) if rows else None


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _key(label: str, metric: str) -> str:
    return f"{label}/{metric}"
