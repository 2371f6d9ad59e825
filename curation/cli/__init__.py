"""`sde-workbench`: the command line. Every command calls the same functions the app does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curation.cli import evaluation, ingest, jobs, judging, maps, relevancy, retrieval, rules, training, workspace

app = typer.Typer(
    name="sde-workbench",
    help="Curate, embed, explore, compare and judge NASA Science Discovery Engine content.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="SDE_WORKBENCH_WORKSPACE",
            help="Workspace folder (default ./workspace).",
        ),
    ] = None,
) -> None:
    ctx.obj = workspace


# One module per pipeline stage, in the order of the README's typical pass.
for stage in (ingest, relevancy, rules, retrieval, maps, judging, evaluation, training, workspace, jobs):
    stage.register(app)


def main() -> None:
    app()
