"""Acceptance: fine-tuning the packaged MiniLM on half of SciFact's train queries improves NDCG@10 on the other half.

End to end through the CLI, in a fresh workspace (the base retriever is the reference, measured in the same run):
  import-benchmark scifact -> export beir --split (both halves imported back: scifact-train, scifact-test)
  -> export pairs --set scifact-train --negatives-from minilm (its own `train` split; the base run is made)
  -> finetune minilm for one epoch -> eval base and fine-tuned on scifact-test (paired t-test and Fisher).

Runs are made by `eval` from `sde-workbench embed` (LanceDB, chunked passages) by default. With `--exact`, they
are made here instead, independently of the workbench's index: bare `SentenceTransformer.encode`, exact cosine
search with numpy, stored as frozen runs with `store.runs.save_run` and evaluated by name; NDCG@10 is then also
computed straight with ranx as a cross-check of `eval`.

    .venv/bin/python bench/finetune_scifact.py [--exact] [--workspace DIR] [--epochs 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from curation.core import Workspace  # noqa: E402
from curation.evaluation import load_qrels  # noqa: E402
from curation.training import passage_text  # noqa: E402
from embeddings.registry import model_location  # noqa: E402
from store.queries import load_queries  # noqa: E402
from store.runs import save_run  # noqa: E402

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
CLI = Path(sys.executable).parent / "sde-workbench"
BASE, TUNED, HELD_OUT, SPLIT, K = "minilm", "minilm-scifact", "scifact-test", "train=0.5,test=0.5", 100
TRAIN_HALF = "scifact-train"
timings: dict[str, float] = {}
_documents: dict[str, np.ndarray] = {}  # corpus vectors per retriever, encoded once


def cli(workspace: Path, step: str, *args: str) -> dict:
    started = time.perf_counter()
    done = subprocess.run([str(CLI), "--workspace", str(workspace), *args, "--json"], capture_output=True, text=True)
    timings[step] = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{step} failed: {done.stdout.strip() or done.stderr.strip()[-2000:]}")
    return orjson.loads(done.stdout)


def exact_run(ws: Workspace, retriever: str, query_set: str, corpus: dict[str, str]) -> dict[str, dict[str, float]]:
    """Encode the queries (and, once per retriever, the corpus) and store the exact top-K as frozen run
    `RETRIEVER-exact:SET`."""
    from sentence_transformers import SentenceTransformer

    spec = ws.settings.retrievers[retriever]
    started = time.perf_counter()
    model = SentenceTransformer(model_location(retriever, spec, ws.root), device="cpu")
    model.max_seq_length = spec.max_seq_length or model.max_seq_length
    ids = list(corpus)
    if retriever not in _documents:
        texts = [corpus[d] for d in ids]
        _documents[retriever] = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True)
    queries = load_queries(ws.db, query_set)
    vectors = model.encode(list(queries["text"]), batch_size=64, normalize_embeddings=True)
    scores = vectors @ _documents[retriever].T
    top = np.argsort(-scores, axis=1)[:, :K]
    rows = [
        {"query_id": q, "rank": r + 1, "doc_id": ids[j], "score": float(scores[i, j]), "passage": None}
        for i, q in enumerate(queries["query_id"])
        for r, j in enumerate(top[i])
    ]
    name = f"{retriever}-exact:{query_set}"
    meta = {"name": name, "retriever": retriever, "query_set": query_set, "mode": "exact", "k": K, "frozen": True}
    save_run(ws.db, meta, pd.DataFrame(rows))
    timings[f"exact run {retriever} on {query_set}"] = time.perf_counter() - started
    return {q: {ids[j]: float(scores[i, j]) for j in top[i]} for i, q in enumerate(queries["query_id"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exact", action="store_true", help="make the runs here with numpy instead of `run`")
    parser.add_argument("--workspace", type=Path, help="workspace folder to build (default: a temporary one)")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    if not (SCIFACT / "corpus.jsonl").exists():
        sys.exit(f"{SCIFACT} is not available")
    root = args.workspace or Path(tempfile.mkdtemp(prefix="bench-finetune-")) / "workspace"
    ws = Workspace.open(root)
    corpus = {}
    if args.exact:
        for line in (SCIFACT / "corpus.jsonl").read_bytes().splitlines():
            doc = orjson.loads(line)
            corpus[doc["_id"]] = passage_text(doc["title"], doc["text"], ws.settings.export.max_passage_chars)

    cli(root, "import-benchmark", "import-benchmark", str(SCIFACT), "--name", "scifact")
    split = cli(root, "export beir (split)", "export", "beir", "--set", "scifact", "--split", SPLIT)
    cli(root, "import training half", "import-benchmark", str(Path(split["out"]) / "train"), "--name", TRAIN_HALF)
    cli(root, "import held-out half", "import-benchmark", str(Path(split["out"]) / "test"), "--name", HELD_OUT)
    if args.exact:
        exact_run(ws, BASE, TRAIN_HALF, corpus)
        negatives = f"{BASE}-exact:{TRAIN_HALF}"
    else:
        cli(root, f"embed {BASE}", "embed", "--retriever", BASE)
        negatives = BASE
    pairs = cli(root, "export pairs", "export", "pairs", "--set", TRAIN_HALF, "--negatives-from", negatives)
    tuned = cli(
        root, "finetune", "finetune", "--base", BASE, "--pairs", pairs["out"], "--out", TUNED,
        "--epochs", str(args.epochs),
    )  # fmt: skip
    ws = Workspace.open(root)
    direct = {}
    if args.exact:
        for retriever in (BASE, TUNED):
            direct[retriever] = exact_run(ws, retriever, HELD_OUT, corpus)
        base, tuned_name = f"{BASE}-exact:{HELD_OUT}", f"{TUNED}-exact:{HELD_OUT}"
    else:
        cli(root, f"embed {TUNED}", "embed", "--retriever", TUNED)
        base, tuned_name = BASE, TUNED
    metrics = "ndcg@10,mrr@5,recall@100"
    rankers = f"{base},{tuned_name}"
    student = cli(root, "eval", "eval", "--retrievers", rankers, "--queries", HELD_OUT, "--metrics", metrics)
    fisher = cli(
        root, "eval (fisher)", "eval", "--retrievers", rankers, "--queries", HELD_OUT, "--metrics", metrics,
        "--test", "fisher",
    )  # fmt: skip

    print(f"workspace: {root}")
    print(f"split: {split['queries']} queries; training pairs {pairs['rows']}, negatives {pairs['negatives']}")
    print(f"fine-tune: {tuned['steps']} steps, loss {tuned['loss']:.4f}, device {tuned['device']}")
    print(f"held-out queries evaluated: {student['queries']}")
    for metric in metrics.split(","):
        before, new = student["metrics"][base][metric], student["metrics"][tuned_name][metric]
        p_t = next(s["p_value"] for s in student["significance"] if s["metric"] == metric)
        p_f = next(s["p_value"] for s in fisher["significance"] if s["metric"] == metric)
        print(
            f"{metric:>11}: base {before:.4f}  fine-tuned {new:.4f}  ratio {new / before:.3f}  "
            f"t-test p {p_t:.2e}  Fisher p {p_f:.2e}"
        )
    if args.exact:
        from ranx import Qrels, Run, evaluate

        grades = load_qrels(ws, HELD_OUT).grades
        qrels = Qrels.from_dict(grades)
        for retriever, run in direct.items():
            run = Run.from_dict({q: run[q] for q in grades})
            print(f"ranx directly, {retriever} ndcg@10: {evaluate(qrels, run, 'ndcg@10', make_comparable=True):.4f}")
    for step, seconds in timings.items():
        print(f"  {step}: {seconds:.1f}s")


if __name__ == "__main__":
    main()
