"""Settings of the embed job (kept apart from the encoder so reading settings does not import torch)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EmbeddingSettings(BaseModel):
    """How the embed job runs (the CLI's --device, --batch-size and --threads override these)."""

    device: str = Field("auto", description="cuda, cuda:N, mps, cpu, or auto (cuda, then mps, then cpu)")
    batch_size: int | None = Field(None, gt=0, description="passages per forward pass; fitted to the device if unset")
    docs_per_write: int = Field(256, gt=0, description="documents per LanceDB write; a crash redoes at most one")
    threads: int | None = Field(
        None, gt=0, description="CPU threads for torch and the tokenizer; the cores this process may use if unset"
    )
