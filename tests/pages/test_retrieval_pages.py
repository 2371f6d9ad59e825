"""The Embed and Search pages, driven with Streamlit's AppTest on a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.core import WORKSPACE_ENV, Workspace
from curation.relevancy import decide
from curation.retrieval import embed
from tests.job_helpers import finish_jobs
from tests.retrieval_data import add_retriever, corpus_rows, load_rows

PAGES = Path(__file__).resolve().parents[2] / "pages"


@pytest.fixture
def page_ws(ws: Workspace, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    rows = corpus_rows()
    rows[0]["title"] = "<script>alert('title')</script> Sea surface"
    rows[0]["text"] = "sea surface temperature <img src=x onerror=alert(1)> from radiometers"
    load_rows(ws, rows, tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))
    return ws


def test_embed_page_starts_embedding_and_shows_coverage(page_ws: Workspace) -> None:
    at = AppTest.from_file(str(PAGES / "embed.py"), default_timeout=120).run()
    assert not at.exception
    at.selectbox[0].set_value("tiny").run()
    button = at.button[0]
    assert "Start embedding: 10 documents" in button.label
    button.click().run()
    assert not at.exception  # a background job: its progress (and Cancel) show instead of the button
    assert [b.label for b in at.button] == ["Cancel"]
    assert [job.status for job in finish_jobs(page_ws)] == ["done"]
    at.run()
    assert not at.exception
    assert "tiny: embedded 10 documents (10 passages) on cpu" in at.success[0].value
    coverage = at.dataframe[0].value.set_index("name")
    assert coverage.loc["tiny", "current"] == 10 and coverage.loc["tiny", "coverage"] == 1.0
    assert "nothing to do" in at.success[1].value and not at.button  # no "0 documents to do" button

    at.selectbox[0].set_value("bm25").run()  # the last job's message belongs to its retriever
    assert not any("tiny" in s.value for s in at.success)
    assert at.button[0].label == "Index: 10 documents to do" and [s.label for s in at.selectbox] == ["Retriever"]
    at.button[0].click().run()
    finish_jobs(page_ws)
    at.run()
    assert "bm25: indexed 10 documents" in at.success[0].value and " on none" not in at.success[0].value

    at.selectbox[0].set_value("indus-sde-st").run()
    assert "hf download nasa-impact/indus-sde-st-v0.2" in at.code[-1].value
    assert not at.button


def test_search_page_filters_and_escapes_highlighted_passages(page_ws: Workspace) -> None:
    at = AppTest.from_file(str(PAGES / "search.py"), default_timeout=120).run()
    assert "No retriever has vectors yet" in at.info[0].value
    embed(page_ws, "tiny")
    at.run()
    at.selectbox[0].set_value("tiny").run()
    at.text_input[0].set_value("sea surface temperature").run()
    assert not at.exception
    cards = [element.proto.body for element in at.get("html")]
    assert len(cards) == 10
    first = next(card for card in cards if "Sea surface" in card)
    assert "&lt;script&gt;" in first and "<script>" not in first and "<img" not in first
    assert "<mark>surface</mark>" in first

    at.multiselect[0].set_value(["Heliophysics"]).run()
    cards = [element.proto.body for element in at.get("html")]
    assert len(cards) == 2 and all("Heliophysics" in card for card in cards)
    at.radio[0].set_value("fts").run()
    assert not at.exception and len(at.get("html")) <= 2

    at.multiselect[0].set_value([]).run()
    at.toggle[0].set_value(True).run()
    assert "No document has a verdict that keeps it" in at.info[0].value and not at.get("html")
    decide(page_ws, ["doc-0-2", "doc-0-5"], kept=True, curator="ana")
    at.run()
    at.radio[0].set_value("vector").run()
    cards = [element.proto.body for element in at.get("html")]
    assert len(cards) == 2 and all(("Page 0-2" in c) != ("Page 0-5" in c) for c in cards)


def test_search_explains_scores_shows_snippets_and_warns_of_documents_not_indexed(
    page_ws: Workspace, tmp_path: Path
) -> None:
    long_text = (
        "Home | Data | About\n" + "Unrelated background on other instruments. " * 60 + "sea surface temperature."
    )
    load_rows(
        page_ws,
        [{"doc_id": "long", "title": "Long page", "text": long_text, "url": "https://x.gov/long"}],
        tmp_path / "a.jsonl",
    )
    embed(page_ws, "tiny")
    load_rows(
        page_ws,
        [{"doc_id": "late", "title": "Late", "text": "sea ice", "url": "https://x.gov/late"}],
        tmp_path / "b.jsonl",
    )
    at = AppTest.from_file(str(PAGES / "search.py"), default_timeout=120).run()
    at.selectbox[0].set_value("tiny").run()
    assert "1 of 12 documents are not indexed for tiny yet" in at.warning[0].value
    at.text_input[0].set_value("sea surface temperature").run()
    at.radio[0].set_value("hybrid").run()
    assert not at.exception
    assert any("reciprocal-rank fusion" in c.value and "0.033" in c.value for c in at.caption)
    long_card = next(e.proto.body for e in at.get("html") if "Long page" in e.proto.body)
    assert len(long_card) < 900 and "Home | Data" not in long_card and "<mark>temperature</mark>" in long_card
