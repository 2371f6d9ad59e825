"""Roles in a team's app beyond the pages they get: a judge may not steer someone else's job, nor keep or drop
documents from the Map's selection. (Sign-in itself is tested in a browser: tests/browser/test_team_sign_in.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.core import Workspace
from curation.jobs import map_job, start_job, wait_for_job
from pages.team import ROLE

PAGES = Path(__file__).resolve().parents[2] / "pages"
AUTH = {"redirect_uri": "http://127.0.0.1:1/oauth2callback", "cookie_secret": "x", "client_id": "c"}


def jobs_page_as(who: str, role: str | None) -> AppTest:
    """The Jobs page on its own (AppTest runs a page without app.py's sign-in gate), as `who` with `role`; with
    no role, the app alone on 127.0.0.1 (no `[auth]`)."""
    at = AppTest.from_file(str(PAGES / "jobs.py"), default_timeout=60)
    if role is not None:
        at.secrets["auth"] = AUTH
        at.session_state[ROLE] = role
    at.session_state["curator"] = who
    return at.run()


@pytest.mark.parametrize(
    ("who", "role", "allowed"),
    [
        ("ana@nasa.gov", "judge", False),  # bob's job
        ("bob@nasa.gov", "judge", True),  # their own job, whatever the role
        ("cy@nasa.gov", "curator", True),
        ("anyone", None, True),  # not a team's app: no roles
    ],
)
def test_a_judge_may_not_rerun_a_job_someone_else_started(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, who: str, role: str | None, allowed: bool
) -> None:
    monkeypatch.setenv("SDE_WORKBENCH_WORKSPACE", str(ws.root))
    job = wait_for_job(ws, start_job(ws, map_job("bm25"), "bob@nasa.gov").job_id)  # fails fast: nothing embedded
    assert not job.active
    at = jobs_page_as(who, role)
    assert not at.exception
    again = next(b for b in at.button if b.label == "Run again")
    assert again.disabled is (not allowed)
