"""Fine-tuning smoke runs on the tiny model: training changes the weights, registers the retriever, resumes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from curation.core import Workspace, load_settings
from curation.evaluation import ExportOptions
from curation.retrieval import SearchError, embed, open_encoder, resolve_run, search
from curation.training import FinetuneError, FinetuneOptions, export_pairs, finetune
from embeddings.registry import DEFAULT_RETRIEVERS
from tests import judged_data as data


@pytest.fixture
def prepared(ws: Workspace, tmp_path: Path, tiny_model_dir: Path) -> tuple[Workspace, Path]:
    data.build(ws, tmp_path)
    ws.update_settings("retrievers", "tiny", {"kind": "dense", "model": str(tiny_model_dir), "max_seq_length": 64})
    pairs = Path(export_pairs(ws, ExportOptions(query_set=data.SET, negatives_from="A")).out)
    return ws, pairs


def test_finetune_trains_saves_and_registers(prepared: tuple[Workspace, Path], tiny_model_dir: Path) -> None:
    ws, pairs = prepared
    seen: list[tuple[int, int]] = []
    result = finetune(
        ws, FinetuneOptions(base="tiny", pairs=pairs, out="tiny-ft", batch_size=2), lambda d, t: seen.append((d, t))
    )
    assert result.pairs == 5 and result.device == "cpu" and result.steps >= 2
    assert seen[0] == (0, result.steps) and seen[-1] == (result.steps, result.steps)
    assert result.loss is not None and np.isfinite(result.loss)

    texts = ["solar wind speed", "Title d1\nText of document d1."]
    before = SentenceTransformer(str(tiny_model_dir), device="cpu").encode(texts)
    after = SentenceTransformer(result.model_dir, device="cpu").encode(texts)
    assert after.shape == before.shape and not np.allclose(after, before)

    # Registered in workbench.toml, read back from the file, next to every default retriever.
    reloaded = load_settings(ws.toml_path).retrievers
    assert reloaded["tiny-ft"].model == result.model_dir and reloaded["tiny-ft"].max_seq_length == 64
    assert "fine-tuned" in reloaded["tiny-ft"].description
    assert set(DEFAULT_RETRIEVERS) <= set(reloaded)
    assert not (ws.root / "models" / ".checkpoints" / "tiny-ft").exists()

    # Overwrite then embed: the new weights are a new revision, so the old vectors, runs and encoder are stale.
    assert embed(ws, "tiny-ft").embedded == 6
    old_model = open_encoder(ws, "tiny-ft").model
    old_run = resolve_run(ws, "tiny-ft", data.SET)
    finetune(ws, FinetuneOptions(base="tiny", pairs=pairs, out="tiny-ft", batch_size=2, epochs=2, overwrite=True))
    with pytest.raises(SearchError, match="its model's weights"):
        search(ws, "tiny-ft", "solar wind")
    assert embed(ws, "tiny-ft").embedded == 6
    assert open_encoder(ws, "tiny-ft").model is not old_model
    assert resolve_run(ws, "tiny-ft", data.SET).created_at > old_run.created_at

    with pytest.raises(FinetuneError, match="exists; choose another --out or pass --overwrite"):
        finetune(ws, FinetuneOptions(base="tiny", pairs=pairs, out="tiny-ft"))
    with pytest.raises(FinetuneError, match="choose another --out$"):
        finetune(ws, FinetuneOptions(base="tiny", pairs=pairs, out="minilm", overwrite=True))
    with pytest.raises(FinetuneError, match="bm25 retriever"):
        finetune(ws, FinetuneOptions(base="bm25", pairs=pairs, out="x"))
    with pytest.raises(FinetuneError, match="export pairs"):
        finetune(ws, FinetuneOptions(base="tiny", pairs=ws.root, out="x"))


def test_an_interrupted_finetune_resumes_from_its_checkpoint(prepared: tuple[Workspace, Path]) -> None:
    ws, pairs = prepared
    ws.update_settings("finetune", "checkpoint_steps", 1)
    options = FinetuneOptions(base="tiny", pairs=pairs, out="tiny-resumed", batch_size=2)

    def interrupt(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(ws, options, interrupt)
    assert not (ws.root / "models" / "tiny-resumed").exists()
    assert "tiny-resumed" not in load_settings(ws.toml_path).retrievers
    result = finetune(ws, options)
    assert result.resumed_from_step == 1
    assert (ws.root / "models" / "tiny-resumed" / "modules.json").exists()
