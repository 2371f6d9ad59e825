"""Commands of training: `finetune` a dense retriever on a weighted mix of pair sources into new retrievers, and
`trainings`, the record of every training with its checkpoints' metrics and checkpoint table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
from curation.cli.output import emit, emit_rows, failures_as_exit
from curation.core import LockTimeout
from curation.jobs import finetune_job
from curation.retrieval import RETRIEVAL_ERRORS


def register(app: typer.Typer) -> None:
    app.command("finetune")(finetune_command)
    app.command("trainings")(trainings_command)


def finetune_command(
    ctx: typer.Context,
    base: Annotated[str, typer.Option(help="Dense retriever to start from, e.g. minilm.")],
    out: Annotated[str, typer.Option(help="Name of the new retriever (its model goes to models/NAME).")],
    pairs: Annotated[Path | None, typer.Option(help="Folder written by `export pairs` (a one-source mix).")] = None,
    mix: Annotated[
        list[str] | None,
        typer.Option(
            help="A source DIR[:WEIGHT] (repeatable): an `export pairs` folder, a saved dataset, or Parquet/JSONL with "
            "anchor, positive[, negative] columns. Each pass draws round(pairs x WEIGHT) of it, one source per batch. "
            "A replay source (general pairs against forgetting) is one of them."
        ),
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Passes over the mix (default [finetune]).")] = None,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after this many steps.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=2, help="Pairs per batch and device.")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    warmup_ratio: Annotated[float | None, typer.Option(min=0, max=0.99, help="Share of steps warming up.")] = None,
    lr_scheduler: Annotated[str | None, typer.Option(help="Schedule after warm-up: cosine, linear, ...")] = None,
    gradient_accumulation_steps: Annotated[int | None, typer.Option(min=1, help="Batches per optimiser step.")] = None,
    loss: Annotated[str | None, typer.Option(help="mnrl (default) or cached-mnrl (GradCache).")] = None,
    mini_batch_size: Annotated[int | None, typer.Option(min=1, help="cached-mnrl: texts encoded at once.")] = None,
    matryoshka_dims: Annotated[
        list[int] | None, typer.Option(help="Train these leading dimensions too (MatryoshkaLoss), repeatable.")
    ] = None,
    max_seq_length: Annotated[int | None, typer.Option(min=8, help="Tokens per text while training.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default [finetune]).")] = None,
    eval: Annotated[
        list[str] | None, typer.Option(help="SET[:SPLIT] evaluated every --eval-steps (repeatable).")
    ] = None,
    eval_steps: Annotated[int | None, typer.Option(min=1, help="Steps between evaluations.")] = None,
    select: Annotated[
        str | None, typer.Option(help="METRIC@SET[:SPLIT]: keep the best checkpoint as NAME-best, e.g. ndcg@5@sde:dev.")
    ] = None,
    checkpoint_steps: Annotated[int | None, typer.Option(min=1, help="Steps between checkpoints.")] = None,
    gpus: Annotated[
        str | None, typer.Option(help="N or auto: N processes under torchrun (DDP; gloo on CPU). One by default.")
    ] = None,
    report_to: Annotated[str, typer.Option(help="none, tensorboard, wandb or mlflow (when installed).")] = "none",
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier fine-tuned retriever of that name.")] = False,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune a retriever on a mix of training pairs and register it as a new retriever (GPU when present)."""
    ws = open_workspace(ctx)
    options = {
        "mix": mix or [], "epochs": epochs, "max_steps": max_steps, "batch_size": batch_size,
        "learning_rate": learning_rate, "warmup_ratio": warmup_ratio, "lr_scheduler": lr_scheduler,
        "gradient_accumulation_steps": gradient_accumulation_steps, "loss": loss, "mini_batch_size": mini_batch_size,
        "matryoshka_dims": matryoshka_dims or [], "max_seq_length": max_seq_length, "seed": seed,
        "eval": eval or [], "eval_steps": eval_steps, "select": select, "checkpoint_steps": checkpoint_steps,
        "gpus": gpus, "overwrite": overwrite,
    }  # fmt: skip
    if background:
        extra = {"report_to": report_to} if report_to != "none" else {}
        in_background(ws, finetune_job(base, pairs.resolve() if pairs else None, out, **options, **extra), as_json)
    from curation.training import FinetuneError, FinetuneOptions, finetune  # torch: loaded only to train

    with (
        failures_as_exit(as_json, FinetuneError, *RETRIEVAL_ERRORS, LockTimeout, ValueError),
        progress_bar("fine-tune", unit="step") as progress,
    ):
        request = FinetuneOptions(base=base, out=out, pairs=pairs, report_to=report_to, **options)
        result = finetune(ws, request, progress)
    emit(result, as_json=as_json, title="finetune")


def trainings_command(
    ctx: typer.Context,
    show: Annotated[str | None, typer.Option(help="A training (id or retriever): its checkpoints' metrics.")] = None,
    table: Annotated[
        str | None, typer.Option(help="A training (id or retriever): its checkpoint table on --benchmarks.")
    ] = None,
    benchmarks: Annotated[str | None, typer.Option(help="With --table: SET or SET:SPLIT, comma-separated.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Recorded trainings: sources and weights, loss, hyperparameters, device, duration, best checkpoint."""
    from curation.evaluation import EvaluationError, render_leaderboard
    from curation.training import FinetuneError, checkpoint_table, list_trainings, training_checkpoints

    ws = open_workspace(ctx)
    with failures_as_exit(as_json, FinetuneError, EvaluationError, *RETRIEVAL_ERRORS):
        if table:
            board = checkpoint_table(ws, table, benchmarks or "")
            if as_json:
                emit(board, as_json=True)
            else:
                typer.echo(render_leaderboard(board, "markdown"))
            return
        records = list_trainings(ws)
        if show:
            chosen = [r for r in records if show in (r.training_id, r.retriever)]
            if not chosen:
                raise FinetuneError(f"no training {show!r}")
            rows = training_checkpoints(ws, chosen[0].training_id)
            emit({"training": chosen[0].model_dump(mode="json"), "checkpoints": rows}, as_json=as_json, title=show)
            return
    summary = [
        r.model_dump(mode="json", include={"training_id", "retriever", "best_retriever", "base", "loss", "steps",
                                           "final_loss", "best_step", "device", "processes", "seconds", "started_at"})
        | {"sources": {s["name"]: s["weight"] for s in r.sources}}
        for r in records
    ]  # fmt: skip
    emit_rows("trainings", summary, as_json=as_json, title="trainings")
