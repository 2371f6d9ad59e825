"""`[finetune]` settings: how a dense retriever is fine-tuned. Kept apart so reading settings imports no torch."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FinetuneSettings(BaseModel):
    """Defaults of `finetune` (sentence-transformers trainer, MultipleNegativesRankingLoss)."""

    epochs: int = Field(1, ge=1, description="passes over the training pairs")
    batch_size: int = Field(32, ge=2, description="pairs per batch; the other pairs of a batch are the negatives")
    learning_rate: float = Field(2e-5, gt=0, description="peak learning rate after warm-up")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="share of the steps spent warming up")
    checkpoint_steps: int = Field(500, ge=1, description="steps between checkpoints an interrupted run resumes from")
    seed: int = Field(42, description="seed of shuffling and initialisation")
