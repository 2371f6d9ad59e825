"""Drive a real `sde-workbench app` with Debian's Chromium through Playwright (the browser tests and bench/app_walk.py).

Nothing here downloads a browser: Chromium comes from the OS packages (`make browser`), and every request the
page makes is recorded, so a test can tell that none left 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SETTLE_TIMEOUT_MS = 120_000


def chromium_path() -> str | None:
    """Debian's Chromium, where `make browser` installs it (None when absent)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_browser() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "chromium is not installed (`make browser` installs Debian's chromium)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_app(
    workspace: Path,
    log: Path,
    env: dict[str, str] | None = None,
    *,
    port: int | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[str]:
    """`sde-workbench app` (with `args`) on a port of 127.0.0.1 (a free one unless given), up and healthy; yields
    its URL."""
    port = port or free_port()
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    command = [sys.executable, "-c", "from curation.cli import main; main()", "--workspace", str(workspace)]
    with log.open("w") as out:
        server = subprocess.Popen(  # a session of its own: stopping it stops the Streamlit server it starts too
            [*command, "app", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
                        if response.read().decode() == "ok":
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not come up; see {log}")
                time.sleep(0.3)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(15)
            with contextlib.suppress(ProcessLookupError):  # whatever of the group is left (the Streamlit server)
                os.killpg(server.pid, signal.SIGKILL)


class Requests:
    """Every URL the pages asked for; those whose host is not 127.0.0.1 are refused, and kept in `outside`."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.outside: list[str] = []

    def route(self, route: Any) -> None:
        url = route.request.url
        self.seen.append(url)
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@contextmanager
def browser_page(width: int = 1500, height: int = 1000) -> Iterator[tuple[Any, Requests]]:
    """A Chromium page whose requests are all recorded (and kept on 127.0.0.1)."""
    with browser_pages(1, width, height) as (only,):
        yield only


@contextmanager
def browser_pages(count: int, width: int = 1500, height: int = 1000) -> Iterator[list[tuple[Any, Requests]]]:
    """Pages in `count` browser contexts of one Chromium (separate cookies: separate people), requests recorded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            pages = []
            for _ in range(count):
                requests = Requests()
                context = browser.new_context(viewport={"width": width, "height": height})
                context.route("**/*", requests.route)
                page = context.new_page()
                page.set_default_timeout(SETTLE_TIMEOUT_MS)
                pages.append((page, requests))
            yield pages
        finally:
            browser.close()


QUIET_MS = 250  # the page counts as drawn once nothing in it has changed for this long
# Notes the time of the last change anywhere in the page (installed once per document).
WATCH_CHANGES = """() => {
    if (window.__lastChange === undefined) {
        window.__lastChange = performance.now();
        new MutationObserver(() => { window.__lastChange = performance.now(); })
            .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
    }
}"""


def settled(page: Any, timeout_ms: int = SETTLE_TIMEOUT_MS) -> float:
    """Wait until the script run the last action started has finished and the page is drawn: Streamlit says it
    is not running, and nothing in the page has changed for QUIET_MS (the front end goes on drawing, and
    registering a button's shortcut, after the run's last message; an action sent before that can be lost, where
    a person would not yet have reacted). Returns the seconds since the page's last change, which callers that
    time an action take off.
    """
    page.evaluate(WATCH_CHANGES)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']\")",
        timeout=timeout_ms,
    )
    page.wait_for_function(f"() => performance.now() - window.__lastChange >= {QUIET_MS}", timeout=timeout_ms)
    return float(page.evaluate("() => performance.now() - window.__lastChange")) / 1000


def open_app(page: Any, url: str) -> float:
    """Load the app at `url` (a page's path and query allowed); seconds until it settled."""
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("[data-testid='stSidebarNav']")
    quiet = settled(page)
    return time.perf_counter() - started - quiet


def go_to(page: Any, title: str, attempts: int = 3) -> float:
    """Click a page's link in the sidebar (the same browser session); seconds until it settled.

    A click that lands while a job's end reruns the page it leaves can be lost: it is then made again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    started = time.perf_counter()
    for attempt in range(attempts):
        page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
        try:
            page.wait_for_function(
                "title => [...document.querySelectorAll('h1')].some(h => h.innerText.trim().startsWith(title))",
                arg=title.split(" ")[0],
                timeout=SETTLE_TIMEOUT_MS // attempts,
            )
            break
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
    quiet = settled(page)
    return time.perf_counter() - started - quiet


def press(page: Any, key: str) -> float:
    """Press a key on the page (not in a text box); seconds until the script run it started has settled."""
    page.locator("h1").first.click()  # focus the page, away from any input
    started = time.perf_counter()
    page.keyboard.press(key)
    quiet = rerun(page)
    return time.perf_counter() - started - quiet


def rerun(page: Any) -> float:
    """Wait for the script run an action starts (if it has not already come and gone), then for it to end;
    returns `settled`'s seconds since the last change."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with contextlib.suppress(PlaywrightTimeout):  # the run was over before we looked
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='running']", timeout=3000)
    return settled(page)


def choose(page: Any, label: str, option: str, attempts: int = 3) -> float:
    """Pick `option` in the select box labelled `label`; seconds until the page settled.

    A click on a box below the fold can scroll the page and only focus the box, its list unopened (seen on the
    300k workspace's Filter & review page): the box is then clicked again (the list opens in the browser, without
    the server, so a few seconds is long enough to wait for it).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_role("combobox", name=label, exact=True).first
    box.scroll_into_view_if_needed()
    started = time.perf_counter()
    for attempt in range(attempts):
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).first.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
    quiet = rerun(page)
    return time.perf_counter() - started - quiet


def chosen(page: Any, label: str) -> str:
    """What the select box labelled `label` shows."""
    return str(page.get_by_role("combobox", name=label, exact=True).first.input_value())


def type_into(page: Any, label: str, text: str) -> float:
    """Type into the text box labelled `label` (replacing what it held) and submit it with Enter; seconds from
    Enter until the page settled."""
    box = page.get_by_label(label, exact=True).first
    box.fill(text)
    started = time.perf_counter()
    box.press("Enter")
    quiet = rerun(page)
    return time.perf_counter() - started - quiet


def exceptions(page: Any) -> list[str]:
    return [e.inner_text() for e in page.locator("[data-testid='stException']").all()]
