"""The app served to a team: two annotators sign in with a local OIDC provider in two browser contexts, their
judgments carry who they are, a judge-only role gets no Load page, and a path outside the allowed folders is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from curation.core import Workspace
from curation.judging import history
from tests.browser.app_driver import browser_pages, free_port, open_app, press, served_app, settled
from tests.browser.conftest import JUDGE_SETUP

USERS = {"ana": "judge", "bob": "curator"}


@pytest.fixture
def provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 with ana and bob (e-mail claims), until the test ends."""
    pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed (pip install -e '.[dev]')")
    port = free_port()
    claims = [a for who in USERS for a in ("--user-claims", json.dumps({"sub": who, "email": f"{who}@nasa.gov"}))]
    server = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "-H", "127.0.0.1", "-p", str(port), *claims],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=5).close()
                break
            assert server.poll() is None and time.monotonic() < deadline, "the OIDC provider did not come up"
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(15)


@pytest.fixture
def team_app(browser_ws: Workspace, provider: str, tmp_path: Path) -> Iterator[str]:
    """The browser tests' workspace served with sign-in: ana may only judge, bob is a curator."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    browser_ws.update_settings("access", "judges", ["ana@nasa.gov"])
    browser_ws.update_settings("access", "curators", ["bob@nasa.gov"])
    browser_ws.update_settings("access", "allowed_folders", [str(allowed)])
    port = free_port()
    secrets = tmp_path / "secrets.toml"  # outside the workspace, as the CLI requires
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-cookie-secret-for-tests-only"\n'
        'client_id = "workbench"\nclient_secret = "workbench-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": os.environ.get("PATH", "")}
    try:
        with served_app(browser_ws.root, tmp_path / "app.log", env, port=port, args=("--auth", str(secrets))) as url:
            yield url
    finally:
        browser_ws.remove_setting("access", "judges")
        browser_ws.remove_setting("access", "curators")
        browser_ws.remove_setting("access", "allowed_folders")


def sign_in(tab: Any, url: str, who: str) -> None:
    tab.goto(url)
    settled(tab)
    tab.get_by_role("button", name="Sign in").click()
    tab.locator("input[name='sub']").fill(who)  # the provider's form
    tab.get_by_role("button", name="Authorize").click()
    tab.wait_for_selector("[data-testid='stSidebarNav']")
    settled(tab)


def judge_one(tab: Any, url: str, key: str) -> str:
    open_app(tab, f"{url}/judge?" + "&".join(f"{k}={v}" for k, v in JUDGE_SETUP.items()))
    press(tab, key)
    return parse_qs(urlsplit(tab.url).query)["q"][0]


def test_two_annotators_sign_in_and_their_roles_decide(team_app: str, browser_ws: Workspace, tmp_path: Path) -> None:
    with browser_pages(2) as ((ana, ana_requests), (bob, bob_requests)):
        ana.goto(team_app)
        settled(ana)
        assert ana.locator("[data-testid='stSidebarNav']").count() == 0  # nothing before signing in
        sign_in(ana, team_app, "ana")
        sign_in(bob, team_app, "bob")
        sidebar = ana.locator("[data-testid='stSidebar']").inner_text()
        assert "ana@nasa.gov" in sidebar and "judge" in sidebar
        assert ana.get_by_role("textbox", name="Curator").count() == 0  # no typed name in a team's app
        ana_pages = ana.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Judge" in ana_pages and "Load" not in ana_pages and "Fine-tune" not in ana_pages
        assert "Load" in bob.locator("[data-testid='stSidebarNav']").inner_text()

        ana.goto(f"{team_app}/load")  # a judge cannot reach the Load page by its address either
        settled(ana)
        assert ana.get_by_role("button", name="Ingest").count() == 0
        assert "ana@nasa.gov" in ana.locator("[data-testid='stSidebar']").inner_text()

        query_ana = judge_one(ana, team_app, "2")
        query_bob = judge_one(bob, team_app, "3")

        open_app(bob, f"{team_app}/load")
        bob.get_by_text("Path on this machine").click()
        settled(bob)
        bob.get_by_role("textbox", name="File or folder path").fill("/etc/passwd")
        bob.keyboard.press("Enter")
        settled(bob)
        assert "outside the folders this app may read" in bob.locator("[data-testid='stAlert']").first.inner_text()
    # every request the app made stayed on 127.0.0.1 (the mock provider's own page asks a CDN for its stylesheet)
    assert [u for u in ana_requests.outside + bob_requests.outside if "@picocss" not in u] == []

    rows = history(browser_ws, "demo")
    ana_rows = rows[rows["annotator"] == "ana@nasa.gov"]
    bob_rows = rows[rows["annotator"] == "bob@nasa.gov"]
    assert list(ana_rows["query_id"]) == [query_ana] and [int(g) for g in ana_rows["grade"]] == [2]
    assert list(bob_rows["query_id"]) == [query_bob] and [int(g) for g in bob_rows["grade"]] == [3]
