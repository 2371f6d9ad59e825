"""The app in a real browser: pages load, jobs outlive navigation, keys store judgments, state is kept.

Driven with Playwright against `sde-workbench app` on a small workspace (see conftest.py); every request the
pages make is recorded and must stay on 127.0.0.1. Skipped, with the reason, where Chromium is not installed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from curation.core import Workspace
from curation.jobs import latest_job, wait_for_job
from curation.judging import history
from tests.browser.app_driver import choose, chosen, exceptions, go_to, open_app, press, rerun, type_into
from tests.browser.conftest import JUDGE_SETUP

PAGES = [
    "Load",
    "Embed",
    "Search",
    "Map",
    "Filter & review",
    "Rules",
    "Compare",
    "Judge",
    "Evaluate",
    "Fine-tune",
    "Jobs",
]


def sidebar_text(page: Any) -> str:
    return page.locator("[data-testid='stSidebar']").inner_text()


def test_every_page_loads_without_an_exception(page: tuple[Any, Any], app_url: str) -> None:
    tab, requests = page
    open_app(tab, f"{app_url}/?curator=ana")
    assert not exceptions(tab)
    tab.wait_for_selector("[data-testid='stPlotlyChart'] .bars path")
    box = tab.locator("[data-testid='stPlotlyChart'] .bars path").last.bounding_box()  # clear of the mode bar
    tab.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a bar lists its documents
    rerun(tab)
    tab.wait_for_selector("h3:has-text('Documents of')", timeout=30_000)
    for title in PAGES:
        go_to(tab, title)
        assert not exceptions(tab), f"{title}: {exceptions(tab)}"
    assert any("favicon" in url or "media" in url for url in requests.seen) or requests.seen  # all recorded
    assert requests.outside == []


def test_an_embed_job_goes_on_while_other_pages_are_visited(
    page: tuple[Any, Any], app_url: str, browser_ws: Workspace
) -> None:
    tab, _ = page
    open_app(tab, f"{app_url}/embed?curator=ana&retriever=tiny-late")
    tab.get_by_role("button", name="Start embedding").click()
    tab.wait_for_selector("text=Embed tiny-late")  # its progress, in the sidebar and on the page
    job = latest_job(browser_ws, "embed", "tiny-late")
    assert job is not None and job.started_by == "ana"
    deadline = time.monotonic() + 120  # its process is up (it imports torch first: seconds on a busy machine)
    while (latest := latest_job(browser_ws, "embed", "tiny-late")) and latest.status == "queued":
        assert time.monotonic() < deadline, "the embed job never started"
        time.sleep(0.2)
    for title in ("Search", "Compare", "Overview"):  # the script of each page runs; the job does not stop
        go_to(tab, title)
        assert not exceptions(tab)
        current = latest_job(browser_ws, "embed", "tiny-late")
        assert current is not None and current.status in ("running", "done")
        if current.status == "running":
            assert "Embed tiny-late" in sidebar_text(tab)
    done = wait_for_job(browser_ws, job.job_id, timeout=300)
    assert done.status == "done" and done.result and done.result["embedded"] == 335
    go_to(tab, "Embed")
    assert (
        "tiny-late: embedded 335 documents" in tab.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    )


def test_judge_keys_store_one_row_each(page: tuple[Any, Any], app_url: str, browser_ws: Workspace) -> None:
    tab, _ = page
    query = "&".join(f"{k}={v}" for k, v in JUDGE_SETUP.items())
    open_app(tab, f"{app_url}/judge?curator=kim&{query}")
    assert not exceptions(tab)
    query_id = parse_qs(urlsplit(tab.url).query)["q"][0]
    for key in ("0", "1", "2", "3", "t", "s", "u"):
        press(tab, key)
    assert not exceptions(tab)
    rows = history(browser_ws, "demo", query_id)
    mine = rows[rows["annotator"] == "kim"].sort_values("judgment_id")
    assert list(mine["kind"]) == ["grade", "grade", "grade", "grade", "cant_tell", "skip", "undo"]
    assert [int(g) for g in mine["grade"].iloc[:4]] == [0, 1, 2, 3]
    assert mine["doc_id"].iloc[:6].nunique() == 6  # each key moved on to the next document
    assert mine["source"].iloc[0] == "blind-pool:bm25/fts+tiny/vector@5"
    label = tab.get_by_role("button", name="3 highly relevant").first  # the whole label shows, none of it cut
    assert label.evaluate("b => [...b.querySelectorAll('p, div')].every(e => e.scrollWidth <= e.clientWidth + 1)")

    press(tab, "n")  # the next query; leaving the page and coming back keeps the queue, the setup and the query
    second = parse_qs(urlsplit(tab.url).query)["q"][0]
    assert second != query_id
    go_to(tab, "Overview")
    go_to(tab, "Judge")
    kept = parse_qs(urlsplit(tab.url).query)
    assert kept["q"] == [second] and kept["b"] == ["tiny/vector"] and kept["k"] == ["5"]
    assert "Query 2 of" in tab.locator("[data-testid='stCaptionContainer']", has_text="Query 2 of").first.inner_text()


def test_the_curator_survives_a_reload_and_choices_survive_navigation(page: tuple[Any, Any], app_url: str) -> None:
    tab, _ = page
    open_app(tab, app_url)
    type_into(tab, "Curator", "bo")
    go_to(tab, "Search")
    type_into(tab, "Query", "ozone")
    assert "ozone" in tab.locator("[data-testid='stHtml']").first.inner_text().lower()
    go_to(tab, "Compare")
    choose(tab, "Right ranking", "tiny/vector")
    go_to(tab, "Overview")
    go_to(tab, "Search")
    assert tab.get_by_label("Query", exact=True).first.input_value() == "ozone"
    go_to(tab, "Compare")
    assert chosen(tab, "Right ranking") == "tiny/vector"
    assert parse_qs(urlsplit(tab.url).query)["b"] == ["tiny/vector"]  # bookmarkable

    tab.reload()
    tab.wait_for_selector("[data-testid='stSidebarNav']")
    open_app(tab, tab.url)
    assert tab.get_by_label("Curator", exact=True).first.input_value() == "bo"
    assert chosen(tab, "Right ranking") == "tiny/vector"
