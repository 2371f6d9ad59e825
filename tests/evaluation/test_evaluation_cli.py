"""The eval, export and finetune commands: JSON shapes, clear one-line failures, the loop end to end."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from tests import judged_data as data

runner = CliRunner()


def cli(ws: Workspace, *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["--workspace", str(ws.root), *args, "--json"])
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.output
    return result.exit_code, orjson.loads(lines[0])


@pytest.fixture
def tiny(ws: Workspace, tmp_path: Path) -> Workspace:
    return data.build(ws, tmp_path)


def test_eval_json_shape(tiny: Workspace) -> None:
    code, out = cli(tiny, "eval", "--retrievers", "A,B", "--queries", data.SET, "--metrics", "ndcg@10,mrr@5")
    assert code == 0
    assert set(out) >= {"metrics", "significance", "queries"}
    assert out["queries"] == 3 and out["judgments"] == data.BENCHMARK
    assert set(out["metrics"]) == {"A", "B"} and list(out["metrics"]["A"]) == ["ndcg@10", "mrr@5"]
    assert out["metrics"]["B"]["mrr@5"] == pytest.approx(2 / 3)
    assert [set(s) >= {"a", "b", "metric", "p_value"} for s in out["significance"]] == [True, True]
    code, out = cli(tiny, "eval", "--retrievers", "A,B", "--queries", data.SET, "--per-query", "--metrics", "mrr@1")
    assert out["per_query"]["A"]["mrr@1"] == {"q1": 0.0, "q2": 0.0, "q3": 1.0}


def test_eval_failures_are_one_line(tiny: Workspace) -> None:
    code, out = cli(tiny, "eval", "--retrievers", "A,minilm", "--queries", data.SET)
    assert code == 2
    # minilm has no stored run, so eval runs it first: that needs its vectors, and the error says how.
    assert (
        out["error"]
        == "retriever 'minilm' has no vectors yet; run `sde-workbench embed --retriever minilm` or use the Embed page"
    )
    code, out = cli(tiny, "eval", "--retrievers", "A", "--queries", data.SET, "--metrics", "ndcg@ten")
    assert code == 2 and "unknown metric" in out["error"]


def test_export_then_finetune_commands(tiny: Workspace, tiny_model_dir: Path) -> None:
    tiny.update_settings("retrievers", "tiny", {"kind": "dense", "model": str(tiny_model_dir)})
    code, out = cli(tiny, "export", "pairs", "--set", data.SET, "--negatives-from", "A")
    assert code == 0 and out["rows"] == {"train": 5} and out["negatives"]["ranked"] == 2
    pairs = out["out"]
    code, out = cli(tiny, "export", "beir", "--set", data.SET, "--split", "train=0.5,test=0.6")
    assert code == 2 and "sum to 1.1" in out["error"]
    code, out = cli(tiny, "finetune", "--base", "tiny", "--pairs", pairs, "--out", "tiny-cli", "--batch-size", "4")
    assert code == 0 and out["retriever"] == "tiny-cli" and out["steps"] >= 1
    assert Workspace.open(tiny.root).settings.retrievers["tiny-cli"].model == out["model_dir"]
    code, out = cli(tiny, "finetune", "--base", "nope", "--pairs", pairs, "--out", "x")
    assert code == 2 and out["error"].startswith("unknown retriever 'nope'")
