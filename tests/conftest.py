"""Shared fixtures: a fresh workspace per test, real data paths, and no network for model hubs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from curation.workspace import Workspace  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SCIFACT = SHARED_DATA / "scifact"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """An empty workspace in a temporary folder."""
    return Workspace.open(tmp_path / "workspace")


@pytest.fixture
def scifact() -> Path:
    """The real SciFact BEIR folder; tests using it are skipped where the shared data is absent."""
    if not (SCIFACT / "corpus.jsonl").exists():
        pytest.skip(f"{SCIFACT} is not available")
    return SCIFACT
