"""Shared pieces of the CLI commands: the workspace from the global option, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from tqdm import tqdm

from curation.workspace import Workspace

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object summarizing what was done.")]


def open_workspace(ctx: typer.Context) -> Workspace:
    return Workspace.open(ctx.obj)


@contextmanager
def byte_progress(description: str) -> Iterator[object]:
    """A tqdm bar on stderr fed by (done, total) callbacks, counting bytes."""
    with progress_bar(description, unit="B", unit_scale=True, unit_divisor=1024) as update:
        yield update


@contextmanager
def progress_bar(description: str, **tqdm_options: object) -> Iterator[object]:
    """A tqdm bar on stderr (rate and ETA included) fed by (done, total) callbacks."""
    bar = tqdm(desc=description, leave=False, dynamic_ncols=True, **tqdm_options)  # type: ignore[call-overload]

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()
