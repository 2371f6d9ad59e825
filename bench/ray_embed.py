"""The Ray engine against the local engine: the same N SciFact documents, the same model, the same machine.

Both embed into fresh tables of one workspace (two registrations of one model), the local engine first, then
`embed_on_ray` on a local Ray instance (start-up included: that is what a user waits for). Prints docs/s of
each, the ratio, and the whole-SDE sizing arithmetic from the measured rates.

    python bench/ray_embed.py --docs 5000 --workers 2
    python bench/ray_embed.py --docs 300              # quick
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embed import SCIFACT, sample_workspace  # noqa: E402  (bench/embed.py, next to this script)

from curation.retrieval import embed, embed_on_ray  # noqa: E402

SDE_PASSAGES = 2_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--retriever", default="minilm")
    parser.add_argument("--corpus", type=Path, default=SCIFACT)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        ws = sample_workspace(Path(tmp), args.corpus, args.docs)
        spec = ws.settings.retrievers[args.retriever].model_dump(exclude_defaults=True)
        ws.update_settings("retrievers", f"{args.retriever}-ray", spec)

        started = time.perf_counter()
        local = embed(ws, args.retriever)
        local_s = time.perf_counter() - started
        started = time.perf_counter()
        on_ray = embed_on_ray(ws, f"{args.retriever}-ray", workers=args.workers)
        ray_s = time.perf_counter() - started

    docs = local.embedded
    local_rate, ray_rate = docs / local_s, docs / ray_s
    per_doc = local.passages / max(docs, 1)
    print(f"{docs:,} SciFact docs ({local.passages:,} passages), {args.retriever}, {os.cpu_count()} cores")
    print("| engine | seconds | docs/s | passages/s |\n| --- | --- | --- | --- |")
    print(f"| local ({local.device}) | {local_s:.1f} | {local_rate:.1f} | {local.passages / local_s:.1f} |")
    print(f"| ray, {args.workers} CPU actors | {ray_s:.1f} | {ray_rate:.1f} | {on_ray.passages / ray_s:.1f} |")
    print(f"Ray / local: {ray_rate / local_rate:.2f}x (start-up of the local Ray instance included)")
    passages_s = on_ray.passages / ray_s
    print(f"Whole SDE ({SDE_PASSAGES:,} passages) at this machine's Ray rate: {SDE_PASSAGES / passages_s / 3600:.1f} h")
    print(f"(passages per document here: {per_doc:.2f})")


if __name__ == "__main__":
    main()
