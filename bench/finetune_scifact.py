"""Acceptance: the INDUS-SDE-ST training workflow on SciFact, the comparison the ML team would run.

End to end through the CLI, in a fresh workspace, one process; the base retriever is the reference, measured in
the same run:
  import-benchmark scifact -> export beir --split (both halves imported back: scifact-train, scifact-test)
  + the demo set (a second, general benchmark: the forgetting check)
  -> rows: base MiniLM; MNRL on pairs with the base run's top unjudged negative (today's recipe); MNRL on pairs
     with 3 negatives mined by `mine_hard_negatives` (margin 0.05); the mined pairs mixed with a replay source
     (title -> abstract pairs of SciFact documents, the S2ORC-like general pairs of INDUS-SDE-ST's Stage 1;
     no query or judgment of either benchmark)
  -> columns NDCG@10 and MRR@10 on the SciFact held-out half and on the demo set, paired t-test p against base.
  Training throughput of `finetune` against a bare SentenceTransformerTrainer with the same settings on the
  same pairs (model load, training and save timed in both).

Runs are made by `eval` from `sde-workbench embed` (LanceDB, chunked passages) by default. With `--exact`, they
are made here instead: bare `SentenceTransformer.encode`, exact cosine search with numpy over every document of
the workspace, stored as frozen runs and evaluated by name (the cheaper path on a CPU).

    .venv/bin/python bench/finetune_scifact.py [--exact] [--workspace DIR] [--epochs 1] [--max-steps N]
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


ROWS = {"mnrl": "minilm-mnrl", "mined": "minilm-mined", "replay": "minilm-mined-replay"}


def all_documents(ws: Workspace) -> dict[str, str]:
    """Every document of the workspace as the passage its runs are made from."""
    from store.documents import document_fields, sample_doc_ids

    frame = document_fields(ws.db, sample_doc_ids(ws.db, None, 0), ("title", "text"))
    limit = ws.settings.export.max_passage_chars
    return {d: passage_text(t, x, limit) for d, t, x in frame[["doc_id", "title", "text"]].itertuples(index=False)}


def replay_pairs(path: Path, count: int) -> Path:
    """Title -> abstract pairs of SciFact documents (general scientific pairs, no query or judgment)."""
    rows = [orjson.loads(line) for line in (SCIFACT / "corpus.jsonl").read_bytes().splitlines()[:count]]
    rows = [r for r in rows if r["title"].strip() and r["text"].strip()]
    pd.DataFrame({"anchor": [r["title"] for r in rows], "positive": [r["text"][:2000] for r in rows]}).to_parquet(path)
    return path


def bare_trainer_seconds(ws: Workspace, pairs: Path, epochs: int, max_steps: int | None) -> float:
    """A bare SentenceTransformerTrainer with finetune's default settings on the same pairs: load, train, save."""
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Args
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from curation.training import load_pairs

    settings = ws.settings.finetune
    started = time.perf_counter()
    model = SentenceTransformer(model_location(BASE, ws.settings.retrievers[BASE], ws.root), device="cpu")
    out = Path(tempfile.mkdtemp(prefix="bare-trainer-"))
    args = Args(
        output_dir=str(out), num_train_epochs=epochs, max_steps=max_steps or -1,
        per_device_train_batch_size=settings.batch_size, learning_rate=settings.learning_rate,
        warmup_steps=settings.warmup_ratio, lr_scheduler_type=settings.lr_scheduler,
        batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no", report_to="none", disable_tqdm=True,
        seed=settings.seed, use_cpu=True, logging_strategy="no",
    )  # fmt: skip
    data = load_pairs(pairs)
    loss = MultipleNegativesRankingLoss(model)
    SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss).train()
    model.save(str(out / "model"))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exact", action="store_true", help="make the runs here with numpy instead of `run`")
    parser.add_argument("--workspace", type=Path, help="workspace folder to build (default: a temporary one)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, help="cap each training (a smaller, quicker comparison)")
    parser.add_argument("--replay-pairs", type=int, default=1000, help="title -> abstract pairs in the replay source")
    parser.add_argument("--replay-weight", type=float, default=0.5)
    args = parser.parse_args()
    if not (SCIFACT / "corpus.jsonl").exists():
        sys.exit(f"{SCIFACT} is not available")
    root = args.workspace or Path(tempfile.mkdtemp(prefix="bench-finetune-")) / "workspace"
    ws = Workspace.open(root)

    cli(root, "import-benchmark", "import-benchmark", str(SCIFACT), "--name", "scifact")
    split = cli(root, "export beir (split)", "export", "beir", "--set", "scifact", "--split", SPLIT)
    cli(root, "import training half", "import-benchmark", str(Path(split["out"]) / "train"), "--name", TRAIN_HALF)
    cli(root, "import held-out half", "import-benchmark", str(Path(split["out"]) / "test"), "--name", HELD_OUT)
    from curation.demo import DEMO_QUERY_SET, build_demo

    build_demo(ws, retriever=None)
    corpus = all_documents(ws) if args.exact else {}
    if args.exact:
        exact_run(ws, BASE, TRAIN_HALF, corpus)
        negatives = f"{BASE}-exact:{TRAIN_HALF}"
    else:
        cli(root, f"embed {BASE}", "embed", "--retriever", BASE)
        negatives = BASE
    exports = root / "exports"
    plain = cli(
        root, "export pairs", "export", "pairs", "--set", TRAIN_HALF, "--negatives-from", negatives,
        "--out", str(exports / "plain"),
    )  # fmt: skip
    mined = cli(
        root, "export pairs (mined)", "export", "pairs", "--set", TRAIN_HALF, "--negatives-from", negatives,
        "--negatives", "3", "--margin", "0.05", "--out", str(exports / "mined"),
    )  # fmt: skip
    replay = replay_pairs(exports / "replay.parquet", args.replay_pairs)
    length = ["--epochs", str(args.epochs)] + (["--max-steps", str(args.max_steps)] if args.max_steps else [])
    trained = {
        "mnrl": cli(root, "finetune mnrl", "finetune", "--base", BASE, "--pairs", plain["out"], "--out",
                    ROWS["mnrl"], *length),
        "mined": cli(root, "finetune mined", "finetune", "--base", BASE, "--pairs", mined["out"], "--out",
                     ROWS["mined"], *length),
        "replay": cli(root, "finetune mined+replay", "finetune", "--base", BASE, "--mix", mined["out"], "--mix",
                      f"{replay}:{args.replay_weight}", "--out", ROWS["replay"], *length),
    }  # fmt: skip
    bare = bare_trainer_seconds(ws, Path(plain["out"]), args.epochs, args.max_steps)

    ws = Workspace.open(root)
    names = {BASE: BASE, **{ROWS[k]: ROWS[k] for k in ROWS}}
    for retriever in names:
        if args.exact:
            for query_set in (HELD_OUT, DEMO_QUERY_SET):
                exact_run(ws, retriever, query_set, corpus)
        else:
            if retriever != BASE:
                cli(root, f"embed {retriever}", "embed", "--retriever", retriever)
    metrics = "ndcg@10,mrr@10"
    results = {}
    for query_set in (HELD_OUT, DEMO_QUERY_SET):
        rankers = ",".join(f"{r}-exact:{query_set}" if args.exact else r for r in names)
        results[query_set] = cli(
            root, f"eval {query_set}", "eval", "--retrievers", rankers, "--queries", query_set, "--metrics", metrics
        )

    print(f"workspace: {root}")
    print(f"split: {split['queries']} queries; plain pairs {plain['rows']} negatives {plain['negatives']}")
    print(f"mined pairs {mined['rows']} negatives {mined['negatives']}; replay {replay.name} x{args.replay_weight}")
    for key, result in trained.items():
        print(f"finetune {key}: {result['steps']} steps, loss {result['loss']:.4f}, {result['seconds']:.1f}s")
    header = "| row | " + " | ".join(f"{q} {m} (p)" for q in results for m in metrics.split(",")) + " |"
    print(header)
    print("|" + "---|" * (1 + 2 * len(results)))
    for row, retriever in [("base", BASE), *((k, ROWS[k]) for k in ROWS)]:
        cells = []
        for query_set, result in results.items():
            run = f"{retriever}-exact:{query_set}" if args.exact else retriever
            base_run = f"{BASE}-exact:{query_set}" if args.exact else BASE
            for metric in metrics.split(","):
                value = result["metrics"][run][metric]
                p = next(
                    (s["p_value"] for s in result["significance"]
                     if s["metric"] == metric and {s["a"], s["b"]} == {run, base_run}),
                    None,
                )  # fmt: skip
                cells.append(f"{value:.4f}" + (f" ({p:.3g})" if p is not None and run != base_run else ""))
        print(f"| {row} | " + " | ".join(cells) + " |")
    ratio = bare / trained["mnrl"]["seconds"]
    print(f"throughput finetune vs bare trainer (same pairs and settings): {ratio:.2f}x "
          f"(bare {bare:.1f}s, finetune {trained['mnrl']['seconds']:.1f}s)")  # fmt: skip
    for step, seconds in timings.items():
        print(f"  {step}: {seconds:.1f}s")


if __name__ == "__main__":
    main()
