"""Fine-tune a dense retriever on a weighted mix of pair sources and register the result as new retrievers.

The training itself is `curation.training.recipe` (sentence-transformers' trainer), in this process or under
torchrun (`--gpus`). Checkpoints go to `models/.checkpoints/<NAME>`: the same command run again after an
interruption resumes from the last one. The last model is saved to `models/<NAME>` and, with `--select`, the
best evaluated one to `models/<NAME>-best`; each is added to workbench.toml as a retriever (the base's spec
pointing at its folder), so it is embedded, searched, compared and evaluated like any other. The training,
with the metrics of every evaluated checkpoint, is recorded in the workspace (`trainings`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, Field
from transformers.trainer_utils import get_last_checkpoint

from curation.core import ProgressCallback
from curation.training.ddp import launch, process_count
from curation.training.errors import FinetuneError
from curation.training.evaluator import BEST, best_row, eval_rows, prepare_evaluation
from curation.training.recipe import TrainingPlan, run_training
from curation.training.settings import LossName
from curation.training.sources import load_pairs, parse_mix
from embeddings.device import pick_device
from embeddings.registry import DEFAULT_RETRIEVERS, RetrieverSpec, model_location, revision
from embeddings.revision import write_revision
from store import trainings as training_store

if TYPE_CHECKING:
    from curation.core import Workspace

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class FinetuneOptions(BaseModel):
    """A fine-tuning job; unset values come from the `[finetune]` settings."""

    base: str
    out: str
    pairs: Path | None = Field(None, description="one source (the same as --mix DIR)")
    mix: list[str] = Field(default_factory=list, description="DIR[:WEIGHT] sources, a replay source among them")
    epochs: int | None = None
    max_steps: int | None = Field(None, ge=1, description="stop after this many steps (whatever the epochs)")
    batch_size: int | None = None
    learning_rate: float | None = None
    warmup_ratio: float | None = None
    lr_scheduler: str | None = None
    gradient_accumulation_steps: int | None = None
    loss: LossName | None = None
    mini_batch_size: int | None = None
    matryoshka_dims: list[int] = Field(default_factory=list)
    max_seq_length: int | None = None
    seed: int | None = None
    eval: list[str] = Field(default_factory=list, description="SET[:SPLIT] evaluated every eval_steps")
    eval_steps: int | None = None
    select: str | None = Field(None, description="METRIC@SET[:SPLIT] choosing the best checkpoint")
    checkpoint_steps: int | None = None
    gpus: str | None = Field(None, description="processes: N or auto (torchrun); one by default")
    report_to: str = "none"
    overwrite: bool = False


class FinetuneResult(BaseModel):
    """What `finetune` trained and registered."""

    training_id: str
    retriever: str
    best_retriever: str | None
    best_step: int | None
    base: str
    model_dir: str
    sources: dict[str, float]
    pairs: int
    steps: int
    epochs: int
    batch_size: int
    loss: float | None
    evaluations: int
    device: str
    processes: int
    resumed_from_step: int | None
    seconds: float


def finetune(ws: Workspace, options: FinetuneOptions, progress: ProgressCallback | None = None) -> FinetuneResult:
    """Train `options.base` on the mix, save it under the workspace and register it as `options.out`."""
    started, clock = datetime.now(UTC), time.monotonic()
    base_spec = _check_names(ws, options)
    plan, processes, loaded = _plan(ws, options, base_spec)
    pairs = sum(n for n, _ in loaded)
    bundle = prepare_evaluation(ws, options.eval, options.select)
    job = {**plan.model_dump(mode="json", exclude={"checkpoints", "resume", "bundle_file", "device"}), "pairs": loaded}
    job |= {"processes": processes, "eval": bundle.model_dump(mode="json") if bundle else None}
    plan.resume = _resumable_checkpoint(plan.checkpoints, job)
    if bundle:
        plan.bundle_file = plan.checkpoints / "eval.json"
        plan.bundle_file.write_bytes(bundle.model_dump_json().encode())
    outcome = launch(plan, processes, progress) if processes > 1 else run_training(plan, progress)

    model_dir = _install(ws, plan.checkpoints / "last", options.out)
    described = f"{options.base} fine-tuned on {', '.join(s.name for s in plan.sources)}"
    _register(ws, options.out, plan.spec, model_dir, f"{described} ({pairs} pairs, {outcome.steps} steps)")
    best = best_row(plan.checkpoints, bundle.select) if bundle and bundle.select else None
    best_name = None
    if best is not None:
        best_name = f"{options.out}-best"
        best_dir = _install(ws, plan.checkpoints / BEST, best_name)
        _register(ws, best_name, plan.spec, best_dir, f"{described}: best {options.select} (step {best['step']})")
    rows = eval_rows(plan.checkpoints)
    seconds = round(time.monotonic() - clock, 3)
    training_id = f"{options.out}-{started:%Y%m%dT%H%M%S}"
    training_store.save_training(
        ws.db,
        {
            "training_id": training_id, "retriever": options.out, "best_retriever": best_name,
            "base": options.base, "base_revision": revision(options.base, base_spec, ws.root),
            "sources": [s.model_dump(mode="json") for s in plan.sources], "loss": plan.loss,
            "hyperparameters": job | {"sources": None, "eval": options.eval},
            "tool_version": _tool_version(), "device": plan.device, "processes": processes,
            "steps": outcome.steps, "final_loss": outcome.loss, "select_metric": options.select,
            "best_step": best["step"] if best else None, "losses": outcome.losses,
            "started_at": started.replace(tzinfo=None), "seconds": seconds,
        },
        [
            {"step": r["step"], "epoch": r["epoch"], "benchmark": label, "metric": metric, "value": value}
            for r in rows
            for label, values in r["metrics"].items()
            for metric, value in values.items()
        ],
    )  # fmt: skip
    shutil.rmtree(plan.checkpoints, ignore_errors=True)
    return FinetuneResult(
        training_id=training_id,
        retriever=options.out,
        best_retriever=best_name,
        best_step=best["step"] if best else None,
        base=options.base,
        model_dir=str(model_dir),
        sources={s.name: s.weight for s in plan.sources},
        pairs=pairs,
        steps=outcome.steps,
        epochs=plan.epochs,
        batch_size=plan.batch_size,
        loss=outcome.loss,
        evaluations=len(rows),
        device=plan.device,
        processes=processes,
        resumed_from_step=int(plan.resume.rsplit("-", 1)[-1]) if plan.resume else None,
        seconds=seconds,
    )


def _plan(
    ws: Workspace, options: FinetuneOptions, base_spec: RetrieverSpec
) -> tuple[TrainingPlan, int, list[tuple[int, str]]]:
    """The training plan with every default filled in, the number of processes, each source's size and
    fingerprint."""
    settings = ws.settings.finetune
    sources = parse_mix(([str(options.pairs)] if options.pairs else []) + options.mix)
    loaded = [load_pairs(s.path) for s in sources]  # also checks every source before any training
    spec = base_spec.model_copy(update={"max_seq_length": options.max_seq_length or base_spec.max_seq_length})
    processes = process_count(options.gpus)
    device = pick_device(ws.settings.embedding.device)
    plan = TrainingPlan(
        base_source=model_location(options.base, base_spec, ws.root),
        spec=spec,
        sources=sources,
        loss=options.loss or settings.loss,
        mini_batch_size=options.mini_batch_size or settings.mini_batch_size,
        matryoshka_dims=options.matryoshka_dims,
        epochs=options.epochs or settings.epochs,
        max_steps=options.max_steps,
        batch_size=options.batch_size or settings.batch_size,
        learning_rate=options.learning_rate or settings.learning_rate,
        warmup_ratio=settings.warmup_ratio if options.warmup_ratio is None else options.warmup_ratio,
        lr_scheduler=options.lr_scheduler or settings.lr_scheduler,
        gradient_accumulation_steps=options.gradient_accumulation_steps or settings.gradient_accumulation_steps,
        seed=settings.seed if options.seed is None else options.seed,
        save_steps=options.checkpoint_steps or settings.checkpoint_steps,
        eval_steps=options.eval_steps or settings.eval_steps,
        logging_steps=min(settings.logging_steps, options.eval_steps or settings.eval_steps),
        checkpoints=ws.root / "models" / ".checkpoints" / options.out,
        bundle_file=None,
        device="cuda" if device.startswith("cuda") else device,
        resume=None,
        report_to=options.report_to,
    )
    return plan, processes, [(len(d), d._fingerprint) for d in loaded]


def _check_names(ws: Workspace, options: FinetuneOptions) -> RetrieverSpec:
    retrievers = ws.settings.retrievers
    if options.base not in retrievers:
        raise FinetuneError(f"unknown retriever {options.base!r}; known: {', '.join(retrievers)}")
    base = retrievers[options.base]
    if base.kind != "dense":
        raise FinetuneError(f"{options.base!r} is a {base.kind} retriever; fine-tuning needs a dense one")
    if not _NAME.match(options.out):
        raise FinetuneError(f"--out {options.out!r}: use letters, digits, '.', '_' or '-'")
    names = [options.out] + ([f"{options.out}-best"] if options.select else [])
    for name in names:
        if name in DEFAULT_RETRIEVERS or (name in retrievers and not options.overwrite):
            raise FinetuneError(
                f"retriever {name!r} exists; choose another --out"
                + ("" if name in DEFAULT_RETRIEVERS else " or pass --overwrite")
            )
    return base


def _install(ws: Workspace, saved: Path, name: str) -> Path:
    """Move a saved model to models/NAME with a new revision (vectors, runs and maps of an old one go stale)."""
    model_dir = ws.root / "models" / name
    partial = ws.root / "models" / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(saved, partial)
    write_revision(partial)
    shutil.rmtree(model_dir, ignore_errors=True)
    partial.rename(model_dir)
    return model_dir


def _register(ws: Workspace, name: str, spec: RetrieverSpec, model_dir: Path, description: str) -> None:
    entry = spec.model_copy(update={"model": str(model_dir), "package": None, "description": description})
    ws.update_settings("retrievers", name, entry.model_dump(mode="json", exclude_none=True))


def _tool_version() -> str | None:
    try:
        return version("sde-workbench")
    except PackageNotFoundError:
        return None


def _resumable_checkpoint(folder: Path, job: dict[str, Any]) -> str | None:
    """The last checkpoint of the same job; checkpoints of any other job in this folder are cleared."""
    marker = folder / "job.json"
    digest = hashlib.sha256(orjson.dumps(job, option=orjson.OPT_SORT_KEYS)).hexdigest()
    if marker.exists() and orjson.loads(marker.read_bytes()).get("digest") == digest:
        return _complete_checkpoint(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    marker.write_bytes(orjson.dumps({"digest": digest, **job}))
    return None


def _complete_checkpoint(folder: Path) -> str | None:
    """The last checkpoint whose trainer state was written (the trainer writes it last: a process killed while
    saving leaves a checkpoint without it, which is dropped)."""
    while (last := get_last_checkpoint(str(folder))) is not None:
        if (Path(last) / "trainer_state.json").exists():
            return last
        shutil.rmtree(last)
    return None
