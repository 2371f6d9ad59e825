"""Pieces every page shares: the open workspace and the curator's name from the sidebar."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from curation.workspace import DEFAULT_WORKSPACE, WORKSPACE_ENV, Workspace


@st.cache_resource(show_spinner=False, max_entries=4)
def _open_workspace(path: str, settings_mtime: float) -> Workspace:
    return Workspace.open(path)


def workspace() -> Workspace:
    """The workspace this app serves (`SDE_WORKBENCH_WORKSPACE`, set by `sde-workbench app`).

    Reopened when workbench.toml changes, so settings written by the CLI (a new retriever) show up.
    """
    root = Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).resolve()
    toml = root / "workbench.toml"
    return _open_workspace(str(root), toml.stat().st_mtime if toml.exists() else 0.0)


def curator() -> str:
    """The curator's name from the sidebar; judgments and decisions are stored under it."""
    return str(st.session_state.get("curator") or "").strip()


def sidebar() -> None:
    ws = workspace()
    with st.sidebar:
        st.caption("Workspace")
        st.code(str(ws.root), language=None)
        if "curator" not in st.session_state:
            st.session_state["curator"] = os.environ.get("SDE_WORKBENCH_CURATOR", "")
        st.text_input(
            "Curator", key="curator", placeholder="your name", help="Stored with your judgments and decisions."
        )
