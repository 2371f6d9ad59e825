"""The Filter & review page through Streamlit's AppTest: run rules and the LLM judge, decide, review suggestions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.core import WORKSPACE_ENV, Workspace
from store import verdicts as verdict_store
from tests.job_helpers import finish_jobs
from tests.openai_stub import StubLLM

REPO = Path(__file__).resolve().parents[2]
SITE = "https://science.nasa.gov"
BODY = " ".join(f"fact{i}" for i in range(200))
HOSTILE = "<script>alert('x')</script> **not bold**"


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    server = StubLLM()
    yield server
    server.close()


@pytest.fixture
def page(
    ws: Workspace, add_documents: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], AppTest]:
    """Opens the app on the Filter & review page, with `curator` as the sidebar's name."""
    add_documents(
        [{"url": f"{SITE}/mission/{i}", "title": f"{HOSTILE} {i}", "text": f"{HOSTILE} {BODY}"} for i in range(3)]
        + [{"url": f"{SITE}/gallery/moon", "title": "Gallery", "text": BODY}],
        collection="demo",
    )
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))

    def open_page(curator: str) -> AppTest:
        # The page on its own: AppTest drops the sidebar's widgets after `switch_page`, so the name the
        # sidebar would hold is put where `pages.common.curator()` reads it.
        at = AppTest.from_file(str(REPO / "pages" / "review.py"), default_timeout=60)
        at.session_state["curator"] = curator
        return at.run()

    return open_page


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _button(at: AppTest, label: str) -> object:
    return next(b for b in at.button if b.label.startswith(label))


def test_rules_then_curator_decisions_need_a_name(page: Callable[[str], AppTest], ws: Workspace) -> None:
    anonymous = page("")
    assert not anonymous.exception
    in_app = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run().switch_page("pages/review.py").run()
    assert not in_app.exception and in_app.title[0].value == "Filter & review"
    _button(anonymous, "Run rules").click().run()
    assert any("Curator" in w.value for w in anonymous.warning)
    assert _button(anonymous, "Keep this document").disabled

    page = page("ana")
    assert (_metric(page, "Kept"), _metric(page, "Dropped")) == ("3", "1")
    assert any("path_word:gallery" in str(frame.value) for frame in page.dataframe)
    assert not page.warning
    document = next(s for s in page.selectbox if s.label == "Document")
    document.set_value(f"{SITE}/mission/1").run()
    assert not page.exception, page.exception
    assert any(HOSTILE in t.value for t in page.text)  # untrusted text shown as plain text
    assert not any("<script>" in m.value for m in page.markdown)
    next(t for t in page.text_input if t.label.startswith("Note")).input("thin page").run()
    _button(page, "Drop this document").click().run()

    assert (_metric(page, "Kept"), _metric(page, "Dropped")) == ("2", "2")
    row = verdict_store.verdict_table(ws.db, judge="curator").iloc[0]
    assert (row.doc_id, row.kept, row.decided_by, list(row.reasons)) == (
        f"{SITE}/mission/1",
        False,
        "ana",
        ["thin page"],
    )


def test_llm_run_from_the_page_then_bulk_accept_and_suggestions(
    page: Callable[[str], AppTest], ws: Workspace, stub: StubLLM
) -> None:
    page = page("ana")
    _button(page, "Run rules").click().run()
    next(s for s in page.selectbox if s.label == "Provider").set_value("openai-compatible")
    next(t for t in page.text_input if t.label == "Model").input("stub")
    next(t for t in page.text_input if t.label == "Base URL").input(stub.url)
    next(b for b in page.button if b.label == "Run LLM judge").click().run()

    (job,) = finish_jobs(ws)  # the LLM judge runs as a background job: `filter --judge llm`
    page.run()
    assert not page.exception and job.result and job.result["judged"] == 3 and stub.calls == 3
    assert any(s.value.startswith("3 judged") for s in page.success)
    assert _metric(page, "Pending suggestions") == "6"

    _button(page, "Accept all machine verdicts").click().run()
    assert set(verdict_store.verdict_table(ws.db, judge="curator")["decided_by"]) == {"ana"}
    assert verdict_store.verdict_table(ws.db, judge="curator").shape[0] == 4

    _button(page, "Accept all 6 shown").click().run()
    assert _metric(page, "Pending suggestions") == "0"
    with ws.db.read() as con:
        assert con.execute(
            "SELECT DISTINCT division, document_type FROM documents WHERE url LIKE '%mission%'"
        ).fetchall() == [("Earth Science", "Data")]
