"""Overlap measures, pooled lists and disagreement order, and rankings read from stored runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.core import Workspace
from curation.judging import RankingSource, disagreement_order, jaccard, pooled, rankings, rbo
from tests.judged_data import add_documents, store_run


def ranked(*ids: str) -> list[tuple[str, float, str]]:
    return [(d, 1.0 - i / 10, f"passage of {d}") for i, d in enumerate(ids)]


def test_jaccard_counts_shared_over_all() -> None:
    assert jaccard(["a", "b", "c"], ["b", "c", "d"]) == pytest.approx(2 / 4)
    assert jaccard([], []) == 1.0 and jaccard(["a"], []) == 0.0


def test_rbo_against_values_worked_out_from_webber_eq_32() -> None:
    # Equal lengths, p = 0.5, [x, y] vs [y, x]: overlaps X1 = 0, X2 = 2.
    # (1-p)/p * (X1/1 p + X2/2 p^2) + X2/2 p^2 = 1 * (0 + 0.25) + 0.25 = 0.5
    assert rbo(["x", "y"], ["y", "x"], p=0.5) == pytest.approx(0.5)
    # Uneven, p = 0.5, long [x, y, z], short [y]: X1 = 0, X2 = 1, X3 = 1, s = 1, l = 3, X_s = 0.
    # 1 * (0 + 1/2 * 0.25 + 1/3 * 0.125) + 0 (X_s = 0) + ((1 - 0)/3 + 0) * 0.125 = 1/6 + 1/24 = 5/24
    assert rbo(["x", "y", "z"], ["y"], p=0.5) == pytest.approx(5 / 24)
    assert rbo(["y"], ["x", "y", "z"], p=0.5) == pytest.approx(5 / 24)  # symmetric


@pytest.mark.parametrize("p", [0.5, 0.9, 0.98])
def test_rbo_bounds_and_top_weighting(p: float) -> None:
    base = [f"d{i}" for i in range(10)]
    assert rbo(base, base, p) == pytest.approx(1.0)
    assert rbo(base, [f"e{i}" for i in range(10)], p) == 0.0
    assert rbo(base, base[:4], p) == pytest.approx(1.0)  # a prefix agrees as far as it goes
    swapped_top = [base[1], base[0], *base[2:]]
    swapped_bottom = [*base[:8], base[9], base[8]]
    assert rbo(base, swapped_top, p) < rbo(base, swapped_bottom, p) < 1.0
    assert rbo([], [], p) == 1.0 and rbo(base, [], p) == 0.0


def test_disagreement_order_puts_lowest_overlap_first() -> None:
    queries = {"same": "q", "swapped": "q", "disjoint": "q"}
    a = {q: ranked("d1", "d2", "d3") for q in queries}
    b = {"same": ranked("d1", "d2", "d3"), "swapped": ranked("d3", "d2", "d1"), "disjoint": ranked("d7", "d8")}
    order = disagreement_order(queries, a, b, p=0.9)
    assert [o.query_id for o in order] == ["disjoint", "swapped", "same"]
    assert [o.rbo for o in order] == sorted(o.rbo for o in order)
    assert order[0].jaccard == 0.0 and order[-1].rbo == pytest.approx(1.0)


def test_pooled_is_the_union_shuffled_reproducibly_per_key() -> None:
    a, b = ranked(*[f"a{i}" for i in range(8)], "both"), ranked("both", *[f"b{i}" for i in range(8)])
    first = pooled(a, b, shuffle_key="set\x1fq1\x1fana")
    assert sorted(d.doc_id for d in first) == sorted({d for d, _, _ in a + b})
    assert [d.doc_id for d in pooled(list(reversed(a)), b, shuffle_key="set\x1fq1\x1fana")] == [
        d.doc_id for d in first
    ]  # independent of the order the lists came in
    others = [[d.doc_id for d in pooled(a, b, shuffle_key=f"set\x1fq1\x1f{who}")] for who in ("bob", "eve", "max")]
    assert any(order != [d.doc_id for d in first] for order in others)
    both = next(d for d in first if d.doc_id == "both")
    assert (both.rank_a, both.rank_b, both.passage) == (9, 1, "passage of both")
    unshuffled = pooled(a, b)
    assert [d.doc_id for d in unshuffled[:3]] == ["a0", "both", "a1"]  # by best rank on either side


def test_stored_run_rankings_are_cut_at_k_and_restricted(ws: Workspace, tmp_path: Path) -> None:
    add_documents(ws, tmp_path, {f"d{i}": "Heliophysics" for i in range(6)})
    store_run(ws, "frozen", {"q1": ["d5", "d4", "d3", "d2"], "q2": ["d1"]}, query_set="s")
    source = RankingSource(run="frozen:s")
    got = rankings(ws, source, {"q1": "x", "q2": "y", "q3": "z"}, k=3)
    assert {q: [d for d, _, _ in r] for q, r in got.items()} == {"q1": ["d5", "d4", "d3"], "q2": ["d1"], "q3": []}
    only = rankings(ws, source, {"q1": "x"}, k=3, restrict_to={"d4", "d2"})
    assert [d for d, _, _ in only["q1"]] == ["d4", "d2"]
    assert source.key == "run:frozen:s" and RankingSource(retriever="bm25", mode="fts").key == "bm25/fts"
