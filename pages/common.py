"""Pieces every page shares: the open workspace, the curator's name and the running jobs in the sidebar."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import streamlit as st
from PIL import Image, ImageDraw

from curation.core import DEFAULT_WORKSPACE, WORKSPACE_ENV, Workspace, document_counts
from curation.judging import RankingSource, query_sets, ranking_sources
from curation.retrieval import RetrieverCoverage, coverage, retriever_version
from pages.background import sidebar_jobs
from pages.state import keep, show_notices
from pages.team import signed_in_panel, team_mode

T = TypeVar("T")


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_workspace(path: str, settings_mtime: float) -> Workspace:
    return Workspace.open(path)


@st.cache_resource(show_spinner=False)
def app_icon() -> Image.Image:
    """The browser tab's icon, drawn here so that nothing is fetched from outside 127.0.0.1."""
    icon = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((2, 2, 62, 62), radius=14, fill=(11, 61, 145))  # NASA blue
    draw.ellipse((14, 14, 50, 50), outline=(255, 255, 255), width=5)
    draw.line((42, 42, 56, 56), fill=(255, 255, 255), width=7)
    return icon


def workspace() -> Workspace:
    """The workspace this app serves (`SDE_WORKBENCH_WORKSPACE`, set by `sde-workbench app`).

    Reopened when workbench.toml changes, so settings written by the CLI (a new retriever) show up.
    """
    root = Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).resolve()
    toml = root / "workbench.toml"
    return _open_workspace(str(root), toml.stat().st_mtime if toml.exists() else 0.0)


@st.cache_data(max_entries=16, show_spinner=False)
def _coverage_of(root: str, version: int, tables: tuple[str, ...]) -> list[RetrieverCoverage]:
    return coverage(workspace())


def retriever_coverage() -> list[RetrieverCoverage]:
    """Every retriever's coverage (Embed, Search, Compare). It reads every vectors table, so it is done again only
    when the documents (the data version) or a table (its version) changed, not on every rerun or key press."""
    ws = workspace()
    tables = tuple(retriever_version(ws, name) for name in sorted(ws.settings.retrievers))
    return _coverage_of(str(ws.root), ws.data_version(), tables)


@st.cache_data(max_entries=32, show_spinner=False)
def _counts_of(root: str, version: int, field: str) -> dict[str, int]:
    return document_counts(workspace(), field)


def facet_counts(field: str) -> dict[str, int]:
    """Documents per division, document type or collection (a filter's options): one scan of the documents per
    change of the workspace's data, shared by every session, not one per rerun or key press."""
    ws = workspace()
    return _counts_of(str(ws.root), ws.data_version(), field)


def curator() -> str:
    """The curator's name from the sidebar; judgments and decisions are stored under it."""
    return str(st.session_state.get("curator") or "").strip()


def sidebar() -> None:
    """The workspace, the curator's name (kept in the URL as ?curator=, so a reload or a bookmark keeps it;
    `SDE_WORKBENCH_CURATOR` gives a default; in a team's app, who signed in) and the jobs running now."""
    ws = workspace()
    with st.sidebar:
        st.caption("Workspace")
        st.code(str(ws.root), language=None)
        if team_mode():  # the curator is who signed in
            signed_in_panel()
        else:
            st.text_input(
                "Curator",
                key=keep("curator", os.environ.get("SDE_WORKBENCH_CURATOR", ""), url="curator"),
                placeholder="your name",
                help="Stored with your judgments and decisions, and kept in the page address.",
            )
    sidebar_jobs(ws)
    show_notices()


def shared_reads(view: Callable[[], None]) -> Callable[[], None]:
    """Wrap the part of a page a key press redraws so that its reads share one connection to the workspace: it
    does a dozen small reads, and opening the database file for each costs more than the reads themselves at SDE
    scale. Writers in other processes wait for the part's end, so keep long work (building a queue) outside."""

    @functools.wraps(view)
    def wrapped() -> None:
        with workspace().reading():
            view()

    return wrapped


def run_with_progress(
    work: Callable[[Callable[[int, int], None]], T], expected: tuple[type[Exception], ...], text: str
) -> T:
    """Run `work` with an `st.progress` bar fed by its (done, total) callback; `text` may use {done} and {total}.

    An expected failure empties the bar and stops the page with its message instead of a traceback.
    """
    bar = st.progress(0.0, text=text.format(done=0, total="?"))
    try:
        result = work(lambda done, total: bar.progress(done / max(total, 1), text=text.format(done=done, total=total)))
    except expected as exc:
        bar.empty()
        st.error(str(exc))
        st.stop()
    bar.progress(1.0, text="Done")
    return result


def query_set_choice(key: str | None = None) -> str:
    """A select box of the workspace's query sets; stops the page with a hint when there are none."""
    sets = [s["name"] for s in query_sets(workspace())]
    if not sets:
        st.info("No query sets yet: `sde-workbench queries import FILE --set NAME`, `import-benchmark`, or the demo.")
        st.stop()
    return str(st.selectbox("Query set", sets, key=keep(key or "query_set", url="set", options=sets)))


def ranking_choice(query_set: str, key: str, labels: tuple[str, str]) -> tuple[dict[str, RankingSource], str, str, int]:
    """Two rankings (live retrievers or the set's stored runs) and a depth k, side by side.

    Returns every available source by key, the two chosen keys and k; stops the page when there is none.
    """
    ws = workspace()
    sources = {source.key: source for source in ranking_sources(ws, query_set)}
    if not sources:
        st.info("No rankings: embed a retriever (**Embed** page) or store a run (`sde-workbench run`).")
        st.stop()
    keys = list(sources)
    left, right, depth = st.columns([2, 2, 1])
    a = left.selectbox(
        labels[0],
        keys,
        key=keep(f"{key}_a", keys[0], url="a", options=keys),
        help="RETRIEVER/MODE is searched live; run:NAME is stored",
    )
    b = right.selectbox(labels[1], keys, key=keep(f"{key}_b", keys[min(1, len(keys) - 1)], url="b", options=keys))
    k = int(depth.number_input("Top k", 1, 100, key=keep(f"{key}_k", ws.settings.judging.k, url="k", parse=int)))
    return sources, str(a), str(b), k
