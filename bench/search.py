"""Vector search at scale: ANN index build time, latency and recall@10 against exact numpy search.

For each size, N synthetic unit vectors (clustered, like real embeddings: points scattered around
2,000 random centres) go into a LanceDB table through `store.vectors`, exactly as the embed job
writes them, and `store.vectors.build_indexes` builds the indexes the embed job would. Queries are
perturbed copies of random stored vectors. Measured in the same run:
  - exact top-10 by numpy (brute-force matrix product): the ground truth and the latency reference;
  - float32 table: index build time, p50/p95 latency of `curation.search.nearest_passages`, recall@10;
  - binary table (packed sign bits, Hamming, optionally re-scored with the float query): storage
    size against float32 and recall@10.
Targets (issue #3) at 1M on 2 cores: recall@10 >= 0.95, p50 <= 20 ms.

    python bench/search.py --sizes 100000,1000000
    python bench/search.py --sizes 20000 --queries 50      # quick
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.retrieval.search import nearest_passages  # noqa: E402
from embeddings.quantization import pack_signs  # noqa: E402
from store import vectors  # noqa: E402
from store.settings import VectorSettings  # noqa: E402

WRITE_ROWS = 100_000


def synthetic(n: int, dim: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(2_000, dim)).astype(np.float32)
    data = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, WRITE_ROWS):
        stop = min(n, start + WRITE_ROWS)
        block = centres[rng.integers(0, len(centres), stop - start)] + rng.normal(size=(stop - start, dim))
        data[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    picked = data[rng.integers(0, n, queries)] + rng.normal(scale=0.03, size=(queries, dim)).astype(np.float32)
    return data, (picked / np.linalg.norm(picked, axis=1, keepdims=True)).astype(np.float32)


def write(folder: Path, name: str, data: np.ndarray, *, binary: bool) -> None:
    for start in range(0, len(data), WRITE_ROWS):
        block = data[start : start + WRITE_ROWS]
        ids = [str(i) for i in range(start, start + len(block))]
        columns = {
            "doc_id": ids,
            "passage": [0] * len(ids),
            "text": [f"passage {i}" for i in ids],
            "content_hash": ["-"] * len(ids),
            **{c: [None] * len(ids) for c in vectors.FILTER_COLUMNS},
        }
        stored = pack_signs(block) if binary else block
        vectors.write_documents(
            folder, name, vectors.passages_table(columns, stored), replace=[], table_fingerprint=name
        )


def measure(folder: Path, name: str, queries: np.ndarray, truth: np.ndarray, binary: bool, settings: VectorSettings):
    latencies, recalls = [], []
    passages = vectors.Passages(folder, name)
    for query, expected in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found = nearest_passages(
            passages, query[None, :], binary=binary, rescore_factor=settings.binary_rescore,
            limit=10, where=None, settings=settings,
        )[0]  # fmt: skip
        latencies.append(time.perf_counter() - started)
        recalls.append(len({int(doc_id) for doc_id, _, _ in found} & set(expected.tolist())) / 10)
    ms = np.array(latencies[5:] or latencies) * 1000
    return np.percentile(ms, 50), np.percentile(ms, 95), float(np.mean(recalls))


def run(n: int, dim: int, queries_n: int, settings: VectorSettings) -> None:
    print(
        f"\n== {n:,} vectors, {dim}-d, {queries_n} queries ({settings.ann_index}, nprobes {settings.nprobes}, "
        f"refine x{settings.refine_factor}, ANN from {settings.ann_min_rows:,} rows)",
        flush=True,
    )
    data, queries = synthetic(n, dim, queries_n)
    exact_ms = []
    truth = np.empty((queries_n, 10), dtype=np.int64)
    for i, query in enumerate(queries):
        started = time.perf_counter()
        scores = data @ query
        top = np.argpartition(-scores, 10)[:10]
        truth[i] = top[np.argsort(-scores[top])]
        exact_ms.append((time.perf_counter() - started) * 1000)
    exact_p50 = float(np.percentile(exact_ms, 50))
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        started = time.perf_counter()
        write(folder, "float", data, binary=False)
        print(f"write float32 table      {time.perf_counter() - started:8.1f} s", flush=True)
        started = time.perf_counter()
        vectors.build_indexes(folder, "float", settings, metric="cosine")
        print(f"index build (all)        {time.perf_counter() - started:8.1f} s", flush=True)
        p50, p95, recall = measure(folder, "float", queries, truth, False, settings)
        print(f"exact numpy   p50 {exact_p50:7.1f} ms                  recall@10 1.000 (reference)")
        print(
            f"float32 ANN   p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  recall@10 {recall:.3f}  "
            f"p50 vs numpy {p50 / exact_p50:.2f}x"
        )
        write(folder, "binary", data, binary=True)
        vectors.build_indexes(folder, "binary", settings, metric="hamming")
        float_bytes = vectors.storage_bytes(folder, "float")
        binary_bytes = vectors.storage_bytes(folder, "binary")
        for rescore in (0, settings.binary_rescore):
            p50, p95, recall = measure(
                folder, "binary", queries, truth, True, settings.model_copy(update={"binary_rescore": rescore})
            )
            label = f"binary rescore x{rescore}" if rescore else "binary Hamming"
            print(f"{label:<18}p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  recall@10 {recall:.3f}")
        print(
            f"storage       float32 {float_bytes / 2**20:8.1f} MiB  binary {binary_bytes / 2**20:8.1f} MiB  "
            f"({float_bytes / binary_bytes:.1f}x smaller; both include passage text and ids)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated table sizes")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ann-min-rows", type=int, default=VectorSettings().ann_min_rows)
    parser.add_argument("--nprobes", type=int, default=VectorSettings().nprobes)
    parser.add_argument("--refine-factor", type=int, default=VectorSettings().refine_factor)
    parser.add_argument("--binary-rescore", type=int, default=VectorSettings().binary_rescore)
    args = parser.parse_args()
    settings = VectorSettings(
        ann_min_rows=args.ann_min_rows,
        nprobes=args.nprobes,
        refine_factor=args.refine_factor,
        binary_rescore=args.binary_rescore,
    )
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.dim, args.queries, settings)


if __name__ == "__main__":
    main()
