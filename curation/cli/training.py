"""Commands of training: `finetune` a dense retriever on exported pairs into a new retriever."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
from curation.cli.output import emit, failures_as_exit
from curation.core import LockTimeout
from curation.jobs import finetune_job
from curation.retrieval import RETRIEVAL_ERRORS


def register(app: typer.Typer) -> None:
    app.command("finetune")(finetune_command)


def finetune_command(
    ctx: typer.Context,
    base: Annotated[str, typer.Option(help="Dense retriever to start from, e.g. minilm.")],
    pairs: Annotated[Path, typer.Option(help="Folder written by `export pairs`.")],
    out: Annotated[str, typer.Option(help="Name of the new retriever (its model goes to models/NAME).")],
    epochs: Annotated[int | None, typer.Option(min=1, help="Passes over the pairs (default [finetune]).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=2, help="Pairs per batch (default [finetune]).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate (default [finetune]).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier fine-tuned retriever of that name.")] = False,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune a retriever on training pairs and register it as a new retriever (GPU when present)."""
    ws = open_workspace(ctx)
    if background:
        spec = finetune_job(
            base,
            pairs.resolve(),
            out,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            overwrite=overwrite,
        )
        in_background(ws, spec, as_json)
    from curation.training import FinetuneError, FinetuneOptions, finetune  # torch: loaded only to train

    options = FinetuneOptions(
        base=base,
        pairs=pairs,
        out=out,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        overwrite=overwrite,
    )
    with (
        failures_as_exit(as_json, FinetuneError, *RETRIEVAL_ERRORS, LockTimeout),
        progress_bar("fine-tune", unit="step") as progress,
    ):
        result = finetune(ws, options, progress)
    emit(result, as_json=as_json, title="finetune")
