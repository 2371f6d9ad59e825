"""Fine-tune a dense retriever on exported training pairs and register the result as a new retriever.

Sentence-transformers' trainer with MultipleNegativesRankingLoss (the other pairs of a batch are
negatives too) and no-duplicates batches (a text twice in one batch would be its own false negative).
Checkpoints go to `models/.checkpoints/<NAME>` every `finetune.checkpoint_steps`: the same command run
again after an interruption resumes from the last one. The finished model is saved to `models/<NAME>`
and added to workbench.toml as `[retrievers.<NAME>]`, the base's spec pointing at that folder, so it
is embedded, searched, compared and evaluated like any other retriever.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import torch
from datasets import Dataset, DatasetDict, load_from_disk
from pydantic import BaseModel
from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from transformers import PrinterCallback, TrainerCallback
from transformers.trainer_utils import get_last_checkpoint

from curation.core import ProgressCallback
from curation.training.pairs import PAIR_COLUMNS
from embeddings.device import pick_device
from embeddings.registry import DEFAULT_RETRIEVERS, RetrieverSpec, model_location
from embeddings.revision import write_revision

if TYPE_CHECKING:
    from curation.core import Workspace

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class FinetuneError(ValueError):
    """A fine-tune that cannot start (the message says what to change)."""


class FinetuneOptions(BaseModel):
    """A fine-tuning job; unset values come from the `[finetune]` settings."""

    base: str
    pairs: Path
    out: str
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    overwrite: bool = False


class FinetuneResult(BaseModel):
    """What `finetune` trained and registered."""

    retriever: str
    base: str
    model_dir: str
    pairs: int
    steps: int
    epochs: int
    batch_size: int
    loss: float | None
    device: str
    resumed_from_step: int | None


def finetune(ws: Workspace, options: FinetuneOptions, progress: ProgressCallback | None = None) -> FinetuneResult:
    """Train `options.base` on the pairs, save it under the workspace and register it as `options.out`."""
    settings = ws.settings.finetune
    epochs = options.epochs or settings.epochs
    batch_size = options.batch_size or settings.batch_size
    learning_rate = options.learning_rate or settings.learning_rate
    base_spec = _check_names(ws, options)
    dataset = load_pairs(options.pairs)
    source = model_location(options.base, base_spec, ws.root)
    device = pick_device(ws.settings.embedding.device)
    model = _load_model(source, base_spec, device)

    models_dir = ws.root / "models"
    checkpoints = models_dir / ".checkpoints" / options.out
    job = {
        "base": source,
        "pairs": dataset._fingerprint,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "seed": settings.seed,
    }
    resume = _resumable_checkpoint(checkpoints, job)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=settings.warmup_ratio,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="steps",
        save_steps=settings.checkpoint_steps,
        save_total_limit=1,
        logging_strategy="no",
        report_to="none",
        disable_tqdm=True,
        seed=settings.seed,
        use_cpu=device == "cpu",
        bf16=device == "cuda" and _cuda_bf16(),
        fp16=device == "cuda" and not _cuda_bf16(),
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=MultipleNegativesRankingLoss(model),
        callbacks=[_Progress(progress)] if progress else [],
    )
    trainer.remove_callback(PrinterCallback)  # it prints logs to stdout, where --json output goes
    output = trainer.train(resume_from_checkpoint=resume)

    model_dir = models_dir / options.out
    partial = models_dir / f".{options.out}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.save(str(partial))
    write_revision(partial)  # a new revision: vectors, runs and maps of an overwritten model go stale
    shutil.rmtree(model_dir, ignore_errors=True)
    partial.rename(model_dir)
    spec = base_spec.model_copy(
        update={
            "model": str(model_dir),
            "package": None,
            "description": f"{options.base} fine-tuned on {options.pairs} ({len(dataset)} pairs, {epochs} epochs)",
        }
    )
    ws.update_settings("retrievers", options.out, spec.model_dump(mode="json", exclude_none=True))
    shutil.rmtree(checkpoints, ignore_errors=True)
    return FinetuneResult(
        retriever=options.out,
        base=options.base,
        model_dir=str(model_dir),
        pairs=len(dataset),
        steps=output.global_step,
        epochs=epochs,
        batch_size=batch_size,
        loss=output.training_loss,
        device=device,
        resumed_from_step=int(resume.rsplit("-", 1)[-1]) if resume else None,
    )


def _check_names(ws: Workspace, options: FinetuneOptions) -> RetrieverSpec:
    retrievers = ws.settings.retrievers
    if options.base not in retrievers:
        raise FinetuneError(f"unknown retriever {options.base!r}; known: {', '.join(retrievers)}")
    base = retrievers[options.base]
    if base.kind != "dense":
        raise FinetuneError(f"{options.base!r} is a {base.kind} retriever; fine-tuning needs a dense one")
    if not _NAME.match(options.out):
        raise FinetuneError(f"--out {options.out!r}: use letters, digits, '.', '_' or '-'")
    if options.out in DEFAULT_RETRIEVERS or (options.out in retrievers and not options.overwrite):
        raise FinetuneError(
            f"retriever {options.out!r} exists; choose another --out"
            + ("" if options.out in DEFAULT_RETRIEVERS else " or pass --overwrite")
        )
    return base


def load_pairs(path: Path) -> Dataset:
    """The `train` pairs of an `export pairs` folder (or of a dataset saved to disk), with its pair columns."""
    folder = path / "dataset" if (path / "dataset").is_dir() else path
    try:
        loaded = load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as exc:
        raise FinetuneError(f"{path} holds no training pairs; make them with `sde-workbench export pairs`") from exc
    if isinstance(loaded, DatasetDict):
        if "train" not in loaded:
            raise FinetuneError(f"{path} has no train split (splits: {', '.join(loaded)})")
        loaded = loaded["train"]
    negatives = [c for c in loaded.column_names if c == "negative" or re.fullmatch(r"negative_\d+", c)]
    columns = [c for c in PAIR_COLUMNS[:2] if c in loaded.column_names] + negatives
    if columns[:2] != ["anchor", "positive"]:
        raise FinetuneError(f"{path}: pairs need columns anchor and positive (found {', '.join(loaded.column_names)})")
    if len(loaded) == 0:
        raise FinetuneError(f"{path}: the train split is empty")
    return loaded.select_columns(columns)


def _cuda_bf16() -> bool:
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def _load_model(source: str, spec: RetrieverSpec, device: str) -> SentenceTransformer:
    try:
        model = SentenceTransformer(source, device=device, trust_remote_code=spec.trust_remote_code)
    except OSError as exc:
        raise FinetuneError(
            f"cannot load base model {source!r} ({exc.__class__.__name__}); without network access, put its "
            "weights in a folder and set that folder as the retriever's model"
        ) from exc
    if spec.max_seq_length:
        model.max_seq_length = spec.max_seq_length
    return model


def _resumable_checkpoint(folder: Path, job: dict[str, Any]) -> str | None:
    """The last checkpoint of the same job; checkpoints of any other job in this folder are cleared."""
    marker = folder / "job.json"
    digest = hashlib.sha256(orjson.dumps(job, option=orjson.OPT_SORT_KEYS)).hexdigest()
    if marker.exists() and orjson.loads(marker.read_bytes()).get("digest") == digest:
        return get_last_checkpoint(str(folder))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    marker.write_bytes(orjson.dumps({"digest": digest, **job}))
    return None


class _Progress(TrainerCallback):
    """Feeds the trainer's step count to a (done, total) callback: tqdm in the CLI, st.progress in the app."""

    def __init__(self, report: ProgressCallback) -> None:
        self.report = report

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.report(state.global_step, state.max_steps)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.report(state.global_step, state.max_steps)
