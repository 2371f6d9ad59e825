"""Export judgments for training and benchmarking: training pairs, BEIR folders and TREC files.

Layouts (one folder per split with `--split`, the folder itself without):
- pairs: `dataset/` (a Hugging Face DatasetDict saved to disk, one split each), `<split>.parquet` and
  `<split>.jsonl`, all with columns anchor, positive, negative. Positives are documents graded at or
  above the threshold. A pair's negative is, in this order of preference, a document judged below the
  threshold for that query, a highly ranked unjudged document of `--negatives-from`'s stored run, or
  (when a query has neither) a seeded random unjudged document. A judged positive of a query is never
  its negative. Only the `train` split's pairs are for training; a guard refuses to write them when an
  anchor is a query of another split.
- beir: `corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv` (`qrels/<split>.tsv` in split folders), which
  `import-benchmark` reads back as the same documents, queries and grades.
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
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import orjson
import pandas as pd
from pydantic import BaseModel, Field

from curation.documents import retrieval_text
from curation.qrels import Qrels, load_qrels
from curation.runs import ensure_run, ranking
from curation.splits import TRAIN, assign_splits, check_no_leak
from store import documents as document_store
from store import queries as query_store
from store import runs as run_store

if TYPE_CHECKING:
    from curation.workspace import Workspace

ExportKind = Literal["pairs", "beir", "trec"]
QrelsFormat = Literal["beir", "trec"]
PAIR_COLUMNS = ("anchor", "positive", "negative")
MANIFEST = "export.json"
QRELS_HEADER = "query-id\tcorpus-id\tscore\n"


class ExportError(ValueError):
    """An export that cannot be made (the message says what to change)."""


class ExportOptions(BaseModel):
    """What to export; unset values come from the `[export]` and `[evaluation]` settings."""

    query_set: str
    out: Path | None = Field(None, description="folder to write; exports/<kind>-<set> by default")
    split: dict[str, float] | None = Field(None, description="split name -> fraction of the queries")
    seed: int | None = None
    judgments: str | None = Field(None, description="annotator, 'all' or benchmark:NAME")
    threshold: int | None = Field(None, description="lowest grade of a positive pair")
    negatives_from: str | None = Field(None, description="retriever (or run) whose ranking gives hard negatives")
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
    runs: list[str] = Field(default_factory=list)
    created_at: datetime


def export(ws: Workspace, kind: ExportKind, options: ExportOptions) -> ExportResult:
    """Write `kind` for `options.query_set`; raises ExportError, JudgmentsError or NoStoredRun on bad requests."""
    seed = ws.settings.export.seed if options.seed is None else options.seed
    queries = query_store.load_queries(ws.db, options.query_set)
    if queries.empty:
        raise ExportError(f"query set {options.query_set!r} does not exist or has no queries")
    qrels = load_qrels(ws, options.query_set, options.judgments)
    texts = dict(zip(queries["query_id"], queries["text"], strict=True))
    whole = TRAIN if kind == "pairs" else "all"  # without --split, pairs are all for training
    split_of = assign_splits(texts, options.split, seed) if options.split else dict.fromkeys(texts, whole)
    splits = list(options.split or [whole])
    if kind == "pairs" and TRAIN not in splits:
        raise ExportError(f"training pairs need a split named {TRAIN!r} (got {', '.join(splits)})")
    members = {s: sorted(q for q, sp in split_of.items() if sp == s) for s in splits}
    out = Path(options.out or ws.exports_dir / f"{kind}-{_safe_name(options.query_set)}").expanduser().resolve()
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
        created_at=datetime.now(UTC),
    )
    with _replacing(out) as staging:
        if kind == "pairs":
            _write_pairs(ws, staging, members, texts, qrels, options, result)
        else:
            folders = {s: staging / s if options.split else staging for s in splits}
            if kind == "beir":
                _write_beir(ws, folders, members, queries, qrels, result)
            else:
                _write_trec(ws, folders, members, qrels, options, result)
        result.files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        (staging / MANIFEST).write_bytes(orjson.dumps(result.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
    return result


def _safe_name(name: str) -> str:
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


def _write_pairs(
    ws: Workspace,
    staging: Path,
    members: dict[str, list[str]],
    texts: dict[str, str],
    qrels: Qrels,
    options: ExportOptions,
    result: ExportResult,
) -> None:
    import datasets  # only pairs need it, and it takes seconds to import
    from datasets import Dataset, DatasetDict

    threshold = options.threshold or ws.settings.evaluation.threshold
    positives = {
        q: sorted((d for d, g in docs.items() if g >= threshold), key=lambda d: (-docs[d], d))
        for q, docs in qrels.grades.items()
    }
    queries = [q for ids in members.values() for q in ids if positives.get(q)]
    if options.negatives_from:
        result.runs = [ensure_run(ws, options.negatives_from, options.query_set)]
    pools = _negative_pools(ws, qrels, positives, threshold, queries, result.runs, result.seed)
    passages = _passages(ws, {d for q in queries for d in positives[q] + [n for n, _ in pools[q]]})

    frames: dict[str, pd.DataFrame] = {}
    used: Counter[str] = Counter()
    for split, ids in members.items():
        rows = []
        for q in (q for q in ids if positives.get(q) and pools[q]):
            for j, doc in enumerate(positives[q]):
                negative, source = pools[q][j % len(pools[q])]
                if doc in passages and negative in passages:
                    rows.append((texts[q], passages[doc], passages[negative]))
                    used[source] += 1
        frames[split] = pd.DataFrame(rows, columns=list(PAIR_COLUMNS))
    check_no_leak(frames[TRAIN]["anchor"], {s: [texts[q] for q in ids] for s, ids in members.items() if s != TRAIN})
    if frames[TRAIN].empty:
        raise ExportError(
            f"no training pairs: no {TRAIN!r} query of {options.query_set!r} has a document graded "
            f"{threshold} or more by {qrels.source!r}"
        )
    dataset = DatasetDict({s: Dataset.from_pandas(f, preserve_index=False) for s, f in frames.items()})
    bars_were_on = not datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()  # three bars per split for seconds of work: noise on stderr
    try:
        dataset.save_to_disk(str(staging / "dataset"))
        for split, part in dataset.items():
            part.to_parquet(str(staging / f"{split}.parquet"))
            part.to_json(str(staging / f"{split}.jsonl"), lines=True, force_ascii=False)
    finally:
        if bars_were_on:
            datasets.enable_progress_bars()
    result.rows = {s: len(f) for s, f in frames.items()}
    result.negatives = {source: used[source] for source in ("judged", "ranked", "random")}


def _negative_pools(
    ws: Workspace,
    qrels: Qrels,
    positives: dict[str, list[str]],
    threshold: int,
    queries: list[str],
    runs: list[str],
    seed: int,
) -> dict[str, list[tuple[str, str]]]:
    """Per query, its negative candidates with their source, in order of preference (see module doc)."""
    depth = ws.settings.export.ranked_negatives_depth
    ranked = {q: list(docs)[:depth] for run in runs for q, docs in ranking(ws, run).items()}
    pools: dict[str, list[tuple[str, str]]] = {}
    for q in queries:
        grades = qrels.grades[q]
        judged = sorted((d for d, g in grades.items() if g < threshold), key=lambda d: (grades[d], d))
        pools[q] = [(d, "judged") for d in judged] + [(d, "ranked") for d in ranked.get(q, []) if d not in grades]
    needy = [q for q in queries if not pools[q]]
    if needy:
        wanted = sum(len(positives[q]) for q in needy) + max(len(qrels.grades[q]) for q in needy)
        spare = iter(document_store.sample_doc_ids(ws.db, wanted, seed))
        for q in needy:
            for doc in spare:
                if doc not in qrels.grades[q]:
                    pools[q].append((doc, "random"))
                if len(pools[q]) == len(positives[q]):
                    break
    return pools


def _passages(ws: Workspace, doc_ids: set[str]) -> dict[str, str]:
    """Title and text of each document as a training passage, cut at `export.max_passage_chars`."""
    limit = ws.settings.export.max_passage_chars
    frame = document_store.document_fields(ws.db, sorted(doc_ids), ("title", "text"))
    return {
        d: passage_text(title, text, limit)
        for d, title, text in frame[["doc_id", "title", "text"]].itertuples(index=False)
    }


def passage_text(title: str, text: str, limit: int) -> str:
    """A document as one training passage: what retrievers read of it (`retrieval_text`), cut at `limit`."""
    return retrieval_text(title, text)[:limit]


def _write_beir(
    ws: Workspace,
    folders: dict[str, Path],
    members: dict[str, list[str]],
    queries: pd.DataFrame,
    qrels: Qrels,
    result: ExportResult,
) -> None:
    corpus: Path | None = None
    metadata = dict(zip(queries["query_id"], queries["metadata"], strict=True))
    texts = dict(zip(queries["query_id"], queries["text"], strict=True))
    for split, folder in folders.items():
        (folder / "qrels").mkdir(parents=True)
        if corpus is None:
            corpus = folder / "corpus.jsonl"
            document_store.write_beir_corpus(ws.db, corpus)
        else:
            _link_or_copy(corpus, folder / "corpus.jsonl")
        with open(folder / "queries.jsonl", "wb") as handle:
            for q in members[split]:
                extra = orjson.loads(metadata[q]) if isinstance(metadata[q], str) else {}
                handle.write(orjson.dumps({"_id": q, "text": texts[q], "metadata": extra}) + b"\n")
        name = split if len(folders) > 1 else "test"
        result.rows[split] = write_qrels(folder / "qrels" / f"{name}.tsv", members[split], qrels, "beir")


def _link_or_copy(source: Path, target: Path) -> None:
    """Split folders share one corpus file: a hard link where the file system allows, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_qrels(path: Path, query_ids: list[str], qrels: Qrels, fmt: QrelsFormat) -> int:
    """The grades of `query_ids` as BEIR TSV (`query-id corpus-id score`, header first) or TREC qrels
    (`query 0 doc grade`); returns the number of judgments written."""
    judged = [(q, d, g) for q in query_ids for d, g in sorted(qrels.grades.get(q, {}).items())]
    if fmt == "beir":
        text = QRELS_HEADER + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in judged)
    else:
        text = "".join(f"{q} 0 {d} {g}\n" for q, d, g in judged)
    path.write_text(text, encoding="utf-8")
    return len(judged)


class QrelsExport(BaseModel):
    """What `judgments export` wrote."""

    query_set: str
    judgments: str
    format: QrelsFormat
    out: str
    queries: int
    rows: int


def export_qrels(
    ws: Workspace, query_set: str, out: Path, *, fmt: QrelsFormat | None = None, judgments: str | None = None
) -> QrelsExport:
    """Write a set's grades in force to one qrels file (format from `fmt`, else `.tsv` BEIR, other names TREC).

    The file is replaced only once it is complete; `judgments` picks whose grades (see `curation.qrels`).
    """
    fmt = fmt or ("beir" if out.suffix.lower() == ".tsv" else "trec")
    qrels = load_qrels(ws, query_set, judgments)
    out = out.expanduser().resolve()
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give a file name such as {out / 'qrels.tsv'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        rows = write_qrels(partial, sorted(qrels.grades), qrels, fmt)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return QrelsExport(
        query_set=query_set, judgments=qrels.source, format=fmt, out=str(out), queries=len(qrels.grades), rows=rows
    )


def _write_trec(
    ws: Workspace,
    folders: dict[str, Path],
    members: dict[str, list[str]],
    qrels: Qrels,
    options: ExportOptions,
    result: ExportResult,
) -> None:
    """`qrels.txt` (query 0 doc grade) and `runs/<run>.txt` (query Q0 doc rank score run), as trec_eval reads them."""
    if options.runs:
        runs = list(dict.fromkeys(ensure_run(ws, r, options.query_set) for r in options.runs))
    else:
        runs = [r["name"] for r in run_store.list_runs(ws.db, options.query_set)]
    rankings = {run: ranking(ws, run) for run in runs}
    for split, folder in folders.items():
        (folder / "runs").mkdir(parents=True)
        result.rows[split] = write_qrels(folder / "qrels.txt", members[split], qrels, "trec")
        for run, ranked in rankings.items():
            lines = [
                f"{q} Q0 {d} {rank} {score:.6f} {_safe_name(run)}\n"
                for q in members[split]
                for rank, (d, score) in enumerate(ranked.get(q, {}).items(), start=1)
            ]
            (folder / "runs" / f"{_safe_name(run)}.txt").write_text("".join(lines), encoding="utf-8")
    result.runs = runs
