"""LLM judge throughput against a local OpenAI-compatible server that answers after 200 ms.

Measures, over real HTTP with the real judge (pydantic-ai agent, retries, batched writes):
  1. reference: documents/s at concurrency 1 (a fresh workspace);
  2. documents/s at concurrency 16 (another fresh workspace, same documents);
  3. the calls a second run at concurrency 16 makes (every document is cached).
Targets (issue #4): (2) >= 10x (1); (3) == 0.

    python bench/filter.py --docs 96 --delay 0.2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ingest import generate  # bench/ingest.py, next to this script

from curation.core import Workspace
from curation.ingest import ingest
from curation.llm import build_model
from curation.relevancy import FilterResult, judge_documents

STUB = Path(__file__).resolve().parents[1] / "tests" / "openai_stub.py"  # the server the tests use


def make_workspace(root: Path, docs: int) -> Workspace:
    """A workspace holding `docs` SDE-like pages (bench/ingest.py's generator, 180-400 words each)."""
    ws = Workspace.open(root)
    rows = root / "documents.jsonl"
    generate(rows, docs)
    ingest(ws, [rows])
    return ws


def served_calls(url: str) -> int:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/calls") as response:
        return int(json.load(response)["calls"])


def timed_run(ws: Workspace, url: str, concurrency: int) -> tuple[FilterResult, float]:
    settings = ws.settings.llm.with_overrides("openai-compatible:bench", url, concurrency)
    started = time.perf_counter()
    result = judge_documents(ws, settings)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=96)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the server takes per answer")
    args = parser.parse_args()

    # The server runs in its own process, as a real one would, so it does not compete for our GIL.
    server = subprocess.Popen([sys.executable, str(STUB), str(args.delay)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            serial_ws = make_workspace(Path(tmp) / "c1", args.docs)
            parallel_ws = make_workspace(Path(tmp) / "c16", args.docs)
            build_model(serial_ws.settings.llm.with_overrides("openai-compatible:bench", url))  # import time out
            serial, serial_s = timed_run(serial_ws, url, 1)
            parallel, parallel_s = timed_run(parallel_ws, url, 16)
            calls_before = served_calls(url)
            again, again_s = timed_run(parallel_ws, url, 16)
            second_run_calls = served_calls(url) - calls_before
    finally:
        server.terminate()
        server.wait()

    assert serial.judged == parallel.judged == args.docs, (serial, parallel)
    serial_rate, parallel_rate = args.docs / serial_s, args.docs / parallel_s
    print(f"documents: {args.docs}, server answers after {args.delay * 1000:.0f} ms")
    print(f"reference  concurrency 1 : {serial_rate:7.2f} docs/s ({serial_s:.2f} s, {serial.calls} calls)")
    print(f"judge      concurrency 16: {parallel_rate:7.2f} docs/s ({parallel_s:.2f} s, {parallel.calls} calls)")
    print(f"speed-up: {parallel_rate / serial_rate:.1f}x (target >= 10x)")
    print(
        f"second run: {second_run_calls} calls to the server, {again.calls} counted, {again.cached} cached, "
        f"{again_s:.2f} s (target 0 calls)"
    )


if __name__ == "__main__":
    main()
