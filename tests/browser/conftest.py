"""A small workspace served by a real `sde-workbench app`, and a Chromium page on it (skipped without Chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.core import Workspace
from curation.demo import build_demo
from curation.judging import RankingSource
from curation.retrieval import embed
from tests.browser.app_driver import Requests, browser_page, missing_browser, served_app
from tests.retrieval_data import add_retriever

JUDGE_SETUP = {"set": "demo", "a": "bm25/fts", "b": "tiny/vector", "k": "5"}


@pytest.fixture(scope="session")
def browser_ws(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Workspace:
    """The demo corpus and queries, searchable with bm25 and a tiny dense model; `tiny-late` is not embedded."""
    if reason := missing_browser():
        pytest.skip(reason)
    ws = Workspace.open(tmp_path_factory.mktemp("browser") / "workspace")
    build_demo(ws, retriever="bm25")
    add_retriever(ws, "tiny", tiny_model_dir)
    add_retriever(ws, "tiny-late", tiny_model_dir)
    ws.update_settings("embedding", "docs_per_write", 4)  # the embed job of the test reports often
    embed(ws, "tiny")
    assert RankingSource(retriever="tiny").key == JUDGE_SETUP["b"]
    return Workspace.open(ws.root)


@pytest.fixture(scope="session")
def app_url(browser_ws: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("app") / "app.log"
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SDE_WORKBENCH_CURATOR": ""}
    with served_app(browser_ws.root, log, env={**env, "PATH": os.environ.get("PATH", "")}) as url:
        yield url


@pytest.fixture
def page(app_url: str) -> Iterator[tuple[Any, Requests]]:
    """A fresh browser session on the app; after the test, no request may have left 127.0.0.1."""
    with browser_page() as (page, requests):
        yield page, requests
    assert requests.outside == [], f"requests left 127.0.0.1: {requests.outside}"
