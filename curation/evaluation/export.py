"""Export judgments for training and benchmarking: the machinery every export shares, and BEIR folders and
TREC files (training pairs are written by `curation.training`).

Layouts (one folder per split with `--split`, the folder itself without):
- pairs: `dataset/` (a Hugging Face DatasetDict saved to disk, one split each), `<split>.parquet` and
  `<split>.jsonl`, all with columns anchor, positive, negative. Positives are documents graded at or
  above the threshold. A pair's negative is, in this order of preference, a document judged below the
  threshold for that query, a highly ranked unjudged document of `--negatives-from`'s stored run, or
  (when a query has neither) a seeded random unjudged document. A judged positive of a query is never
  its negative. Only the `train` split's pairs are for training; a guard refuses to write them when an
  anchor is a query of another split.
- beir: `corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv` (`qrels/<split>.tsv` in split folders, and one
  `qrels/<split>.tsv` per split of a set that has its own), which `import-benchmark` reads back as the same
  documents, queries, grades and splits.

Splits: `--split` deals the queries out afresh (linked queries together, see `splits`); without it a set imported
with several qrels files keeps its own splits, and pairs always use those when the set has them.
- trec: `qrels.txt` and `runs/<run>.txt` for the set's stored runs (scores are 1/rank, so every TREC
  tool reads back the stored order).
Each export writes `export.json` (what was exported, never any setting or key) and replaces an earlier
export in the same folder only once the new one is complete.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson
import pandas as pd
from pydantic import BaseModel, Field

from curation.core import natural_key
from curation.evaluation.errors import ExportError
from curation.evaluation.qrels import JudgmentsError, Qrels, load_qrels, set_splits
from curation.evaluation.qrels_files import write_qrels
from curation.evaluation.splits import TRAIN, SplitQuery, assign_splits, leaking_queries
from curation.retrieval import ranking, resolve_run, stored_runs
from store import documents as document_store
from store import queries as query_store

if TYPE_CHECKING:
    from curation.core import Workspace

ExportKind = Literal["pairs", "beir", "trec"]
BenchmarkKind = Literal["beir", "trec"]
MANIFEST = "export.json"


class ExportOptions(BaseModel):
    """What to export; unset values come from the `[export]` and `[evaluation]` settings."""

    query_set: str
    out: Path | None = Field(None, description="folder to write; exports/<kind>-<set> by default")
    split: dict[str, float] | None = Field(None, description="split name -> fraction of the queries")
    seed: int | None = None
    judgments: str | None = Field(None, description="annotator, 'all' or benchmark:NAME")
    threshold: int | None = Field(None, description="lowest grade of a positive pair")
    negatives_from: str | None = Field(None, description="retriever (or run) whose ranking gives hard negatives")
    negatives: int | None = Field(
        None, ge=1, le=32, description="pairs: negatives per pair mined by --negatives-from's model (a dense one)"
    )
    margin: float | None = Field(None, ge=0, lt=1, description="mining: relative margin below the positive's score")
    range_min: int = Field(0, ge=0, description="mining: skip this many top candidates (likely unjudged positives)")
    range_max: int | None = Field(None, ge=1, description="mining: consider candidates down to this rank")
    runs: list[str] | None = Field(None, description="retrievers or runs exported as TREC runs; all by default")


class ExportResult(BaseModel):
    """What an export wrote (also saved as the folder's export.json)."""

    kind: ExportKind
    query_set: str
    judgments: str
    out: str
    split: dict[str, float] | None
    seed: int
    queries: dict[str, int] = Field(description="queries per split")
    rows: dict[str, int] = Field(description="pairs, or qrels lines, per split")
    files: list[str]
    negatives: dict[str, int] = Field(default_factory=dict, description="pairs export: negatives by source")
    left_out: dict[str, int] = Field(
        default_factory=dict, description="queries of a split left out for being linked to a query of another split"
    )
    runs: list[str] = Field(default_factory=list)
    created_at: datetime


@dataclass
class ExportPlan:
    """What an export will write: the set's queries, the grades, each split's query ids (a query of a set's own
    splits may be in several), what splitting knows of each query, and the result so far."""

    queries: pd.DataFrame
    texts: dict[str, str]
    qrels: Qrels
    members: dict[str, list[str]]
    split_queries: dict[str, SplitQuery]
    own_splits: bool
    result: ExportResult


def plan_export(ws: Workspace, kind: ExportKind, options: ExportOptions) -> ExportPlan:
    """Queries, grades and split membership of an export; raises ExportError, JudgmentsError on bad requests."""
    seed = ws.settings.export.seed if options.seed is None else options.seed
    queries = query_store.load_queries(ws.db, options.query_set)
    if queries.empty:
        raise ExportError(f"query set {options.query_set!r} does not exist or has no queries")
    qrels = load_qrels(ws, options.query_set, options.judgments)
    texts = dict(zip(queries["query_id"], queries["text"], strict=True))
    threshold = options.threshold or ws.settings.evaluation.threshold
    split_queries = _split_queries(queries, qrels, threshold)
    own = {s: [q for q in ids if q in texts] for s, ids in set_splits(ws, options.query_set).items()}
    own = {s: ids for s, ids in own.items() if ids} if len(own) > 1 or kind == "pairs" else {}
    if options.split and own and kind == "pairs":
        raise ExportError(
            f"query set {options.query_set!r} has its own splits ({', '.join(own)}): training pairs come from its "
            f"{TRAIN!r} split; leave out --split"
        )
    left_out: dict[str, int] = {}
    if options.split:
        split_of = assign_splits(split_queries, options.split, seed)
        members = {s: sorted(q for q, sp in split_of.items() if sp == s) for s in options.split}
    elif own:
        members = own
        if kind == "pairs" and TRAIN in members:
            leaking = leaking_queries(members, split_queries)
            members[TRAIN] = [q for q in members[TRAIN] if q not in leaking]
            left_out = {TRAIN: len(leaking)} if leaking else {}
    else:
        whole = TRAIN if kind == "pairs" else "all"  # without --split, pairs are all for training
        members = {whole: sorted(texts)}
    splits = list(members)
    if kind == "pairs" and TRAIN not in splits:
        raise ExportError(f"training pairs need a split named {TRAIN!r} (got {', '.join(splits)})")
    out = Path(options.out or ws.exports_dir / f"{kind}-{safe_name(options.query_set)}").expanduser().resolve()
    result = ExportResult(
        kind=kind,
        query_set=options.query_set,
        judgments=qrels.source,
        out=str(out),
        split=options.split,
        seed=seed,
        queries={s: len(ids) for s, ids in members.items()},
        rows={},
        files=[],
        left_out=left_out,
        created_at=datetime.now(UTC),
    )
    return ExportPlan(queries, texts, qrels, members, split_queries, bool(own) and not options.split, result)


def _split_queries(queries: pd.DataFrame, qrels: Qrels, threshold: int) -> dict[str, SplitQuery]:
    """What splitting and the leak guard know of each query: text, source document, relevant documents."""
    positives = qrels.relevant(threshold)
    found = {}
    for query_id, text, metadata in queries[["query_id", "text", "metadata"]].itertuples(index=False):
        data = orjson.loads(metadata) if isinstance(metadata, str) else {}
        source = data.get("source_doc") if isinstance(data, dict) else None
        found[query_id] = SplitQuery(text, str(source) if source else None, frozenset(positives.get(query_id, ())))
    return found


@contextmanager
def export_folder(plan: ExportPlan) -> Iterator[Path]:
    """A staging folder to write the export into; on success its file list and `export.json` are added and it
    replaces the output folder."""
    with _replacing(Path(plan.result.out)) as staging:
        yield staging
        plan.result.files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        manifest = orjson.dumps(plan.result.model_dump(mode="json"), option=orjson.OPT_INDENT_2)
        (staging / MANIFEST).write_bytes(manifest)


def export_benchmark(ws: Workspace, kind: BenchmarkKind, options: ExportOptions) -> ExportResult:
    """Write a BEIR folder or TREC files for `options.query_set` (one folder per split with `split`)."""
    plan = plan_export(ws, kind, options)
    with export_folder(plan) as staging:
        separate = bool(options.split) or (plan.own_splits and kind == "trec")
        folders = {s: staging / s if separate else staging for s in plan.members}
        if kind == "beir":
            _write_beir(ws, folders, plan.members, plan.queries, _split_qrels(ws, plan, options), plan.result)
        else:
            _write_trec(ws, folders, plan.members, _split_qrels(ws, plan, options), options, plan.result)
    return plan.result


def _split_qrels(ws: Workspace, plan: ExportPlan, options: ExportOptions) -> dict[str, Qrels]:
    """The grades each split writes: its own qrels file's for a set's own splits (a pair judged in two files
    keeps each file's grade), the set's grades otherwise."""
    if not plan.own_splits:
        return dict.fromkeys(plan.members, plan.qrels)
    found = {}
    for split in plan.members:
        try:
            found[split] = load_qrels(ws, options.query_set, options.judgments, [split])
        except JudgmentsError:
            found[split] = Qrels(source=plan.qrels.source, grades={})
    return found


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "export"


@contextmanager
def _replacing(out: Path) -> Iterator[Path]:
    """A staging folder that replaces `out` only when the export completes; a foreign folder is never touched."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists())):
        raise ExportError(f"{out} exists and is not an earlier export; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    if out.exists():
        out.rename(old)
    staging.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _write_beir(
    ws: Workspace,
    folders: dict[str, Path],
    members: dict[str, list[str]],
    queries: pd.DataFrame,
    qrels: dict[str, Qrels],
    result: ExportResult,
) -> None:
    """Per folder: the corpus, the queries of the splits written there, and one qrels file per split (`test.tsv`
    for a whole set, the split's name otherwise)."""
    metadata = dict(zip(queries["query_id"], queries["metadata"], strict=True))
    texts = dict(zip(queries["query_id"], queries["text"], strict=True))
    corpus: Path | None = None
    for folder in dict.fromkeys(folders.values()):
        (folder / "qrels").mkdir(parents=True)
        if corpus is None:
            corpus = folder / "corpus.jsonl"
            document_store.write_beir_corpus(ws.db, corpus)
        else:
            _link_or_copy(corpus, folder / "corpus.jsonl")
        here = [s for s, f in folders.items() if f == folder]
        with open(folder / "queries.jsonl", "wb") as handle:
            for q in sorted({q for s in here for q in members[s]}, key=natural_key):
                extra = orjson.loads(metadata[q]) if isinstance(metadata[q], str) else {}
                handle.write(orjson.dumps({"_id": q, "text": texts[q], "metadata": extra}) + b"\n")
        for split in here:
            name = "test" if split == "all" else split
            result.rows[split] = write_qrels(folder / "qrels" / f"{name}.tsv", members[split], qrels[split], "beir")


def _link_or_copy(source: Path, target: Path) -> None:
    """Split folders share one corpus file: a hard link where the file system allows, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _write_trec(
    ws: Workspace,
    folders: dict[str, Path],
    members: dict[str, list[str]],
    qrels: dict[str, Qrels],
    options: ExportOptions,
    result: ExportResult,
) -> None:
    """`qrels.txt` (query 0 doc grade) and `runs/<run>.txt` (query Q0 doc rank score run), as trec_eval reads them."""
    if options.runs:
        runs = list(dict.fromkeys(resolve_run(ws, r, options.query_set).run for r in options.runs))
    else:
        runs = [r.name for r in stored_runs(ws, options.query_set)]
    rankings = {run: ranking(ws, run) for run in runs}
    for split, folder in folders.items():
        (folder / "runs").mkdir(parents=True)
        result.rows[split] = write_qrels(folder / "qrels.txt", members[split], qrels[split], "trec")
        for run, ranked in rankings.items():
            lines = [
                f"{q} Q0 {d} {rank} {score:.6f} {safe_name(run)}\n"
                for q in members[split]
                for rank, (d, score) in enumerate(ranked.get(q, {}).items(), start=1)
            ]
            (folder / "runs" / f"{safe_name(run)}.txt").write_text("".join(lines), encoding="utf-8")
    result.runs = runs
