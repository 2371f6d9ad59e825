"""`[finetune]` settings: how a dense retriever is fine-tuned. Kept apart so reading settings imports no torch."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

LossName = Literal["mnrl", "cached-mnrl"]


class FinetuneSettings(BaseModel):
    """Defaults of `finetune` (sentence-transformers trainer, MultipleNegativesRankingLoss)."""

    epochs: int = Field(1, ge=1, description="passes over the training pairs")
    batch_size: int = Field(32, ge=2, description="pairs per batch and device; the other pairs are the negatives")
    learning_rate: float = Field(2e-5, gt=0, description="peak learning rate after warm-up")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="share of the steps spent warming up")
    lr_scheduler: str = Field("cosine", description="learning-rate schedule after warm-up (transformers' names)")
    gradient_accumulation_steps: int = Field(1, ge=1, description="batches summed before each optimiser step")
    loss: LossName = Field("mnrl", description="mnrl, or cached-mnrl (GradCache: big batches in small memory)")
    mini_batch_size: int = Field(32, ge=1, description="cached-mnrl: texts encoded at once")
    checkpoint_steps: int = Field(500, ge=1, description="steps between checkpoints an interrupted run resumes from")
    eval_steps: int = Field(500, ge=1, description="steps between evaluations of --eval sets")
    logging_steps: int = Field(10, ge=1, description="steps between recorded training-loss values")
    seed: int = Field(42, description="seed of shuffling and initialisation")
