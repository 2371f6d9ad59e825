"""How to draw a map at scale, by measurement: the Map page's plotly figure against Apple's Embedding Atlas
Streamlit component, on the same points, in headless Chromium with every request off 127.0.0.1 refused (the app
serves curators offline and on air-gapped machines).

Both draw the map of `--retriever` in the workspace `--workspace` (one built by `bench/app_scale.py --keep W
--build-only`), each in a one-page Streamlit app. Printed per drawing: seconds from opening the page until it
settled with a canvas drawn, whether it drew, the requests it tried to make off 127.0.0.1, and the tab's
JavaScript heap. Embedding Atlas is not a dependency of the workbench (its package pulls litellm, fastapi and
pandas 3); install it on its own to measure it: `pip install --no-deps embedding-atlas`.

    python bench/map_drawing.py --workspace /tmp/scale-ws
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not bench/ (whose umap.py hides umap)

from tests.browser.app_driver import browser_page, free_port, missing_browser, settled  # noqa: E402

APP = """
import streamlit as st
from curation.core import Workspace
from curation.maps import map_figure, map_points

@st.cache_resource
def points():
    return map_points(Workspace.open({workspace!r}), {retriever!r})

frame = points()
st.title("map")
if {drawing!r} == "plotly":
    st.plotly_chart(map_figure(frame, colour_by="collection"), on_select="rerun", selection_mode=("box", "lasso"))
else:
    from embedding_atlas.streamlit import embedding_atlas
    embedding_atlas(frame[["doc_id", "x", "y", "title", "collection"]], x="x", y="y", text="title", key="atlas")
"""
DRAWN = "() => [...document.querySelectorAll('canvas, iframe')].some(e => e.tagName === 'CANVAS' || "
DRAWN += "(e.contentDocument && e.contentDocument.querySelector('canvas')))"


def measure(workspace: Path, retriever: str, drawing: str, folder: Path, wait_s: float) -> str:
    """One drawing's row of the table."""
    script = folder / f"{drawing}.py"
    script.write_text(APP.format(workspace=str(workspace), retriever=retriever, drawing=drawing))
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    environment = {**os.environ, "PYTHONPATH": sys.path[0]}
    with (folder / f"{drawing}.log").open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    try:
        time.sleep(5)
        with browser_page() as (page, requests):
            page.goto(f"http://127.0.0.1:{port}/")  # a first visit warms the server's cache of the points
            settled(page)
            started = time.perf_counter()
            page.reload()
            page.wait_for_selector("h1")
            quiet = settled(page)
            drawn = True
            try:
                page.wait_for_function(DRAWN, timeout=wait_s * 1000)
            except Exception:  # noqa: BLE001 - Playwright's timeout: nothing was drawn
                drawn = False
            seconds = time.perf_counter() - started - (quiet if drawn else 0)
            heap = float(page.evaluate("() => performance.memory.usedJSHeapSize")) / 2**20
            outside = sorted({url.split("?")[0] for url in requests.outside})
    finally:
        server.terminate()
        server.wait(15)
    shown = f"{seconds:.2f}" if drawn else f"nothing in {wait_s:.0f}"
    return f"| {drawing} | {shown} | {'yes' if drawn else 'no'} | {heap:,.0f} | {', '.join(outside) or '-'} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--retriever", default="minilm")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for a canvas")
    args = parser.parse_args()
    if reason := missing_browser():
        sys.exit(f"cannot run: {reason}")
    drawings = ["plotly"]
    if importlib.util.find_spec("embedding_atlas"):
        drawings.append("embedding-atlas")
    else:
        print("embedding-atlas is not installed (pip install --no-deps embedding-atlas): plotly only")
    print("| drawing | seconds to draw | drew | tab heap MB | requests refused (off 127.0.0.1) |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="bench-map-") as tmp:
        for drawing in drawings:
            print(measure(args.workspace.resolve(), args.retriever, drawing, Path(tmp), args.wait), flush=True)


if __name__ == "__main__":
    main()
