"""A benchmark's qrels files are named splits of its set: evaluation per split, pairs from `train` only, BEIR
exports that keep them; and honest reports (queries evaluated and skipped, warnings, the default annotator)."""

from __future__ import annotations

from pathlib import Path

import datasets
import orjson
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from curation.evaluation import (
    ExportError,
    ExportOptions,
    JudgmentsError,
    default_judgments,
    evaluate_runs,
    export_benchmark,
    judged_queries,
    parse_splits,
    report,
    set_splits,
)
from curation.ingest import import_benchmark
from curation.training import export_pairs
from tests.judged_data import grade, store_run, write_beir

DOCS = {f"d{i}": f"text of document {i}" for i in range(60)}  # enough spare documents for random negatives
QUERIES = {f"q{i}": f"question {i}" for i in range(1, 12)}
TRAIN = {(f"q{i}", f"d{i}"): 1 for i in range(1, 7)}
TEST = {(f"q{i}", f"d{i}"): 2 for i in range(7, 12)} | {("q7", "d1"): 1, ("q1", "d0"): 1}  # q1 is in both
RUN = {q: [f"d{q[1:]}", "d0"] for q in QUERIES}  # every query's own document first, then d0


@pytest.fixture
def bench(ws: Workspace, tmp_path: Path) -> Workspace:
    import_benchmark(ws, write_beir(tmp_path / "beir", DOCS, QUERIES, {"train": TRAIN, "test": TEST}), "bench")
    store_run(ws, "R", RUN, query_set="bench")
    return ws


def cli(ws: Workspace, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), *args, "--json"])
    return result.exit_code, orjson.loads(result.stdout.strip().splitlines()[-1])


def test_each_qrels_file_is_a_split_and_eval_takes_only_its_queries_and_judgments(bench: Workspace) -> None:
    splits = set_splits(bench, "bench")
    assert splits == {"test": ["q1", "q7", "q8", "q9", "q10", "q11"], "train": [f"q{i}" for i in range(1, 7)]}
    test = evaluate_runs(bench, ["R"], "bench", splits=["test"], metrics=["mrr@1", "recall@1"])
    assert (test.queries, test.set_queries, test.splits) == (6, 6, ["test"])
    # q1 in the test split is judged by test.tsv only (d0 relevant): its train.tsv judgment (d1) is left out.
    assert test.per_query["R"]["mrr@1"]["q1"] == 0.0 and test.per_query["R"]["mrr@1"]["q7"] == 1.0
    assert test.per_query["R"]["recall@1"]["q7"] == pytest.approx(0.5)
    assert list(test.query_text) == ["q1", "q7", "q8", "q9", "q10", "q11"]  # natural order
    train = evaluate_runs(bench, ["R"], "bench", splits=["train"], metrics=["mrr@1"])
    assert train.queries == 6 and train.metrics["R"]["mrr@1"] == 1.0
    both = evaluate_runs(bench, ["R"], "bench", metrics=["mrr@1"])
    assert both.queries == 11

    code, out = cli(bench, "eval", "--retrievers", "R", "--queries", "bench", "--split", "test", "--metrics", "mrr@1")
    assert code == 0 and out["splits"] == ["test"] and out["queries"] == 6 and out["set_queries"] == 6
    assert out["runs"]["R"]["run"] == "R:bench" and "not a registered retriever" in out["runs"]["R"]["note"]
    code, out = cli(bench, "eval", "--retrievers", "R", "--queries", "bench", "--split", "dev")
    assert code == 2 and out["error"] == "query set 'bench' has no split 'dev'; its splits: test, train"


def test_pairs_come_from_the_train_split_only(bench: Workspace, tmp_path: Path) -> None:
    result = export_pairs(bench, ExportOptions(query_set="bench", out=tmp_path / "pairs"))
    # q1 is in both files, so it is held back from training; the other five train queries make the pairs.
    assert result.queries == {"test": 6, "train": 5} and result.left_out == {"train": 1}
    anchors = set(datasets.load_from_disk(str(Path(result.out) / "dataset"))["train"]["anchor"])
    assert anchors == {f"question {i}" for i in range(2, 7)}
    with pytest.raises(ExportError, match="has its own splits \\(test, train\\)"):
        export_pairs(bench, ExportOptions(query_set="bench", split={"train": 0.5, "test": 0.5}))


def test_a_beir_export_keeps_the_splits_and_reimports_them(bench: Workspace, tmp_path: Path) -> None:
    result = export_benchmark(bench, "beir", ExportOptions(query_set="bench", out=tmp_path / "again"))
    assert sorted(p.name for p in (Path(result.out) / "qrels").iterdir()) == ["test.tsv", "train.tsv"]
    import_benchmark(bench, Path(result.out), "again")
    assert set_splits(bench, "again") == set_splits(bench, "bench")


def test_reports_say_what_was_evaluated_and_what_was_not(ws: Workspace, tmp_path: Path) -> None:
    docs = {f"d{i}": f"document {i}" for i in range(30)}
    queries = {f"q{i}": f"question {i}" for i in range(1, 31)}
    import_benchmark(
        ws,
        write_beir(tmp_path / "b", docs, queries, {"test": {(f"q{i}", f"d{i % 30}"): 1 for i in range(1, 25)}}),
        "big",
    )
    store_run(ws, "R", {q: [f"d{int(q[1:]) % 30}"] for q in queries}, query_set="big")
    store_run(ws, "S", {q: ["d0"] for q in queries}, query_set="big")
    grade(ws, "alice", {("q2", "d2"): 2, ("q3", "d0"): 0}, query_set="big")  # a handful of curator judgments
    assert judged_queries(ws, "big") == {"all": 2, "alice": 2, "benchmark:big": 24}
    assert default_judgments(ws, "big") == "benchmark:big"  # the source that judged the most queries

    full = evaluate_runs(ws, ["R", "S"], "big", metrics=["ndcg@10"])
    assert (full.judgments, full.queries, full.set_queries) == ("benchmark:big", 24, 30)
    assert [s.query_id for s in full.skipped_queries] == ["q25", "q26", "q27", "q28", "q29", "q30"]
    assert full.skipped_queries[0].reason == "no judgment from benchmark:big"
    assert full.significance[0].p_value is not None and not any("fewer than" in w for w in full.warnings)

    few = evaluate_runs(ws, ["R", "S"], "big", judgments="all", metrics=["ndcg@10"])
    assert few.queries == 1 and few.set_queries == 30
    assert {s.query_id: s.reason for s in few.skipped_queries}["q3"] == "no document graded 1 or more by all"
    assert any("only 1 queries were evaluated (fewer than 20)" in w for w in few.warnings)
    assert any("only 1 of the 30 queries were evaluated (fewer than half)" in w for w in few.warnings)
    assert few.significance[0].p_value is None and few.significance[0].note.startswith("n/a: 1 evaluated queries")
    markdown = report(few, "markdown")
    assert "significance n/a" in markdown and "Warning: only 1 queries" in markdown and "student" not in markdown
    assert "paired t-test" in report(full, "markdown")
    with pytest.raises(JudgmentsError, match="no split 'x'; its splits: test"):
        parse_splits(ws, "big", "x")
