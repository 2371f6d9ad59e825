"""Embed job throughput against bare `SentenceTransformer.encode` on the same texts, in the same run.

N SciFact abstracts (`../shared/data/scifact`) are ingested into a fresh workspace. With the model
loaded once, each round measures:
  1. reference: `SentenceTransformer.encode` on the passages the job encodes (same chunking, same
     batch size: the same model work, nothing else);
  2. the embed job from scratch (`curation.indexing.embed`): read documents from DuckDB, chunk,
     encode, write to LanceDB in batches, build the indexes;
  3. for information: bare encode of the whole documents, truncated at the model's limit (no chunking,
     so fewer tokens than the job encodes).
Rounds alternate so both see the same machine load; on a shared machine the wall-clock ratio is
noisy, so the CPU-time ratio (process time, insensitive to other processes) is printed too.
Both sides run with the same CPU threads (`--threads`, else the usable cores: what the job picks itself).
Target (issues #3, #16): job docs/s >= 0.95 x reference, on CPU and on a GPU when one is lent.

    python bench/embed.py --docs 1000
    python bench/embed.py --docs 200 --rounds 1 --threads 1      # quick, one thread each
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.core import (
    Workspace,  # noqa: E402
    retrieval_text,  # noqa: E402
)
from curation.ingest import IngestOptions, ingest  # noqa: E402
from curation.retrieval import embed, open_encoder, table_name  # noqa: E402
from embeddings.device import set_threads  # noqa: E402
from store import documents as document_store  # noqa: E402
from store import vectors  # noqa: E402

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact" / "corpus.jsonl"


def sample_workspace(folder: Path, corpus: Path, docs: int) -> Workspace:
    """A fresh workspace in `folder` holding the first `docs` documents of a BEIR corpus."""
    sample = folder / "corpus.jsonl"
    with open(corpus, "rb") as source:
        sample.write_bytes(b"".join(line for _, line in zip(range(docs), source, strict=False)))
    ws = Workspace.open(folder / "workspace")
    ingest(ws, [sample], IngestOptions(format="beir"))
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--retriever", default="minilm")
    parser.add_argument("--device", default=None, help="cuda, mps, cpu (default: auto)")
    parser.add_argument("--corpus", type=Path, default=SCIFACT)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for both sides (default: cores)")
    args = parser.parse_args()
    threads = set_threads(args.threads)  # the reference runs under what the job sets

    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        ws = sample_workspace(Path(tmp), args.corpus, args.docs)
        encoder = open_encoder(ws, args.retriever, device=args.device)
        doc_ids = [
            doc_id
            for doc_id, _ in document_store.documents_to_embed(
                ws.db, vectors.present_documents(ws.vectors_dir, table_name(args.retriever))
            )
        ]
        docs = document_store.get_documents(ws.db, doc_ids)
        texts = [retrieval_text(d["title"], d["text"]) for d in docs]
        passages = [p for split in encoder.chunker().split(texts) for p in split]
        model, batch = encoder.model, encoder.batch_size
        print(
            f"{len(docs):,} documents, {len(passages):,} passages, {args.retriever} on {encoder.device}, "
            f"batch size {batch}, {threads} CPU thread(s)",
            flush=True,
        )
        model.encode(passages[:64], batch_size=batch)  # warm-up

        def timed(work: Callable[[], object]) -> tuple[float, float]:
            wall, cpu = time.perf_counter(), time.process_time()
            work()
            return time.perf_counter() - wall, time.process_time() - cpu

        def job() -> None:
            vectors.drop(ws.vectors_dir, table_name(args.retriever))
            assert embed(ws, args.retriever, device=args.device, threads=threads).embedded == len(docs)

        def bare(inputs: list[str]) -> Callable[[], object]:
            return lambda: model.encode(inputs, batch_size=batch, normalize_embeddings=True)

        rounds: dict[str, list[tuple[float, float]]] = {"reference": [], "job": [], "truncated": []}
        for round_ in range(1, args.rounds + 1):
            rounds["reference"].append(timed(bare(passages)))
            rounds["job"].append(timed(job))
            rounds["truncated"].append(timed(bare(texts)))
            print(
                f"round {round_}: " + "   ".join(f"{k} {len(docs) / v[-1][0]:7.1f} docs/s" for k, v in rounds.items())
            )

        wall = {key: len(docs) / min(t for t, _ in times) for key, times in rounds.items()}
        cpu = {key: len(docs) / min(c for _, c in times) for key, times in rounds.items()}
        print(f"\nbare encode, same passages (reference)      {wall['reference']:8.1f} docs/s")
        print(f"embed job (DuckDB, chunk, encode, LanceDB)  {wall['job']:8.1f} docs/s")
        print(
            f"ratio job / reference: wall {wall['job'] / wall['reference']:.2f}, "
            f"CPU time {cpu['job'] / cpu['reference']:.2f}  (target >= 0.95)"
        )
        print(
            f"bare encode, whole docs truncated           {wall['truncated']:8.1f} docs/s "
            f"(job / this {wall['job'] / wall['truncated']:.2f}: the job also encodes what truncation drops)"
        )


if __name__ == "__main__":
    main()
