"""Shared pieces of the CLI commands: the workspace from the global option, progress bars."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any

import typer
from tqdm import tqdm

from curation.core import Workspace

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object summarizing what was done.")]


def open_workspace(ctx: typer.Context) -> Workspace:
    return Workspace.open(ctx.obj)


def byte_progress(description: str) -> AbstractContextManager[Callable[[int, int], None]]:
    """A tqdm bar on stderr counting bytes, fed by (done, total) callbacks."""
    return progress_bar(description, unit="B", unit_scale=True, unit_divisor=1024)


@contextmanager
def progress_bar(description: str, **options: Any) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr fed by (done, total) callbacks; shown only on a terminal, once work starts.

    `options` go to tqdm (unit="doc", ...).
    """
    bar: tqdm | None = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(desc=description, total=total, leave=False, dynamic_ncols=True, disable=None, **options)
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
