"""Shared pieces of the CLI commands: the workspace from the global option, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any

import typer
from tqdm import tqdm

from curation.workspace import Workspace

ProgressCallback = Callable[[int, int], None]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object summarizing what was done.")]


def open_workspace(ctx: typer.Context) -> Workspace:
    return Workspace.open(ctx.obj)


def byte_progress(description: str) -> AbstractContextManager[ProgressCallback]:
    """A tqdm bar on stderr counting bytes, fed by (done, total) callbacks."""
    return _progress(description, unit="B", unit_scale=True, unit_divisor=1024)


def step_progress(description: str) -> AbstractContextManager[ProgressCallback]:
    """A tqdm bar on stderr counting steps, fed by (done, total) callbacks."""
    return _progress(description, unit="step")


@contextmanager
def _progress(description: str, **options: Any) -> Iterator[ProgressCallback]:
    bar = tqdm(desc=description, leave=False, dynamic_ncols=True, **options)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()
