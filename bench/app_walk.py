"""The app in Chromium on the demo workspace: seconds from navigation to settled per page, and from a key press to
settled on Judge and Compare.

    python bench/app_walk.py                       # copies ./workspace (make demo), else builds the demo in /tmp
    python bench/app_walk.py --workspace W --presses 10

"Settled" is the moment the script run an action started has finished and the page is drawn (Streamlit's
`data-test-script-state` is back to notRunning). A page is visited twice: the first visit of a session pays for
imports and caches, the second is what a curator meets afterwards. The workspace is copied first, since key
presses on Judge store judgments. The reference is the app's health endpoint, measured in the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation.core import Workspace  # noqa: E402
from curation.demo import build_demo  # noqa: E402
from tests.browser.app_driver import (  # noqa: E402
    browser_page,
    exceptions,
    go_to,
    missing_browser,
    open_app,
    press,
    served_app,
)

PAGES = ["Overview", "Load", "Embed", "Search", "Map", "Filter & review", "Compare", "Judge", "Evaluate"]
PAGES += ["Fine-tune", "Jobs"]


def workspace_copy(source: Path | None, into: Path) -> Path:
    target = into / "workspace"
    if source is not None and (source / "curation.duckdb").exists():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock", "jobs"))
    else:
        print("building the demo workspace (MiniLM embedding: a few minutes on CPU)...", flush=True)
        build_demo(Workspace.open(target))
    return target


def health_ms(url: str, n: int = 20) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as response:
            response.read()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=Path("workspace"), help="demo workspace to copy")
    parser.add_argument("--presses", type=int, default=6, help="key presses timed on Judge and Compare")
    args = parser.parse_args()
    if reason := missing_browser():
        sys.exit(f"cannot run: {reason}")
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace_copy(args.workspace, Path(tmp))
        with served_app(root, Path(tmp) / "app.log") as url, browser_page() as (page, requests):
            reference = health_ms(url)
            first_load = open_app(page, f"{url}/?curator=bench")
            print(f"reference: app health endpoint {reference:.1f} ms (median of 20)")
            print(f"first load of the app: {first_load:.2f} s\n")
            print(f"{'page':<18}{'first visit s':>14}{'again s':>10}")
            for title in PAGES:
                first = go_to(page, title)
                go_to(page, "Overview" if title != "Overview" else "Jobs")
                again = go_to(page, title)
                problem = " EXCEPTION" if exceptions(page) else ""
                print(f"{title:<18}{first:>14.2f}{again:>10.2f}{problem}")

            print()
            for title, keys in (("Judge", ["2", "n"]), ("Compare", ["n", "p"])):
                go_to(page, title)
                for key in keys:
                    times = [press(page, key) for _ in range(args.presses)]
                    print(
                        f"{title}: key {key.upper()} -> settled: median {statistics.median(times):.2f} s, "
                        f"max {max(times):.2f} s over {len(times)} presses"
                    )
            print(f"\nrequests outside 127.0.0.1: {len(requests.outside)} (of {len(requests.seen)})")


if __name__ == "__main__":
    main()
