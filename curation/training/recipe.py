"""One training as sentence-transformers runs it, in this process or in each process torchrun starts.

`TrainingPlan` holds everything a process needs (paths, weights, hyperparameters, the evaluation bundle's
file), so `python -m curation.training.worker PLAN` trains the same way `finetune` does in-process: a
DatasetDict of sources drawn by weight (`WeightedBatchSampler`) with no-duplicates batches, MNRL or CachedMNRL
(gathering in-batch negatives across devices), optionally inside MatryoshkaLoss, a warm-up then the schedule,
gradient accumulation, bf16/fp16 on a GPU, checkpoints every `save_steps` and the workspace evaluator every
`eval_steps` (main process). The model saved at the end is the last one; `best/` holds the selected one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import torch
from pydantic import BaseModel
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)
from transformers import PrinterCallback, TrainerCallback

from curation.core import ProgressCallback
from curation.training.errors import FinetuneError
from curation.training.evaluator import EvalBundle, WorkspaceEvaluator
from curation.training.sampler import WeightedBatchSampler
from curation.training.settings import LossName
from curation.training.sources import MixSource, load_pairs
from embeddings.registry import RetrieverSpec

PROGRESS = "progress.json"


class TrainingPlan(BaseModel):
    """Everything one training process needs."""

    base_source: str
    spec: RetrieverSpec
    sources: list[MixSource]
    loss: LossName
    mini_batch_size: int
    matryoshka_dims: list[int]
    epochs: int
    max_steps: int | None
    batch_size: int
    learning_rate: float
    warmup_ratio: float
    lr_scheduler: str
    gradient_accumulation_steps: int
    seed: int
    save_steps: int
    eval_steps: int
    logging_steps: int
    checkpoints: Path
    bundle_file: Path | None
    device: str
    resume: str | None
    report_to: str = "none"


class TrainingOutcome(BaseModel):
    """What the main process reports back."""

    steps: int
    loss: float | None
    losses: list[tuple[int, float]]


def run_training(plan: TrainingPlan, progress: ProgressCallback | None = None) -> TrainingOutcome:
    """Train the plan's model; every process returns, the main one also saves `last/` and the outcome."""
    from datasets import DatasetDict

    device = f"cuda:{os.environ['LOCAL_RANK']}" if plan.device == "cuda" and "LOCAL_RANK" in os.environ else plan.device
    model = SentenceTransformer(plan.base_source, device=device, trust_remote_code=plan.spec.trust_remote_code)
    if plan.spec.max_seq_length:
        model.max_seq_length = plan.spec.max_seq_length
    data = DatasetDict({s.name: load_pairs(s.path) for s in plan.sources})
    bundle = EvalBundle.model_validate_json(plan.bundle_file.read_bytes()) if plan.bundle_file else None
    evaluator = WorkspaceEvaluator(bundle, plan.spec, plan.checkpoints, plan.batch_size) if bundle else None
    on_gpu = plan.device.startswith("cuda")
    bf16 = on_gpu and torch.cuda.is_bf16_supported()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(plan.checkpoints),
        num_train_epochs=plan.epochs,
        max_steps=plan.max_steps or -1,
        per_device_train_batch_size=plan.batch_size,
        learning_rate=plan.learning_rate,
        warmup_steps=plan.warmup_ratio,  # below 1: a share of the steps
        lr_scheduler_type=plan.lr_scheduler,
        gradient_accumulation_steps=plan.gradient_accumulation_steps,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="steps",
        save_steps=plan.save_steps,
        save_total_limit=1,
        eval_strategy="steps" if evaluator else "no",
        eval_steps=plan.eval_steps if evaluator else None,
        logging_strategy="steps",
        logging_steps=plan.logging_steps,
        report_to=plan.report_to,
        disable_tqdm=True,
        seed=plan.seed,
        use_cpu=not on_gpu,
        bf16=bf16,
        fp16=on_gpu and not bf16,
        ddp_backend="gloo" if not on_gpu and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
    )
    trainer = _MixTrainer(
        [s.weight for s in plan.sources],
        model=model,
        args=args,
        train_dataset=data,
        loss=_loss(model, plan),
        evaluator=evaluator,
        callbacks=[_Progress(progress, plan.checkpoints)],
    )
    trainer.remove_callback(PrinterCallback)  # it prints logs to stdout, where --json output goes
    if evaluator and not plan.resume and trainer.is_world_process_zero():
        evaluator(model, steps=0, epoch=0)  # the base model: the curves start from it
    output = trainer.train(resume_from_checkpoint=plan.resume)
    step = trainer.state.global_step
    if evaluator and step % plan.eval_steps:
        trainer.evaluate()  # every process takes part (the main one scores); the last model is always scored
    losses = [(int(e["step"]), float(e["loss"])) for e in trainer.state.log_history if "loss" in e]
    outcome = TrainingOutcome(steps=step, loss=output.training_loss, losses=losses)
    if trainer.is_world_process_zero():
        model.save(str(plan.checkpoints / "last"))
        (plan.checkpoints / "outcome.json").write_bytes(outcome.model_dump_json().encode())
    return outcome


def _loss(model: SentenceTransformer, plan: TrainingPlan) -> Any:
    gather = torch.distributed.is_available() and torch.distributed.is_initialized()
    if plan.loss == "cached-mnrl":
        loss: Any = CachedMultipleNegativesRankingLoss(
            model, mini_batch_size=plan.mini_batch_size, gather_across_devices=gather
        )
    else:
        loss = MultipleNegativesRankingLoss(model, gather_across_devices=gather)
    if plan.matryoshka_dims:
        full = model.get_embedding_dimension() or 0
        if any(d > full for d in plan.matryoshka_dims):
            raise FinetuneError(f"--matryoshka {plan.matryoshka_dims}: the model has {full} dimensions")
        loss = MatryoshkaLoss(model, loss, matryoshka_dims=sorted(set(plan.matryoshka_dims), reverse=True))
    return loss


class _MixTrainer(SentenceTransformerTrainer):
    """The trainer with the sources drawn by weight (the override sentence-transformers documents for a custom
    multi-dataset sampler: a sampler class in the arguments could not be saved with them)."""

    def __init__(self, weights: list[float], **kwargs: Any) -> None:
        self.weights = weights
        super().__init__(**kwargs)

    def get_multi_dataset_batch_sampler(
        self, dataset: Any, batch_samplers: list[Any], generator: Any = None, seed: int | None = 0
    ) -> WeightedBatchSampler:
        return WeightedBatchSampler(dataset, batch_samplers, generator=generator, seed=seed or 0, weights=self.weights)


class _Progress(TrainerCallback):
    """Reports (done, total) steps: to a callback in this process, and on the main process to a file the
    launching process reads while torchrun runs."""

    def __init__(self, report: ProgressCallback | None, folder: Path) -> None:
        self.report, self.file = report, folder / PROGRESS

    def _tell(self, state: Any) -> None:
        if state.is_world_process_zero:
            self.file.write_bytes(orjson.dumps([state.global_step, state.max_steps]))
        if self.report:
            self.report(state.global_step, state.max_steps)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._tell(state)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._tell(state)
