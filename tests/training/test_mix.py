"""The training mix: per-source batch shares follow the weights; a mixed training with CachedMNRL inside
MatryoshkaLoss evaluates every checkpoint, stores the rows, keeps the best one, and is recorded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from torch.utils.data import BatchSampler, ConcatDataset, SequentialSampler

from curation.core import Workspace, load_settings
from curation.evaluation import ExportOptions
from curation.retrieval import embed
from curation.training import (
    FinetuneError,
    FinetuneOptions,
    WeightedBatchSampler,
    checkpoint_table,
    export_pairs,
    finetune,
    list_trainings,
    parse_mix,
    training_checkpoints,
)
from tests import judged_data as data


def test_batches_are_drawn_per_source_in_proportion_to_the_weights() -> None:
    sources = [list(range(20)), list(range(100, 110))]
    samplers = [BatchSampler(SequentialSampler(s), batch_size=2, drop_last=True) for s in sources]
    sampler = WeightedBatchSampler(ConcatDataset(sources), samplers, torch.Generator(), seed=1, weights=[1.0, 3.0])
    batches = list(sampler)
    assert len(batches) == len(sampler) == 10 + 15  # round(20 x 1) and round(10 x 3) pairs, 2 a batch
    owner = [{0 if i < 20 else 1 for i in batch} for batch in batches]
    assert all(len(o) == 1 for o in owner)  # one source per batch
    assert sum(o == {1} for o in owner) == 15
    assert owner[:10] != [{0}] * 10  # shuffled together, not source after source
    assert [b for b in batches if b[0] >= 20][:5] == [[20, 21], [22, 23], [24, 25], [26, 27], [28, 29]]


def test_parse_mix_reads_weights_and_names_sources(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    mix = parse_mix([f"{tmp_path / 'a'}:2.5", str(tmp_path / "a")])
    assert [(s.name, s.weight) for s in mix] == [("a", 2.5), ("a-2", 1.0)]
    with pytest.raises(FinetuneError, match="above 0"):
        parse_mix([f"{tmp_path}:0"])


def test_a_mixed_training_evaluates_each_checkpoint_and_keeps_the_best(
    ws: Workspace, tmp_path: Path, tiny_model_dir: Path
) -> None:
    data.build(ws, tmp_path)
    ws.update_settings("retrievers", "tiny", {"kind": "dense", "model": str(tiny_model_dir), "max_seq_length": 64})
    pairs = Path(export_pairs(ws, ExportOptions(query_set=data.SET, negatives_from="A")).out)
    replay = tmp_path / "replay.parquet"
    pd.DataFrame(
        {"anchor": [f"general question {i}" for i in range(6)], "positive": [f"general answer {i}" for i in range(6)]}
    ).to_parquet(replay)
    options = FinetuneOptions(
        base="tiny", out="tiny-mix", pairs=pairs, mix=[f"{replay}:0.5"], batch_size=2, max_steps=3,
        loss="cached-mnrl", mini_batch_size=1, matryoshka_dims=[16], eval=[data.SET], eval_steps=1,
        select=f"ndcg@5@{data.SET}", checkpoint_steps=1, learning_rate=1e-3,
    )  # fmt: skip
    result = finetune(ws, options)
    assert result.sources == {pairs.name: 1.0, "replay": 0.5} and result.steps == 3
    assert result.evaluations == 4  # the base at step 0, then every step

    rows = training_checkpoints(ws, result.training_id)
    assert sorted({r["step"] for r in rows}) == [0, 1, 2, 3]
    assert {r["metric"] for r in rows} == {"mrr@1", "mrr@5", "ndcg@1", "ndcg@5"}
    ndcg = {r["step"]: r["value"] for r in rows if r["metric"] == "ndcg@5"}
    best = max(sorted(ndcg), key=lambda s: ndcg[s])
    assert result.best_step == best and result.best_retriever == "tiny-mix-best"
    registered = load_settings(ws.toml_path).retrievers
    assert Path(registered["tiny-mix-best"].model).is_dir() and Path(registered["tiny-mix"].model).is_dir()

    [record] = list_trainings(ws)
    assert record.loss == "cached-mnrl" and record.processes == 1 and record.best_step == best
    assert [(s["name"], s["weight"]) for s in record.sources] == [(pairs.name, 1.0), ("replay", 0.5)]
    assert record.hyperparameters["matryoshka_dims"] == [16] and record.losses

    for name in ("tiny", "tiny-mix-best", "tiny-mix"):
        embed(ws, name)
    board = checkpoint_table(ws, "tiny-mix", data.SET)
    names = ["tiny", "tiny-mix-best", "tiny-mix"]
    assert [r.name for r in board.rows] == [n + variant for n in names for variant in ("", "/binary")]
    last = {r["metric"]: r["value"] for r in rows if r["step"] == 3}
    # What was stored for the last step is what the Evaluate page's runs give the registered last model.
    assert board.values["tiny-mix"][data.SET] == pytest.approx(last, abs=1e-6)
    assert board.benchmarks == [data.SET] and set(board.values["tiny-mix/binary"][data.SET]) == {
        "mrr@1",
        "mrr@5",
        "ndcg@1",
        "ndcg@5",
    }


def test_cli_lists_trainings_and_refuses_a_bad_mix(tmp_path: Path) -> None:
    import orjson
    from typer.testing import CliRunner

    from curation.cli import app

    root = ["--workspace", str(tmp_path / "ws")]
    listed = CliRunner().invoke(app, [*root, "trainings", "--json"])
    assert listed.exit_code == 0 and orjson.loads(listed.stdout) == {"trainings": []}
    refused = CliRunner().invoke(
        app, [*root, "finetune", "--base", "minilm", "--out", "x", "--mix", f"{tmp_path}:0", "--json"]
    )
    assert refused.exit_code == 2 and "above 0" in refused.stdout
