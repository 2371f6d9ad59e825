"""Evaluation: metrics against hand-computed values, graded vs binary, significance wiring, drill-down."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from scipy.stats import ttest_rel

from curation.core import Workspace
from curation.evaluation import (
    ALL_CURATORS,
    EvaluationError,
    JudgmentsError,
    better_than,
    by_division,
    default_judgments,
    drill_down,
    evaluate_runs,
    judgment_sources,
    load_qrels,
    parse_metrics,
    report,
)
from curation.retrieval import NoStoredRun, embed
from store.runs import list_runs
from tests import judged_data as data

L = math.log2


@pytest.fixture
def tiny(ws: Workspace, tmp_path: Path) -> Workspace:
    return data.build(ws, tmp_path)


def test_metrics_match_hand_computation(tiny: Workspace) -> None:
    result = evaluate_runs(tiny, ["A", "B"], data.SET)
    # Relevant at threshold 1: q1 {d1:3, d2:1} (d3 graded 0), q2 {d4:2}, q3 {d5:1, d6:2}; 3 queries.
    # Run A: q1 d3 d1 d2 d5 | q2 d5 d6 d4 | q3 d5 d6
    #   MRR@1: q1 0 (d3 not relevant), q2 0, q3 1            -> 1/3
    #   MRR@5: q1 1/2, q2 1/3, q3 1                          -> 11/18
    #   NDCG@1 (gain = grade): q1 0, q2 0, q3 1/2 (d5 gain 1, ideal d6 gain 2) -> 1/6
    #   NDCG@5: q1 (3/log2 3 + 1/log2 4) / (3 + 1/log2 3)
    #           q2 (2/log2 4) / 2 = 1/2
    #           q3 (1 + 2/log2 3) / (2 + 1/log2 3)
    #   Recall@100: every relevant document retrieved         -> 1
    ndcg5_q1 = (3 / L(3) + 1 / L(4)) / (3 + 1 / L(3))
    ndcg5_q3 = (1 + 2 / L(3)) / (2 + 1 / L(3))
    a = result.metrics["A"]
    assert result.queries == 3
    assert a["mrr@1"] == pytest.approx(1 / 3)
    assert a["mrr@5"] == pytest.approx(11 / 18)
    assert a["ndcg@1"] == pytest.approx(1 / 6)
    assert a["ndcg@5"] == pytest.approx((ndcg5_q1 + 0.5 + ndcg5_q3) / 3)
    assert a["ndcg@10"] == pytest.approx(a["ndcg@5"])
    assert a["recall@100"] == pytest.approx(1.0)
    # Run B: q1 d1 d2 d3 (ideal order) | q2 d4 | q3 not answered -> 0 for q3, 1 elsewhere.
    b = result.metrics["B"]
    for metric in ("mrr@1", "mrr@5", "ndcg@1", "ndcg@5", "recall@100"):
        assert b[metric] == pytest.approx(2 / 3), metric
    assert list(a) == ["mrr@1", "mrr@5", "ndcg@1", "ndcg@5", "ndcg@10", "recall@100"]
    assert result.per_query["B"]["ndcg@5"] == {"q1": pytest.approx(1.0), "q2": pytest.approx(1.0), "q3": 0.0}


def test_threshold_changes_binary_metrics_but_not_graded_ndcg(tiny: Workspace) -> None:
    strict = evaluate_runs(tiny, ["A"], data.SET, metrics=["mrr@1", "mrr@5", "ndcg@5", "map"], threshold=2)
    loose = evaluate_runs(tiny, ["A"], data.SET, metrics=["mrr@1", "mrr@5", "ndcg@5", "map"], threshold=1)
    # Threshold 2 keeps q1 {d1}, q2 {d4}, q3 {d6}. Run A: q1 d1 at 2, q2 d4 at 3, q3 d5 (grade 1) then d6.
    #   MRR@1: 0, 0, 0 -> 0;  MRR@5: 1/2, 1/3, 1/2 -> 4/9;  MAP (one relevant each) = MRR here -> 4/9
    assert strict.metrics["A"]["mrr@1"] == pytest.approx(0.0)
    assert strict.metrics["A"]["mrr@5"] == pytest.approx(4 / 9)
    assert strict.metrics["A"]["map"] == pytest.approx(4 / 9)
    assert loose.metrics["A"]["mrr@1"] == pytest.approx(1 / 3)
    # Graded NDCG uses the grades as gains whatever the threshold.
    assert strict.metrics["A"]["ndcg@5"] == pytest.approx(loose.metrics["A"]["ndcg@5"])


def test_graded_ndcg_differs_from_binary_judgments(tiny: Workspace) -> None:
    data.grade(tiny, "benchmark:binary", {pair: int(g >= 1) for pair, g in data.GRADES.items()})
    graded = evaluate_runs(tiny, ["A"], data.SET, judgments=data.BENCHMARK, metrics=["ndcg@5", "mrr@5"])
    binary = evaluate_runs(tiny, ["A"], data.SET, judgments="benchmark:binary", metrics=["ndcg@5", "mrr@5"])
    # q1 with binary gains: (1/log2 3 + 1/log2 4) / (1 + 1/log2 3); with grades 3 and 1 it is lower.
    assert binary.per_query["A"]["ndcg@5"]["q1"] == pytest.approx((1 / L(3) + 1 / L(4)) / (1 + 1 / L(3)))
    assert graded.per_query["A"]["ndcg@5"]["q1"] == pytest.approx((3 / L(3) + 1 / L(4)) / (3 + 1 / L(3)))
    assert graded.metrics["A"]["mrr@5"] == pytest.approx(binary.metrics["A"]["mrr@5"])


def test_significance_is_the_paired_test_on_per_query_scores(tiny: Workspace) -> None:
    tiny.update_settings("evaluation", "min_test_queries", 2)
    result = evaluate_runs(tiny, ["A", "B"], data.SET, metrics=["ndcg@5", "mrr@5"], test="student")
    assert [(s.a, s.b, s.metric) for s in result.significance] == [("A", "B", "ndcg@5"), ("A", "B", "mrr@5")]
    for s in result.significance:
        a = [result.per_query["A"][s.metric][q] for q in ("q1", "q2", "q3")]
        b = [result.per_query["B"][s.metric][q] for q in ("q1", "q2", "q3")]
        assert s.p_value == pytest.approx(ttest_rel(a, b).pvalue)
        assert s.significant is (s.p_value <= 0.05)
    fisher = evaluate_runs(tiny, ["A", "B"], data.SET, metrics=["ndcg@5"], test="fisher")
    assert fisher.significance[0].test == "fisher"
    assert 0.0 < fisher.significance[0].p_value <= 1.0
    tiny.update_settings("evaluation", "min_test_queries", 10)
    too_few = evaluate_runs(tiny, ["A", "B"], data.SET, metrics=["ndcg@5"]).significance[0]
    assert too_few.p_value is None and not too_few.significant
    assert too_few.note.startswith("n/a: 3 evaluated queries, a paired t-test needs at least 10")


def test_significant_win_is_marked_and_identical_runs_are_not(ws: Workspace, tmp_path: Path) -> None:
    # 12 queries, one relevant document each; "good" ranks it first, "bad" fourth, "same" like "good".
    docs = {f"d{i}": "Earth Science" for i in range(16)}
    data.add_documents(ws, tmp_path, docs)
    data.add_queries(ws, tmp_path, "many", {f"q{i}": (f"query {i}", None) for i in range(12)})
    data.grade(ws, "alice", {(f"q{i}", f"d{i}"): 1 for i in range(12)}, query_set="many")
    filler = ["d12", "d13", "d14"]
    data.store_run(ws, "good", {f"q{i}": [f"d{i}", *filler] for i in range(12)}, query_set="many")
    data.store_run(ws, "bad", {f"q{i}": [*filler, f"d{i}"] for i in range(12)}, query_set="many")
    data.store_run(ws, "same", {f"q{i}": [f"d{i}", *filler] for i in range(12)}, query_set="many")
    result = evaluate_runs(ws, ["good", "bad", "same"], "many", metrics=["mrr@5"])
    by_pair = {(s.a, s.b): s for s in result.significance}
    assert by_pair["good", "bad"].significant
    assert by_pair["good", "same"].p_value == 1.0 and not by_pair["good", "same"].significant
    assert better_than(result, "good", "mrr@5") == ["bad"]
    fisher = evaluate_runs(ws, ["good", "bad"], "many", metrics=["mrr@5"], test="fisher").significance[0]
    assert fisher.significant and 1 / 1001 <= fisher.p_value < 0.01  # never 0 from 1000 permutations
    assert better_than(result, "bad", "mrr@5") == []
    markdown = report(result, "markdown")
    assert "1.0000ᵇ" in markdown and "0.2500 " in markdown
    latex = report(result, "latex")
    assert "1.0000$^{b}$" in latex and "\\begin{tabular}" in latex
    csv_lines = report(result, "csv").splitlines()
    assert csv_lines[0] == "retriever,metric,value,significantly_better_than"
    assert "good,mrr@5,1.0,bad" in csv_lines


def test_drill_down_and_divisions(tiny: Workspace) -> None:
    result = evaluate_runs(tiny, ["A", "B"], data.SET, metrics=["mrr@5"])
    frame = drill_down(result, "A", "B", "mrr@5")
    # B - A: q1 1 - 1/2, q2 1 - 1/3, q3 0 - 1.
    changes = dict(zip(frame["query_id"], frame["change"], strict=True))
    assert changes == {"q1": "better", "q2": "better", "q3": "worse"}
    assert frame["query_id"].iloc[0] == "q3"
    assert frame["delta"].iloc[0] == pytest.approx(-1.0)
    # q1 from its metadata; q2 from its relevant d4; q3 from d5 (Astrophysics) and d6 (Heliophysics): a tie,
    # broken alphabetically.
    assert result.divisions == {"q1": "Earth Science", "q2": "Planetary Science", "q3": "Astrophysics"}
    table = by_division(result)
    row = table[(table["retriever"] == "B") & (table["division"] == "Astrophysics")].iloc[0]
    assert row["queries"] == 1 and row["mrr@5"] == pytest.approx(0.0)


def test_all_curators_average_and_leave_benchmarks_out(tiny: Workspace) -> None:
    data.grade(tiny, "alice", {("q1", "d1"): 3, ("q1", "d2"): 1, ("q2", "d4"): 0})
    data.grade(tiny, "bob", {("q1", "d1"): 2, ("q1", "d2"): 0, ("q2", "d4"): 0, ("q3", "d5"): 1})
    with tiny.db.write() as con:  # a can't-tell is not a grade and must not count
        con.execute(
            "INSERT INTO judgments (query_set, query_id, doc_id, kind, annotator) "
            "VALUES ('tiny', 'q3', 'd6', 'cant_tell', 'bob')"
        )
    assert judgment_sources(tiny, data.SET) == [ALL_CURATORS, "alice", "benchmark:tiny", "bob"]
    assert default_judgments(tiny, data.SET) == ALL_CURATORS
    qrels = load_qrels(tiny, data.SET, ALL_CURATORS)
    # d1: (3 + 2) / 2 = 2.5 -> 3; d2: (1 + 0) / 2 = 0.5 -> 1; d4: 0; d5: bob alone 1; benchmark grades ignored.
    assert qrels.grades == {"q1": {"d1": 3, "d2": 1}, "q2": {"d4": 0}, "q3": {"d5": 1}}
    result = evaluate_runs(tiny, ["A"], data.SET)
    assert result.judgments == ALL_CURATORS
    assert result.queries == 2  # q2's only judgment says "not relevant"


def test_a_retriever_without_a_stored_run_is_run_first(tiny: Workspace) -> None:
    embed(tiny, "bm25")
    assert "bm25:tiny" not in {r["name"] for r in list_runs(tiny.db, data.SET)}
    result = evaluate_runs(tiny, ["A", "bm25"], data.SET)
    assert set(result.metrics) == {"A", "bm25"}
    assert "bm25:tiny" in {r["name"] for r in list_runs(tiny.db, data.SET)}


def test_clear_errors(tiny: Workspace) -> None:
    with pytest.raises(NoStoredRun, match="'C' is neither a retriever nor a stored run"):
        evaluate_runs(tiny, ["A", "C"], data.SET)
    with pytest.raises(JudgmentsError, match="benchmark:tiny"):
        evaluate_runs(tiny, ["A"], data.SET, judgments="carol")
    with pytest.raises(EvaluationError, match="unknown metric 'ndgc@10'"):
        parse_metrics("ndgc@10", [])
    data.grade(tiny, data.BENCHMARK, {("q2", "d4"): 1, ("q3", "d5"): 0})
    with pytest.raises(EvaluationError, match="graded 2 or more"):
        evaluate_runs(tiny, ["A"], data.SET, threshold=2, metrics=["mrr@5"])
    # A run's own name works as well as its retriever's.
    used = evaluate_runs(tiny, ["A:tiny"], data.SET).runs["A:tiny"]
    assert (used.run, used.made, used.frozen) == ("A:tiny", False, False)
