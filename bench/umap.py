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
The orchestrating process imports nothing heavy: a child's peak RSS counts what it inherited at spawn.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.ingest import timed  # noqa: E402

RETRIEVER = "minilm"
TOPICS = 50
DIVISIONS = ["Astrophysics", "Biological and Physical Sciences", "Earth Science", "Heliophysics", "Planetary Science"]
WRITE_ROWS = 20_000
CLI = str(Path(sys.executable).with_name("sde-workbench"))
PAGE = REPO / "pages" / "map.py"

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


def add_documents(root: Path, start: int, stop: int, seed: int, save_vectors: bool) -> None:
    """Ingest documents start..stop-1 and write a synthetic vector for each (its topic's centre plus noise)."""
    import numpy as np

    from curation.core import Workspace
    from curation.ingest import ingest
    from curation.retrieval import current_fingerprint, document_vectors
    from store import documents as document_store
    from store import vectors

    ws = Workspace.open(root)
    centres = np.random.default_rng(0).normal(size=(TOPICS, 384)) * 0.6
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, TOPICS, stop - start)
    path = root.parent / f"docs-{start}.jsonl"
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
        table = vectors.passages_table(columns, data)
        vectors.write_documents(
            ws.vectors_dir, RETRIEVER, table, replace=[], table_fingerprint=current_fingerprint(ws, RETRIEVER)
        )
    if save_vectors:
        np.save(root.parent / "vectors.npy", document_vectors(ws, RETRIEVER)[1])


def render(root: Path) -> dict[str, float]:
    """Seconds of the first AppTest run and of a rerun, for the Map page and for a bare scatter page."""
    import numpy as np
    from streamlit.testing.v1 import AppTest

    from curation.core import WORKSPACE_ENV, Workspace
    from store import documents as document_store
    from store import maps as map_store

    ws = Workspace.open(root)
    points = map_store.points(ws.db, RETRIEVER)
    points = points.merge(document_store.document_fields(ws.db, points["doc_id"].tolist(), ("title", "url")))
    np.savez(root.parent / "points.npz", x=points["x"], y=points["y"], title=points["title"], url=points["url"])
    bare = root.parent / "bare.py"
    bare.write_text(BARE_PAGE.replace("POINTS", repr(str(root.parent / "points.npz"))))
    os.environ[WORKSPACE_ENV] = str(root)
    times = {}
    for name, script in (("bare", bare), ("page", PAGE)):
        at = AppTest.from_file(str(script), default_timeout=900)
        rounds = []
        for _ in range(3):
            started = time.perf_counter()
            at.run()
            rounds.append(time.perf_counter() - started)
            assert not at.exception and at.get("plotly_chart"), at.exception
        times[f"{name}_first"], times[f"{name}_rerun"] = rounds[0], float(np.median(rounds[1:]))
    return times


def child(*args: str) -> tuple[float, float, str]:
    return timed([sys.executable, __file__, *args])


def map_command(root: Path) -> tuple[float, float, dict[str, object]]:
    seconds, rss, out = timed([CLI, "--workspace", str(root), "map", "-r", RETRIEVER, "--json"])
    return seconds, rss, json.loads(out)


def run(n: int, reference: bool) -> None:
    print(f"\n== {n:,} documents, 384-d vectors, {TOPICS} topics", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-umap-") as tmp:
        root = Path(tmp) / "workspace"
        setup_s, _, _ = child("--add", str(root), "0", str(n), "1", "1" if reference else "0")
        print(f"setup (ingest + vectors)      {setup_s:8.1f} s", flush=True)
        print(f"{'':30}{'seconds':>10}{'peak RSS MB':>14}")
        ref_s = None
        if reference:
            ref_s, ref_rss, ref_out = timed([sys.executable, "-c", UMAP_REFERENCE, str(Path(tmp) / "vectors.npy")])
            alone = f"(UMAP alone: {float(ref_out):.1f} s)"
            print(f"{'bare UMAP fit_transform (ref)':30}{ref_s:10.1f}{ref_rss:14,.0f}   {alone}", flush=True)
        job_s, job_rss, job = map_command(root)
        assert job["points"] == n and not job["cached"], job
        print(f"{'sde-workbench map':30}{job_s:10.1f}{job_rss:14,.0f}   (fitted on {job['fitted_on']:,})", flush=True)
        cached_s, cached_rss, cached = map_command(root)
        assert cached["cached"], cached
        print(f"{'  again (cached)':30}{cached_s:10.1f}{cached_rss:14,.0f}", flush=True)
        extra = max(1, n // 100)
        child("--add", str(root), str(n), str(n + extra), "2", "0")
        more_s, more_rss, more = map_command(root)
        assert more["points"] == n + extra and more["fitted_on"] == job["fitted_on"], more
        print(f"{f'  +{extra:,} new documents placed':30}{more_s:10.1f}{more_rss:14,.0f}", flush=True)

        times = json.loads(child("--render", str(root))[2].splitlines()[-1])
        print(f"{'':30}{'first run':>10}{'rerun':>10}")
        print(f"{'bare scatter page (ref)':30}{times['bare_first']:10.2f}{times['bare_rerun']:10.2f}")
        print(f"{'Map page (cached map)':30}{times['page_first']:10.2f}{times['page_rerun']:10.2f}")
        ratio = f"; vs bare UMAP {job_s / ref_s:.2f}x" if ref_s else ""
        print(
            f"map: {job_s:.1f} s (target < 180 s at 100k){ratio}; peak RSS {job_rss:,.0f} MB (target < 4096); "
            f"page rerun vs bare {times['page_rerun'] / times['bare_rerun']:.2f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--no-reference", action="store_true", help="skip the bare UMAP reference (slow at 100k)")
    parser.add_argument("--add", nargs=5, metavar=("ROOT", "START", "STOP", "SEED", "SAVE"), help=argparse.SUPPRESS)
    parser.add_argument("--render", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.add:
        root, start, stop, seed, save = args.add
        add_documents(Path(root), int(start), int(stop), int(seed), save == "1")
    elif args.render:
        print(json.dumps(render(Path(args.render))))
    else:
        for size in (int(s) for s in args.sizes.split(",")):
            run(size, not args.no_reference)


if __name__ == "__main__":
    main()
