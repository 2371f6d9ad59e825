"""The Rules page and Filter & review's near-duplicates through Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.core import WORKSPACE_ENV, Workspace
from curation.relevancy import Pattern, effective_patterns, run_rules, save_patterns, verdicts
from tests.job_helpers import finish_jobs

REPO = Path(__file__).resolve().parents[2]
SITE = "https://science.nasa.gov"
BODY = " ".join(f"fact{i}" for i in range(200))


@pytest.fixture
def open_page(
    ws: Workspace, add_documents: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], AppTest]:
    add_documents(
        [{"url": f"{SITE}/mission/{i}", "title": f"Mission {i}", "text": BODY} for i in range(3)]
        + [{"url": f"{SITE}/gallery/moon", "title": "Gallery", "text": BODY}],
        collection="Demo Pages",
    )
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))

    def open_(name: str) -> AppTest:
        at = AppTest.from_file(str(REPO / "pages" / name), default_timeout=60)
        at.session_state["curator"] = "ana"
        return at.run()

    return open_


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_preview_before_save_then_the_matrix_and_a_suggestion(
    open_page: Callable[[str], AppTest], ws: Workspace
) -> None:
    run_rules(ws)
    at = open_page("rules.py")
    assert not at.exception
    assert any("path_word:gallery" in str(df.value) for df in at.dataframe)  # the rule x collection matrix

    at.text_input(key="new_pattern").input(f"{SITE}/mission/*").run()
    assert (_metric(at, "Matches"), _metric(at, "Newly dropped")) == ("3", "3")
    assert len(effective_patterns(ws)) == len(ws.settings.rules.exclude_patterns)  # nothing saved yet
    assert any("drops 100%" in w.value for w in at.warning) is False
    next(b for b in at.button if b.label == "Save pattern").click().run()
    assert effective_patterns(ws)[-1].pattern == f"{SITE}/mission/*"

    save_patterns(
        ws,
        [Pattern(kind="exclude", match="wildcard", pattern="*/gallery/*", provenance="llm-suggested", active=False)],
        "llm",
    )
    at = open_page("rules.py")
    assert "matches 1" in " ".join(c.value for c in at.caption)
    next(b for b in at.button if b.label == "Accept").click().run()
    assert effective_patterns(ws)[-1].active is True
    next(b for b in at.button if b.label == "Run rules").click().run()
    assert any("drops 75%" in w.value for w in at.warning)  # 3 of 4 documents of the collection: flagged


def test_review_finds_clusters_in_a_job_and_keeps_one(open_page: Callable[[str], AppTest], ws: Workspace) -> None:
    at = open_page("review.py")
    next(b for b in at.button if b.label == "Find near-duplicates").click().run()
    (job,) = finish_jobs(ws)
    assert job.status == "done", job.error
    assert job.result == {"documents": 4, "clusters": 1, "duplicates": 3, "largest": 4}
    at = open_page("review.py")
    assert not at.exception
    (expander,) = [e for e in at.expander if e.label.startswith("m1: 4 documents")]
    assert expander

    next(b for b in at.button if b.label == "Keep this one, drop the rest").click().run()

    table = verdicts(ws)
    assert int(table["kept"].sum()) == 1 and len(table) == 4
    assert sum("duplicate of" in r[0] for r in table["reasons"] if len(r)) == 3
