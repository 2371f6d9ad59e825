"""The Compare and Judge pages through Streamlit's AppTest on a real workspace with stored runs and bm25."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from curation.core import WORKSPACE_ENV, Workspace
from curation.demo import build_demo
from curation.judging import Judgment, RankingSource, jaccard, query_notes_of, rankings, rbo, record
from store.judgments import current_for_query, judgment_history
from store.queries import load_queries
from tests.job_helpers import finish_jobs
from tests.judged_data import add_documents, add_queries, store_run
from tests.openai_stub import StubLLM

PAGES = Path(__file__).resolve().parents[2] / "pages"
SET = "pairs"
ALPHA, BETA = "alpha-ret", "beta-ret"
QUERIES = {"same": ("solar wind", None), "swapped": ("coronal holes", None), "apart": ("mars craters", None)}
RUN_ALPHA = {"same": ["d1", "d2", "d3"], "swapped": ["d1", "d2", "d3"], "apart": ["d1", "d2", "d3"]}
RUN_BETA = {"same": ["d1", "d2", "d3"], "swapped": ["d3", "d2", "d1"], "apart": ["d4", "d5", "d6"]}


@pytest.fixture
def runs_ws(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    add_documents(ws, tmp_path, {f"d{i}": "Heliophysics" for i in range(1, 7)})
    add_queries(ws, tmp_path, SET, QUERIES)
    store_run(ws, ALPHA, RUN_ALPHA, query_set=SET)
    store_run(ws, BETA, RUN_BETA, query_set=SET)
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))
    return ws


def open_page(name: str, curator: str) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=120)
    at.session_state["curator"] = curator  # what the sidebar holds (AppTest runs the page alone)
    return at.run()


def setup_judging(at: AppTest, *, blind: bool = True) -> AppTest:
    at.selectbox(key="judge_a").set_value(f"run:{ALPHA}:{SET}")
    at.selectbox(key="judge_b").set_value(f"run:{BETA}:{SET}")
    at.toggle(key="judge_blind").set_value(blind)
    return at.run()


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with this column (AppTest keeps keys only of selectable tables)."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def visible_text(at: AppTest) -> str:
    """Everything the page shows as text, tables included (widget option lists aside)."""
    parts = [e.value for kind in ("markdown", "caption", "text", "success", "info", "warning") for e in at.get(kind)]
    parts += [str(e.label) + str(e.value) for e in at.metric]
    parts += [e.proto.body for e in at.get("subheader")]
    for frame in at.dataframe:
        parts.append(" ".join(map(str, frame.value.columns)) + frame.value.astype(str).to_csv())
    return "\n".join(map(str, parts))


def test_judge_page_needs_a_curator(runs_ws: Workspace) -> None:
    at = open_page("judge.py", "")
    assert not at.exception and "Curator" in at.warning[0].value and not at.button


def test_queue_is_ordered_by_disagreement_and_blind_mode_hides_retrievers(runs_ws: Workspace) -> None:
    at = setup_judging(open_page("judge.py", "ana"))
    assert not at.exception
    queue = table(at, "RBO")
    p = runs_ws.settings.judging.rbo_p
    expected = sorted(QUERIES, key=lambda q: rbo(RUN_ALPHA[q], RUN_BETA[q], p))
    assert queue["query_id"].tolist() == expected == ["apart", "swapped", "same"]
    assert queue["RBO"].tolist() == pytest.approx([rbo(RUN_ALPHA[q], RUN_BETA[q], p) for q in expected])
    assert "mars craters" in [t.value for t in at.text]  # the most disagreeing query comes first

    shown = visible_text(at)
    assert ALPHA not in shown and BETA not in shown
    pool = table(at, "yours")
    assert len(pool) == 6 and list(pool.columns) == ["#", "title", "yours"]

    at = setup_judging(at, blind=False)  # the same page with names shown: the check above can fail
    assert ALPHA in visible_text(at) and BETA in visible_text(at)


def test_a_judgment_is_stored_and_undo_removes_it_from_the_current_view_only(runs_ws: Workspace) -> None:
    at = setup_judging(open_page("judge.py", "ana"))
    first_title = at.text[1].value  # the query's text, then the first document's title
    at.button(key="judge_grade_2").click().run()
    assert not at.exception
    stored = current_for_query(runs_ws.db, SET, query_id="apart")
    assert len(stored) == 1
    row = stored.iloc[0]
    assert (row.annotator, row.kind, row.grade) == ("ana", "grade", 2)
    assert row.source == f"blind-pool:run:{ALPHA}:{SET}+run:{BETA}:{SET}@10"
    assert f"Title {row.doc_id}" == first_title
    assert at.text[1].value != first_title  # moved on to the next document of the pool
    assert at.metric[0].value == "1"  # pairs judged in this session

    at.button(key="judge_skip").click().run()
    at.button(key="judge_undo").click().run()
    at.button(key="judge_undo").click().run()
    assert not at.exception
    assert current_for_query(runs_ws.db, SET, query_id="apart").empty
    history = judgment_history(runs_ws.db, SET, "apart")
    assert history["kind"].tolist() == ["grade", "skip", "undo", "undo"]
    assert history["undone"].tolist() == [True, True, False, False]
    assert at.text[1].value == first_title  # back on the document whose judgment was undone
    assert "undone" in table(at, "undone").columns and "source" not in table(at, "undone").columns  # blind


def test_agreement_is_shown_for_pairs_judged_twice(runs_ws: Workspace) -> None:
    for who, grades in (("ana", [2, 0, 3]), ("bob", [2, 0, 1])):
        for doc, value in zip(["d1", "d2", "d3"], grades, strict=True):
            record(runs_ws, Judgment(query_set=SET, query_id="same", doc_id=doc, grade=value, annotator=who))
    at = setup_judging(open_page("judge.py", "eve"))
    agreed = table(at, "weighted_kappa")
    assert (agreed.loc[0, "a"], agreed.loc[0, "b"], agreed.loc[0, "pairs"]) == ("ana", "bob", 3)
    assert 0 < agreed.loc[0, "kappa"] < 1


def test_compare_page_marks_shared_documents_moves_and_inline_judgments(runs_ws: Workspace) -> None:
    record(runs_ws, Judgment(query_set=SET, query_id="apart", doc_id="d4", grade=3, annotator="bob"))
    at = open_page("compare.py", "ana")
    at.selectbox(key="cmp_a").set_value(f"run:{ALPHA}:{SET}")
    at.selectbox(key="cmp_b").set_value(f"run:{BETA}:{SET}").run()
    assert not at.exception
    queries = sorted(QUERIES)  # the set's order: by query id
    assert at.selectbox(key="cmp_query").value == queries[0] == "apart"
    assert at.metric[0].value == f"{jaccard(RUN_ALPHA['apart'], RUN_BETA['apart']):.2f}" == "0.00"
    right = at.dataframe[1].value
    assert right["moved"].tolist() == ["only here"] * 3 and right.loc[0, "judged"] == "bob: 3 highly relevant"
    assert list(right.columns) == ["#", "moved", "title", "score", "judged"]  # narrow enough for two at 1,500 px

    at.button(key="cmp_next").click().run()  # "same"
    at.button(key="cmp_next").click().run()  # "swapped"
    assert at.selectbox(key="cmp_query").value == "swapped"
    p = runs_ws.settings.judging.rbo_p
    assert at.metric[1].value == f"{rbo(RUN_ALPHA['swapped'], RUN_BETA['swapped'], p):.2f}"
    left = at.dataframe[0].value
    assert left["moved"].tolist() == ["▲2", "=", "▼2"]  # d1 ranks 2 higher here than on the right, d3 2 lower
    at.button(key="cmp_next").click().run()
    assert at.selectbox(key="cmp_query").value == "apart"  # wraps around


@pytest.fixture
def demo_ws(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    build_demo(ws, retriever="bm25")  # full-text only: no model to load
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))
    return ws


def test_a_live_retriever_against_its_frozen_run_on_the_demo(demo_ws: Workspace) -> None:
    at = open_page("compare.py", "ana")
    at.selectbox(key="cmp_set").set_value("demo").run()
    assert at.selectbox(key="cmp_a").options == ["bm25/fts"]
    at.text_input(key="cmp_run_name").set_value("bm25-frozen")
    at.button(key="cmp_store").click().run()
    assert [job.status for job in finish_jobs(demo_ws)] == ["done"]  # a background job
    at.run()
    assert not at.exception and "run:bm25-frozen" in at.success[0].value
    at.selectbox(key="cmp_b").set_value("run:bm25-frozen").run()
    assert at.metric[0].value == "1.00" and at.metric[1].value == "1.00"

    live = rankings(demo_ws, RankingSource(retriever="bm25", mode="fts"), {"x": "Parker Solar Probe perihelion"}, k=10)
    assert len(live["x"]) == 10 and all(score > 0 for _, score, _ in live["x"])

    at.text_input(key="cmp_new_query").set_value("Parker Solar Probe perihelion distance").run()
    at.button(key="cmp_add").click().run()
    assert not at.exception
    added = at.selectbox(key="cmp_query").value
    assert load_queries(demo_ws.db, "demo").set_index("query_id").loc[added, "text"].startswith("Parker Solar")
    # One ranking table (the frozen run has no such query), then the set's stored runs, the frozen one marked.
    assert len(at.dataframe) == 2 and len(at.dataframe[0].value) == 10
    runs = at.dataframe[1].value
    assert runs.loc[runs["run"] == "bm25-frozen", "frozen"].tolist() == [True]
    assert at.metric[0].value == "0.00"


def test_compare_page_generates_queries_through_the_llm_settings(runs_ws: Workspace) -> None:
    def answer(prompt: str) -> dict[str, object]:
        title = next(line[7:] for line in prompt.splitlines() if line.startswith("Title: "))
        return {"queries": [{"text": f"Where are {title} data files archived?", "kind": "data"}]}

    server = StubLLM(verdict=answer)
    try:
        at = open_page("compare.py", "ana")
        at.text_input(key="cmp_gen_model").set_value("openai-compatible:stub")
        at.text_input(key="cmp_gen_url").set_value(server.url)
        at.number_input(key="cmp_gen_docs").set_value(2)
        at.toggle(key="cmp_gen_kept").set_value(False)
        at.form_submit_button[0].click().run()
        assert [job.status for job in finish_jobs(runs_ws)] == ["done"]  # a background job
        at.run()
        assert not at.exception
        assert at.success[0].value.startswith("2 queries from 2 documents") and server.calls == 2
        generated = load_queries(runs_ws.db, SET)
        assert len(generated) == len(QUERIES) + 2
        assert sum(text.endswith("data files archived?") for text in generated["text"]) == 2
        assert len(at.selectbox(key="cmp_query").options) == len(QUERIES) + 2  # steppable at once
    finally:
        server.close()


def pairs_progress(at: AppTest) -> str:
    return next(p.proto.text for p in at.get("progress") if "pairs" in p.proto.text)


def test_a_skip_is_not_a_judgment_progress_covers_the_set_and_a_query_keeps_a_note(runs_ws: Workspace) -> None:
    at = setup_judging(open_page("judge.py", "ana"))
    assert pairs_progress(at).startswith("0 of 12 pairs")  # 3 queries: 6 + 3 + 3 pooled documents
    skipped_title = at.text[1].value
    at.button(key="judge_skip").click().run()
    assert not at.exception
    assert any("0/6 judged by ana · 1 skipped" in c.value for c in at.caption)
    assert at.text[1].value != skipped_title and pairs_progress(at).startswith("0 of 12")
    at.button(key="judge_grade_3").click().run()
    assert pairs_progress(at).startswith("1 of 12 pairs")
    assert table(at, "yours")["yours"].tolist().count("skipped") == 1

    at.text_area(key="judge_note_pairs_apart").input("craters on Mars only, not the Moon").run()
    at.button(key="judge_note_save").click().run()
    assert query_notes_of(runs_ws, SET, "apart")["note"].tolist() == ["craters on Mars only, not the Moon"]
    assert at.session_state["_notices"] == [("Note saved", ":material/check_circle:")]  # shown by the app's sidebar
