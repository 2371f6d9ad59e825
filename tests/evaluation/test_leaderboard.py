"""The checkpoint table across benchmarks: rows are retrievers, column groups are benchmarks (sets or splits),
the best value per column marked; a dense float retriever can add its 1-bit variant with its index size."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from curation.evaluation import leaderboard, parse_benchmarks, render_leaderboard
from curation.retrieval import embed
from tests import judged_data as data
from tests.retrieval_data import add_retriever


@pytest.fixture
def tiny(ws: Workspace, tmp_path: Path) -> Workspace:
    data.build(ws, tmp_path)
    data.add_queries(ws, tmp_path, "other", {"o1": ("solar wind", None), "o2": ("galaxies", None)})
    data.grade(ws, "benchmark:other", {("o1", "d1"): 1, ("o2", "d5"): 1}, query_set="other")
    data.store_run(ws, "A", {"o1": ["d2", "d1"], "o2": ["d5"]}, query_set="other")
    data.store_run(ws, "B", {"o1": ["d1"], "o2": ["d6", "d5"]}, query_set="other")
    return ws


def test_leaderboard_json_and_markdown(tiny: Workspace) -> None:
    result = CliRunner().invoke(
        app,
        ["--workspace", str(tiny.root), "leaderboard", "--retrievers", "A,B", "--benchmarks", "tiny,other",
         "--metrics", "mrr@1,ndcg@5", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    board = orjson.loads(result.stdout)
    assert board["benchmarks"] == ["tiny", "other"] and board["metrics"] == ["mrr@1", "ndcg@5"]
    assert [r["name"] for r in board["rows"]] == ["A", "B"]
    # tiny: MRR@1 A 1/3, B 2/3 (see test_evaluation); other: A 0 + 1, B 1 + 0 -> a tie at 1/2.
    assert board["values"]["A"]["tiny"]["mrr@1"] == pytest.approx(1 / 3)
    assert board["values"]["B"]["tiny"]["mrr@1"] == pytest.approx(2 / 3)
    assert board["best"]["tiny"]["mrr@1"] == ["B"] and board["best"]["other"]["mrr@1"] == ["A", "B"]
    assert board["queries"] == {"tiny": 3, "other": 2}
    assert board["judgments"] == {"tiny": "benchmark:tiny", "other": "benchmark:other"}

    markdown = CliRunner().invoke(
        app, ["--workspace", str(tiny.root), "leaderboard", "--retrievers", "A,B", "--benchmarks", "tiny,other",
              "--metrics", "mrr@1"],
    ).stdout  # fmt: skip
    header, rule, row_a, row_b = markdown.splitlines()[:4]
    assert [c.strip() for c in header.strip("|").split("|")] == ["Retriever", "Index size", "tiny mrr@1", "other mrr@1"]
    assert "0.3333 " in row_a and "**0.6667**" in row_b and "**0.5000**" in row_a and "**0.5000**" in row_b
    assert "Best per column in bold" in markdown
    latex = CliRunner().invoke(
        app, ["--workspace", str(tiny.root), "leaderboard", "--retrievers", "A,B", "--benchmarks", "tiny",
              "--metrics", "mrr@1", "--latex"],
    ).stdout  # fmt: skip
    assert "\\multicolumn{1}{c}{tiny}" in latex and "\\textbf{0.6667}" in latex


def test_the_one_bit_variant_sits_next_to_its_float_retriever(tiny: Workspace, tiny_model_dir: Path) -> None:
    add_retriever(tiny, "tiny-st", tiny_model_dir)
    embed(tiny, "tiny-st")
    board = leaderboard(tiny, ["tiny-st", "A"], parse_benchmarks(tiny, "tiny"), metrics=["ndcg@5"], binary=True)
    assert [(r.name, r.binary) for r in board.rows] == [("tiny-st", False), ("tiny-st/binary", True), ("A", False)]
    float_row, bit_row, stored = board.rows
    assert float_row.index_bytes == 32 * bit_row.index_bytes and stored.index_bytes is None
    assert bit_row.runs["tiny"] == "tiny-st/binary:tiny"
    rows = [line.split("|")[1:3] for line in render_leaderboard(board, "markdown").splitlines()[2:5]]
    # Six one-passage documents: 6 x 32 float32 components, against 6 x 32 bits.
    assert [[c.strip() for c in row] for row in rows] == [["tiny-st", "768 B"], ["tiny-st/binary", "24 B"], ["A", "-"]]
