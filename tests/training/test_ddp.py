"""The multi-process path on the CPU: two gloo processes under torchrun train the tiny model, checkpoint, are
stopped mid-way with the launching process, resume from the last checkpoint, and the result evaluates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentence_transformers import SentenceTransformer

from curation.core import Workspace, load_settings
from curation.evaluation import ExportOptions
from curation.training import FinetuneOptions, export_pairs, finetune, list_trainings
from curation.training.evaluator import evaluate_model, prepare_evaluation
from tests import judged_data as data


def test_two_gloo_processes_train_checkpoint_and_resume(ws: Workspace, tmp_path: Path, tiny_model_dir: Path) -> None:
    data.build(ws, tmp_path)
    ws.update_settings("retrievers", "tiny", {"kind": "dense", "model": str(tiny_model_dir), "max_seq_length": 64})
    pairs = Path(export_pairs(ws, ExportOptions(query_set=data.SET, negatives_from="A")).out)
    options = FinetuneOptions(
        base="tiny", out="tiny-ddp", pairs=pairs, batch_size=2, epochs=12, checkpoint_steps=1, gpus="2"
    )  # enough steps that the interrupt lands before the last, however fast the machine

    def interrupt(done: int, total: int) -> None:
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(ws, options, interrupt)
    assert "tiny-ddp" not in load_settings(ws.toml_path).retrievers
    result = finetune(ws, options)
    assert result.processes == 2 and result.resumed_from_step is not None and result.resumed_from_step >= 1
    assert result.steps > result.resumed_from_step
    [record] = list_trainings(ws)
    assert record.processes == 2 and record.steps == result.steps

    bundle = prepare_evaluation(ws, [data.SET], None)
    assert bundle is not None
    spec = load_settings(ws.toml_path).retrievers["tiny-ddp"]
    scores = evaluate_model(bundle, spec, SentenceTransformer(result.model_dir, device="cpu"), 8)
    assert 0 <= scores[data.SET]["ndcg@5"] <= 1
