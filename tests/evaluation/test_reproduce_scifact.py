"""Acceptance on a SciFact slice: `long_documents = "truncate"` reproduces bare sentence-transformers + ranx
NDCG@10 on the held-out split within 0.002, end to end through the CLI (the full corpus: bench/reproduce_scifact.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.reproduce_scifact import CHUNKED, TRUNCATED, reference, workbench
from tests.judged_data import beir_slice


@pytest.mark.slow
def test_truncate_reproduces_bare_sentence_transformers_on_the_held_out_split(scifact: Path, tmp_path: Path) -> None:
    found = workbench(tmp_path / "workspace", beir_slice(scifact, tmp_path / "slice", queries=30, extra_docs=300))
    result = found["eval"]
    bare, queries = reference(found["held_out"])
    assert result["splits"] == ["test"] and result["queries"] == queries > 10
    assert abs(result["metrics"][TRUNCATED]["ndcg@10"] - bare) <= 0.002
    assert 0.0 < result["metrics"][CHUNKED]["ndcg@10"] <= 1.0
    assert result["runs"][TRUNCATED]["made"] and result["runs"][TRUNCATED]["mode"] == "vector"
