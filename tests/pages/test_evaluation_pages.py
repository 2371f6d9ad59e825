"""The Evaluate and Fine-tune pages, driven through the app's navigation with Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.core import WORKSPACE_ENV, Workspace, load_settings
from curation.evaluation import ExportOptions
from curation.retrieval import embed
from curation.training import export_pairs
from store.runs import list_runs
from tests import judged_data as data
from tests.job_helpers import finish_jobs
from tests.retrieval_data import add_retriever

APP = Path(__file__).resolve().parents[2] / "app.py"


def widget(elements, label: str):  # noqa: ANN001, ANN201 - AppTest's element sequences are untyped
    return next(e for e in elements if e.label == label)


def open_page(root: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(WORKSPACE_ENV, str(root))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_evaluate_page(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data.build(ws, tmp_path)
    at = open_page(ws.root, "pages/evaluate.py", monkeypatch)
    widget(at.multiselect, "Retrievers").set_value(["A", "B"])
    widget(at.multiselect, "Metrics").set_value(["mrr@1", "ndcg@5"])
    widget(at.button, "Evaluate").click()
    at.run()
    assert not at.exception and not at.error

    table = at.dataframe[0].value
    assert list(table.columns) == ["#", "Retriever", "mrr@1", "ndcg@5"]
    assert list(table["Retriever"]) == ["A", "B"]
    assert table.loc[1, "mrr@1"] == "0.6667"
    assert widget(at.selectbox, "Judgments").value == "benchmark:tiny"  # the source that judged the most queries
    assert any("only 3 queries were evaluated (fewer than 20)" in w.value for w in at.warning)
    assert any("3 of 3 queries evaluated, judgments benchmark:tiny" in c.value for c in at.caption)
    runs = at.dataframe[1].value
    assert list(runs["run"]) == ["A:tiny", "B:tiny"]
    assert widget(at.selectbox, "Metric").value == "ndcg@5"  # the scatter defaults to NDCG
    widget(at.selectbox, "Metric").set_value("mrr@1")
    at.run()
    # B against A on MRR@1, per query: q1 0 -> 1, q2 0 -> 1, q3 1 -> 0.
    counts = {m.label: m.value for m in at.metric}
    assert counts == {"B better": "2", "B worse": "1", "Same": "0"}
    divisions = at.dataframe[-1].value
    assert set(divisions["division"]) == {"Earth Science", "Planetary Science", "Astrophysics"}
    assert any("n/a" in v for v in at.dataframe[2].value["p_value"])  # 3 queries: no significance test

    widget(at.button, "Build the table").click()
    at.run()
    assert not at.exception and not at.error
    board = at.dataframe[-1].value
    assert list(board.columns) == ["Retriever", "Index size", "tiny mrr@1", "tiny mrr@5", "tiny ndcg@1", "tiny ndcg@5"]
    assert sorted(board["Retriever"]) == ["A", "B"]

    widget(at.radio, "Significance test").set_value("fisher")
    widget(at.button, "Evaluate").click()
    at.run()
    assert any("Fisher randomization" in c.value for c in at.caption)


def test_evaluate_page_runs_an_embedded_retriever_without_a_stored_run(
    ws: Workspace, tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.build(ws, tmp_path)
    add_retriever(ws, "tiny", tiny_model_dir)
    embed(ws, "tiny")
    at = open_page(ws.root, "pages/evaluate.py", monkeypatch)
    assert "tiny" in widget(at.multiselect, "Retrievers").options
    widget(at.multiselect, "Retrievers").set_value(["A", "tiny"])
    widget(at.button, "Evaluate").click()
    at.run()
    assert not at.exception and not at.error and not at.dataframe  # the run of tiny is a job: its progress shows
    assert [job.status for job in finish_jobs(ws)] == ["done"]
    at.run()
    assert not at.exception and not at.error
    assert list(at.dataframe[0].value["Retriever"]) == ["A", "tiny"]
    assert [r["retriever"] for r in list_runs(ws.db, data.SET)].count("tiny") == 1  # run once, and kept
    assert any("tiny:tiny" in str(v) for v in at.dataframe[1].value["run"])  # the page names the run used


def test_evaluate_page_explains_what_is_missing(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page(ws.root, "pages/evaluate.py", monkeypatch)
    assert "No query sets yet" in at.info[0].value


def test_finetune_page(ws: Workspace, tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data.build(ws, tmp_path)
    ws.update_settings("retrievers", "tiny", {"kind": "dense", "model": str(tiny_model_dir)})
    pairs = export_pairs(ws, ExportOptions(query_set=data.SET)).out
    at = open_page(ws.root, "pages/finetune.py", monkeypatch)
    widget(at.selectbox, "Base retriever").set_value("tiny")
    at.run()
    assert widget(at.selectbox, "Training pairs").value == pairs
    widget(at.text_input, "New retriever name").set_value("tiny-app")
    widget(at.number_input, "Batch size").set_value(2)
    widget(at.number_input, "Weight").set_value(2.0)
    widget(at.selectbox, "Replay source").set_value(pairs)  # the mix builder: a second, weighted source
    widget(at.number_input, "Replay weight").set_value(0.5)
    widget(at.button, "Fine-tune").click()
    at.run()
    [job] = finish_jobs(ws)
    assert job.status == "done"  # a background job
    name = Path(pairs).name
    assert job.params["mix"] == [f"{pairs}:2", f"{pairs}:0.5"]
    assert job.result["sources"] == {name: 2.0, f"{name}-2": 0.5}
    at.run()
    assert not at.exception and not at.error
    assert "Registered retriever 'tiny-app'" in at.success[0].value
    assert load_settings(ws.toml_path).retrievers["tiny-app"].model == str(ws.root / "models" / "tiny-app")
    assert any(h.value.startswith("Training tiny-app-") for h in at.subheader)

    widget(at.button, "Fine-tune").click()
    at.run()
    assert [job.status for job in finish_jobs(ws)] == ["failed"]
    at.run()
    assert widget(at.selectbox, "Base retriever").value == "tiny"
    assert "exists; choose another --out or pass --overwrite" in at.error[0].value
