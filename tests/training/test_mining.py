"""Mined hard negatives: judged-not-relevant first, never a document judged relevant for the query."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import load_from_disk

from curation.core import Workspace
from curation.evaluation import ExportError, ExportOptions
from curation.retrieval import embed
from curation.training import export_pairs, load_pairs
from tests import judged_data as data


@pytest.fixture
def mined_ws(ws: Workspace, tmp_path: Path, tiny_model_dir: Path) -> Workspace:
    data.build(ws, tmp_path)
    ws.update_settings("retrievers", "tiny", {"kind": "dense", "model": str(tiny_model_dir), "max_seq_length": 64})
    embed(ws, "tiny")
    return ws


def test_mined_negatives_never_include_a_judged_positive(mined_ws: Workspace) -> None:
    ws = mined_ws
    result = export_pairs(ws, ExportOptions(query_set=data.SET, negatives_from="tiny", negatives=2))
    pairs = load_from_disk(str(Path(result.out) / "dataset"))["train"]
    assert pairs.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert result.negatives["judged"] == 2 and result.negatives["mined"] > 0
    assert result.runs and result.runs[0].startswith("tiny")
    text = {f"Title {d}\n\nText of document {d}.": d for d in data.DOCS}
    query_of = {t: q for q, (t, _) in data.QUERIES.items()}
    relevant = {(q, d) for (q, d), g in data.GRADES.items() if g >= 1}
    for row in pairs:
        q = query_of[row["anchor"]]
        negatives = [text[row["negative_1"]], text[row["negative_2"]]]
        assert all((q, d) not in relevant for d in negatives)
        if q == "q1":  # its judged-not-relevant d3 comes before anything mined
            assert "d3" in negatives
    assert len(load_pairs(Path(result.out))) == len(pairs)
    with pytest.raises(ExportError, match="dense retriever"):
        export_pairs(ws, ExportOptions(query_set=data.SET, negatives_from="bm25", negatives=1, out=ws.root / "x"))
    with pytest.raises(ExportError, match="--negatives-from"):
        export_pairs(ws, ExportOptions(query_set=data.SET, negatives=1, out=ws.root / "y"))
