"""The app at SDE scale in Chromium: seconds per page and per interaction next to issue #16's targets, the server's
RSS and the tab's JavaScript heap.

Builds a workspace of N generated SDE-like documents (24 collections, 5 divisions, 5 types) with synthetic
clustered 384-d vectors under `minilm`, written through `store.vectors` as the embed job writes them (as
`bench/umap.py` does; the packaged MiniLM still encodes queries), the rules' verdicts, a map (`[maps]
sample_size` 10k: the fit is not what is measured here), a query set of 219 queries with a stored `minilm`
run and judgments. Then it serves the app and walks every page twice (first visit of the session, then again),
and times the interactions: Map colour change, query overlay, a box selection dragged on the map, clear; Filter
& review filter change; Judge key presses; Compare N/P. Nothing is measured while a job runs.

    python bench/app_scale.py --docs 300000
    python bench/app_scale.py --docs 20000 --keep /tmp/scale-ws     # quick; keep the workspace to walk again
    python bench/app_scale.py --workspace /tmp/scale-ws             # walk a kept workspace only
    python bench/app_scale.py --docs 300000 --keep /tmp/ws --build-only   # build now, walk later
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not bench/ (whose umap.py hides umap)

from bench.app_walk import PAGES, health_ms  # noqa: E402
from tests.browser.app_driver import (  # noqa: E402
    browser_page,
    choose,
    exceptions,
    go_to,
    missing_browser,
    open_app,
    press,
    rerun,
    served_app,
    settled,
    type_into,
)

RETRIEVER, TOPICS, QUERIES, WRITE_ROWS = "minilm", 60, 219, 20_000
DIVISIONS = ["Astrophysics", "Biological and Physical Sciences", "Earth Science", "Heliophysics", "Planetary Science"]
TYPES = ["Data", "Images", "Documentation", "Software and Tools", "Missions and Instruments"]
WORDS = "solar wind plasma ozone aerosol galaxy exoplanet mars lunar cell gravity orbit radiance granule".split()
TARGETS = {"page": 2.0, "interaction": 1.0, "judge key": 0.3, "judge queue": 5.0}


def build(root: Path, docs: int) -> None:
    """The generated workspace (see the module's docstring)."""
    import numpy as np
    import pandas as pd

    from curation.core import Workspace
    from curation.ingest import import_queries, ingest
    from curation.maps import project
    from curation.relevancy import run_rules
    from curation.retrieval import current_fingerprint, make_run
    from store import documents as document_store
    from store import vectors
    from store.judgments import replace_annotator_judgments

    ws = Workspace.open(root)
    ws.update_settings("maps", "sample_size", 10_000)
    rng, words = random.Random(7), np.random.default_rng(7)
    topics = words.integers(0, TOPICS, docs)
    source = root.parent / "documents.jsonl"
    with source.open("w") as out:
        for i, topic in enumerate(topics.tolist()):
            record = {
                "doc_id": f"doc-{i}",
                "url": f"https://science.nasa.gov/c{topic % 24}/page-{i}",
                "title": f"Topic {topic} {' '.join(rng.choices(WORDS, k=4))}",
                "text": " ".join(rng.choices(WORDS, k=rng.randint(60, 220))) + f" topic{topic}",
                "division": DIVISIONS[topic % 5],
                "document_type": TYPES[(topic // 5) % 5],
                "collection": f"collection-{topic % 24}",
            }
            out.write(json.dumps(record) + "\n")
    timed("ingest", lambda: ingest(ws, [source]))
    centres = np.random.default_rng(0).normal(size=(TOPICS, 384)) * 0.6
    fingerprint = current_fingerprint(ws, RETRIEVER)

    def write_vectors() -> None:
        for block in range(0, docs, WRITE_ROWS):
            ids = [f"doc-{i}" for i in range(block, min(docs, block + WRITE_ROWS))]
            rows = document_store.get_documents(ws.db, ids)
            data = centres[topics[block : block + len(ids)]] + words.normal(size=(len(ids), 384))
            data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
            columns = {"doc_id": ids, "passage": [0] * len(ids), "text": [r["title"] for r in rows]}
            columns |= {"content_hash": [r["content_hash"] for r in rows]}
            columns |= {c: [r[c] for r in rows] for c in vectors.FILTER_COLUMNS}
            vectors.write_documents(
                ws.vectors_dir,
                RETRIEVER,
                vectors.passages_table(columns, data),
                replace=[],
                table_fingerprint=fingerprint,
            )
        vectors.build_indexes(ws.vectors_dir, RETRIEVER, ws.settings.vectors, metric="cosine")

    timed("vectors", write_vectors)
    timed("rules", lambda: run_rules(ws))
    timed("map", lambda: project(ws, RETRIEVER))
    queries = root.parent / "queries.jsonl"
    queries.write_text(
        "".join(json.dumps({"_id": f"q{i}", "text": f"{' '.join(rng.choices(WORDS, k=4))} topic{i % TOPICS}"}) + "\n"
                for i in range(QUERIES))
    )  # fmt: skip
    import_queries(ws, queries, "bench", origin="bench", rejects=[])
    timed("run", lambda: make_run(ws, RETRIEVER, "bench", k=20))
    grades = [{"query_id": f"q{i}", "doc_id": f"doc-{rng.randrange(docs)}", "grade": rng.randint(0, 3)}
              for i in range(QUERIES) for _ in range(5)]  # fmt: skip
    replace_annotator_judgments(ws.db, "bench", "benchmark:bench", pd.DataFrame(grades).drop_duplicates(
        ["query_id", "doc_id"]).to_dict("records"))  # fmt: skip


def timed(label: str, work: Any) -> None:
    started = time.perf_counter()
    work()
    print(f"  build: {label:<10}{time.perf_counter() - started:8.1f} s", flush=True)


def server_rss_mb(port_url: str) -> float:
    """RSS of the Streamlit server (the process listening on the app's port) and its children."""
    import psutil

    port = int(port_url.rsplit(":", 1)[1])
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            server = psutil.Process(conn.pid)
            return sum(p.memory_info().rss for p in [server, *server.children(recursive=True)]) / 2**20
    return float("nan")


def heap_mb(page: Any) -> float:
    return float(page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : NaN")) / 2**20


def step(name: str, seconds: float, target: float, page: Any) -> None:
    verdict = "ok" if seconds <= target else "OVER"
    problem = " EXCEPTION" if exceptions(page) else ""
    print(f"{name:<40}{seconds:9.2f}{target:9.1f}   {verdict}{problem}", flush=True)


def box_select(page: Any) -> float | None:
    """Drag a box over the middle of the first map (plotly's select drag mode); seconds until settled, None when
    the chart shows no box-select button."""
    chart = page.locator("[data-testid='stPlotlyChart']").first
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the mode bar shows on hover
    button = page.locator(".modebar-btn[data-val='select'], .modebar-btn[data-title='Box Select']")
    if not button.count():
        return None
    button.first.click()
    x0, y0 = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
    started = time.perf_counter()
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.2, y0 + box["height"] * 0.2, steps=8)
    page.mouse.up()
    quiet = rerun(page)
    return time.perf_counter() - started - quiet


def walk(root: Path, log: Path, presses: int) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with served_app(root, log) as url, browser_page() as (page, requests):
        print(f"reference: the app's health endpoint {health_ms(url):.1f} ms (median of 20; the machine's load)")
        print(f"app: first load {open_app(page, f'{url}/?curator=bench'):.2f} s")
        print(f"\n{'step':<40}{'seconds':>9}{'target':>9}")
        for title in PAGES:
            first = go_to(page, title)
            if title == "Judge":  # until its queue is built and the first document shows, keys and all
                started = time.perf_counter()
                page.get_by_role("button", name="Next").first.wait_for(timeout=600_000)
                quiet = settled(page)
                first += time.perf_counter() - started - quiet
            step(
                f"{title}: first visit",
                first,
                TARGETS["judge queue"] if title == "Judge" else 2 * TARGETS["page"],
                page,
            )
            go_to(page, "Overview" if title != "Overview" else "Jobs")
            step(f"{title}: again", go_to(page, title), TARGETS["page"], page)
        go_to(page, "Map")
        for label, action in (
            ("Map: colour by collection", lambda: choose(page, "Colour by", "Collection")),
            ("Map: colour by division", lambda: choose(page, "Colour by", "Division")),
            ("Map: query overlay (loads the model)", lambda: type_into(page, "Query", "solar wind plasma topic3")),
            ("Map: another query (model loaded)", lambda: type_into(page, "Query", "ozone aerosol topic7")),
        ):
            step(label, action(), TARGETS["interaction"], page)
        selecting = box_select(page)
        if selecting is None:
            print("Map: no box-select button found in the chart's mode bar; selection not timed")
        else:
            step("Map: box selection", selecting, TARGETS["interaction"], page)
        clear = page.get_by_role("button", name="Clear selection")
        if clear.count():
            started = time.perf_counter()
            clear.first.click()
            quiet = rerun(page)
            step("Map: clear selection", time.perf_counter() - started - quiet, TARGETS["interaction"], page)
        else:
            print("Map: the box selection selected nothing (no Clear button)")
        go_to(page, "Filter & review")
        try:
            seconds = choose(page, "Verdict", "kept")
        except PlaywrightTimeout:  # seen once on a loaded machine: the option list did not open
            print("Filter & review: the Verdict options did not open; filter change not timed")
        else:
            step("Filter & review: verdict filter", seconds, TARGETS["interaction"], page)
        for title, keys, target in (("Judge", ["2", "n"], TARGETS["judge key"]), ("Compare", ["n", "p"], 1.0)):
            go_to(page, title)
            for key in keys:
                times = []
                for _ in range(presses):
                    if title == "Judge" and key != "n":  # a query of its own each time: one judged earlier
                        press(page, "n")  # (a kept workspace walked again) may have no document left to grade
                    times.append(press(page, key))
                step(f"{title}: key {key.upper()} (median of {presses})", statistics.median(times), target, page)
        print(f"\nserver RSS {server_rss_mb(url):,.0f} MB (target < 2,560); tab JS heap {heap_mb(page):,.0f} MB "
              f"(target < 500); requests outside 127.0.0.1: {len(requests.outside)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=300_000)
    parser.add_argument("--workspace", type=Path, help="walk this (kept) workspace instead of building one")
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    parser.add_argument("--presses", type=int, default=5)
    parser.add_argument("--build-only", action="store_true", help="build (and --keep) the workspace, no walk")
    args = parser.parse_args()
    if reason := missing_browser():
        sys.exit(f"cannot run: {reason}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = args.workspace
        if root is None:
            root = args.keep or Path(tmp) / "workspace"
            root.mkdir(parents=True, exist_ok=True)
            print(f"building {args.docs:,} documents in {root} ({os.cpu_count()} cores)", flush=True)
            build(root, args.docs)
        if not args.build_only:
            walk(root, Path(tmp) / "app.log", args.presses)


if __name__ == "__main__":
    main()
