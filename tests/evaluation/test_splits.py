"""Splits that cannot leak: linked queries (same text, same source document, same relevant documents) are dealt
out together, and the leak guard refuses a split where a training query is linked to a held-out one."""

from __future__ import annotations

import pytest

from curation.evaluation import LeakError, SplitQuery, assign_splits, check_no_leak, leaking_queries, query_groups


def generated(n_docs: int) -> dict[str, SplitQuery]:
    """Three LLM-written queries per document, worded differently; each judged with a different extra positive,
    so neither their text nor their relevant sets tie them together: only their source document does."""
    return {
        f"g{d}-{j}": SplitQuery(f"question {j} about topic {d}", f"doc{d}", frozenset({f"doc{d}", f"other{d}-{j}"}))
        for d in range(n_docs)
        for j in range(3)
    }


def test_generated_queries_of_one_document_never_straddle_splits() -> None:
    queries = generated(20)
    for seed in range(5):
        split_of = assign_splits(queries, {"train": 0.5, "test": 0.5}, seed=seed)
        for d in range(20):
            assert len({split_of[f"g{d}-{j}"] for j in range(3)}) == 1, (seed, d)
        assert {split_of[q] for q in queries} == {"train", "test"}


def test_queries_with_the_same_relevant_documents_or_text_are_grouped() -> None:
    queries = {
        "a": SplitQuery("what is the albedo of snow", None, frozenset({"d1", "d2"})),
        "b": SplitQuery("snow reflectance", None, frozenset({"d2", "d1"})),  # the same relevant set as a
        "c": SplitQuery("What is the  ALBEDO of snow", None, frozenset({"d9"})),  # the same text as a
        "d": SplitQuery("ocean salinity", None, frozenset({"d1"})),  # overlaps a's set without equalling it
        "e": SplitQuery("unjudged query", None, frozenset()),
    }
    assert sorted(map(sorted, query_groups(queries))) == [
        ["a", "b", "c"],
        ["d"],
        ["e"],
    ]


def test_the_leak_guard_fails_on_each_kind_of_link() -> None:
    queries = generated(2) | {
        "p": SplitQuery("first wording", None, frozenset({"x", "y"})),
        "q": SplitQuery("second wording", None, frozenset({"y", "x"})),
        "r": SplitQuery("same words", None, frozenset({"z"})),
        "s": SplitQuery("SAME   words", None, frozenset({"w"})),
    }
    with pytest.raises(LeakError, match="source document"):
        check_no_leak({"train": ["g0-0", "g0-1"], "test": ["g0-2"]}, queries)
    with pytest.raises(LeakError, match="relevant documents"):
        check_no_leak({"train": ["p"], "test": ["q"]}, queries)
    with pytest.raises(LeakError, match="shares its text with query 's' of the 'dev' split"):
        check_no_leak({"train": ["r"], "dev": ["s"]}, queries)
    with pytest.raises(LeakError):  # one query listed in two splits
        check_no_leak({"train": ["p"], "test": ["p"]}, queries)
    check_no_leak({"train": ["g0-0", "g0-1", "g0-2", "p", "q"], "test": ["g1-0", "r"]}, queries)
    assert leaking_queries({"train": ["g0-0", "p", "r"], "test": ["g0-1"]}, queries) == {"g0-0"}
