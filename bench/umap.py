"""Maps at scale: projection time and peak memory of `sde-workbench map`, and the Map page's render time.

For each size, N synthetic documents (50 topics) are ingested into a fresh workspace and given synthetic
384-d unit vectors (clustered by topic, like real embeddings) under the `minilm` retriever, written
through `store.vectors` exactly as the embed job writes them. Measured in the same run, each in a fresh
process so peak RSS is its own (both pay numba's compilation, about 30-40 s on 2 cores):
  1. reference: bare `umap.UMAP(metric="cosine").fit_transform` of all N vectors;
  2. `sde-workbench map -r minilm --json`: fit on a sample of `[maps] sample_size` (50k), the rest placed;
  3. the same command again (nothing changed: the cached path);
  4. after 1% new documents: the command places only them onto the kept map;
  5. the Map page on the cached map (AppTest, page render only), against a bare page drawing the same
     points with the same hover labels from a file (the irreducible cost of a WebGL scatter in Streamlit).
Targets (issue #5) on 2 cores: 100k points projected in under 3 minutes and under 4 GB.

    python bench/umap.py --sizes 10000,100000
    python bench/umap.py --sizes 10000 --no-reference     # quick
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import timed  # noqa: E402
from curation.indexing import document_vectors  # noqa: E402
from curation.ingest import ingest  # noqa: E402
from curation.workspace import WORKSPACE_ENV, Workspace  # noqa: E402
from embeddings.registry import fingerprint  # noqa: E402
from store import documents as document_store  # noqa: E402
from store import maps as map_store  # noqa: E402
from store import vectors  # noqa: E402

RETRIEVER = "minilm"
TOPICS = 50
DIVISIONS = ["Astrophysics", "Biological and Physical Sciences", "Earth Science", "Heliophysics", "Planetary Science"]
WRITE_ROWS = 20_000
CLI = str(Path(sys.executable).with_name("sde-workbench"))
PAGE = Path(__file__).resolve().parents[1] / "pages" / "map.py"

UMAP_REFERENCE = """
import sys, time, numpy as np, umap
data = np.load(sys.argv[1])
started = time.perf_counter()
umap.UMAP(n_components=2, metric="cosine", n_neighbors=15, min_dist=0.1, low_memory=True).fit_transform(data)
print(time.perf_counter() - started)
"""

BARE_PAGE = """
import html, numpy as np, plotly.graph_objects as go, streamlit as st
saved = np.load(POINTS, allow_pickle=True)
hover = [f"<b>{html.escape(t)}</b><br>{html.escape(u)}" for t, u in zip(saved["title"], saved["url"])]
rows = np.arange(len(hover))
figure = go.Figure(go.Scattergl(x=saved["x"], y=saved["y"], mode="markers", hovertext=hover, customdata=rows))
st.plotly_chart(figure, key="bare", on_select="rerun", selection_mode=("box", "lasso", "points"))
"""


def add_documents(ws: Workspace, start: int, stop: int, centres: np.ndarray, folder: Path, seed: int) -> None:
    """Ingest documents start..stop-1 and write a synthetic vector for each (its topic's centre plus noise)."""
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, TOPICS, stop - start)
    path = folder / f"docs-{start}.jsonl"
    with path.open("w") as handle:
        for i, topic in zip(range(start, stop), topics, strict=True):
            row = {
                "doc_id": f"doc-{i}",
                "url": f"https://science.nasa.gov/topic-{topic}/page-{i}",
                "title": f"Topic {topic} page {i}",
                "text": f"synthetic page {i} about topic {topic}",
                "division": DIVISIONS[topic % len(DIVISIONS)],
                "document_type": "Data",
            }
            handle.write(json.dumps(row) + "\n")
    ingest(ws, [path])
    spec = ws.settings.retrievers[RETRIEVER]
    for block in range(start, stop, WRITE_ROWS):
        ids = [f"doc-{i}" for i in range(block, min(stop, block + WRITE_ROWS))]
        docs = document_store.get_documents(ws.db, ids)
        data = centres[topics[block - start : block - start + len(ids)]] + rng.normal(size=(len(ids), centres.shape[1]))
        data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
        columns = {
            "doc_id": ids,
            "passage": [0] * len(ids),
            "text": [d["title"] for d in docs],
            "content_hash": [d["content_hash"] for d in docs],
            **{c: [d[c] for d in docs] for c in vectors.FILTER_COLUMNS},
        }
        vectors.write_documents(
            ws.vectors_dir,
            RETRIEVER,
            vectors.passages_table(columns, data),
            replace=[],
            table_fingerprint=fingerprint(spec),
        )


def map_command(ws: Workspace) -> tuple[float, float, dict[str, object]]:
    seconds, rss, out = timed([CLI, "--workspace", str(ws.root), "map", "-r", RETRIEVER, "--json"])
    return seconds, rss, json.loads(out)


def render_seconds(script: Path, rounds: int = 3) -> tuple[float, float]:
    """Seconds of the first AppTest run of a page, and the median of later reruns."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(script), default_timeout=900)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
        assert at.get("plotly_chart"), "the page drew no map"
    return times[0], float(np.median(times[1:]))


def run(n: int, dim: int, reference: bool) -> None:
    print(f"\n== {n:,} documents, {dim}-d vectors, {TOPICS} topics", flush=True)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(TOPICS, dim)) * 0.6
    with tempfile.TemporaryDirectory(prefix="bench-umap-") as tmp:
        folder = Path(tmp)
        ws = Workspace.open(folder / "workspace")
        started = time.perf_counter()
        add_documents(ws, 0, n, centres, folder, seed=1)
        print(f"setup (ingest + vectors)     {time.perf_counter() - started:8.1f} s", flush=True)
        print(f"{'':30}{'seconds':>10}{'peak RSS MB':>14}")
        ref_s = None
        if reference:
            np.save(folder / "vectors.npy", document_vectors(ws, RETRIEVER)[1])
            ref_s, ref_rss, ref_out = timed([sys.executable, "-c", UMAP_REFERENCE, str(folder / "vectors.npy")])
            alone = f"(UMAP alone: {float(ref_out):.1f} s)"
            print(f"{'bare UMAP fit_transform (ref)':30}{ref_s:10.1f}{ref_rss:14,.0f}   {alone}", flush=True)
        job_s, job_rss, job = map_command(ws)
        assert job["points"] == n and not job["cached"], job
        print(f"{'sde-workbench map':30}{job_s:10.1f}{job_rss:14,.0f}   (fitted on {job['fitted_on']:,})", flush=True)
        cached_s, cached_rss, cached = map_command(ws)
        assert cached["cached"], cached
        print(f"{'  again (cached)':30}{cached_s:10.1f}{cached_rss:14,.0f}")
        extra = max(1, n // 100)
        add_documents(ws, n, n + extra, centres, folder, seed=2)
        more_s, more_rss, more = map_command(ws)
        assert more["points"] == n + extra and more["fitted_on"] == job["fitted_on"], more
        print(f"{f'  +{extra:,} new documents placed':30}{more_s:10.1f}{more_rss:14,.0f}")

        frame = document_store.document_fields(ws.db, [f"doc-{i}" for i in range(n + extra)], ("title", "url"))
        points = map_store.points(ws.db, RETRIEVER).merge(frame, on="doc_id")
        np.savez(folder / "points.npz", x=points["x"], y=points["y"], title=points["title"], url=points["url"])
        (folder / "bare.py").write_text(BARE_PAGE.replace("POINTS", repr(str(folder / "points.npz"))))
        os.environ[WORKSPACE_ENV] = str(ws.root)
        bare_first, bare_again = render_seconds(folder / "bare.py")
        page_first, page_again = render_seconds(PAGE)
        print(f"{'':30}{'first run':>10}{'rerun':>10}")
        print(f"{'bare scatter page (ref)':30}{bare_first:10.2f}{bare_again:10.2f}")
        print(f"{'Map page (cached map)':30}{page_first:10.2f}{page_again:10.2f}")
        ratio = f"; vs bare UMAP {job_s / ref_s:.2f}x" if ref_s else ""
        print(
            f"map: {job_s:.1f} s (target < 180 s at 100k){ratio}; peak RSS {job_rss:,.0f} MB (target < 4096); "
            f"page rerun vs bare {page_again / bare_again:.2f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--no-reference", action="store_true", help="skip the bare UMAP reference (slow at 100k)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.dim, not args.no_reference)


if __name__ == "__main__":
    main()
