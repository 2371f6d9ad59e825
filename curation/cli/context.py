"""Shared pieces of the CLI commands: the workspace from the global option, progress bars, `--background`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated, Any

import typer
from tqdm import tqdm

from curation.cli.output import emit, fail
from curation.core import Workspace
from curation.jobs import JobBusy, JobSpec, job_progress, start_job

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object summarizing what was done.")]
BackgroundFlag = Annotated[
    bool,
    typer.Option(
        "--background", help='Run as a background job and print {"job": ID} at once (see `sde-workbench jobs`).'
    ),
]


def open_workspace(ctx: typer.Context) -> Workspace:
    return Workspace.open(ctx.obj)


def byte_progress(description: str) -> AbstractContextManager[Callable[[int, int], None]]:
    """A tqdm bar on stderr counting bytes, fed by (done, total) callbacks."""
    return progress_bar(description, unit="B", unit_scale=True, unit_divisor=1024)


def in_background(ws: Workspace, spec: JobSpec, as_json: bool) -> None:
    """Start `spec` as a job (the command's `--background`), print {"job": ID} and end the command."""
    try:
        job = start_job(ws, spec, "")
    except JobBusy as exc:
        fail(str(exc), as_json=as_json)
    emit({"job": job.job_id}, as_json=as_json, title=f"job {job.job_id}: {job.command}")
    raise typer.Exit(0)


@contextmanager
def progress_bar(
    description: str, *, stop_on_cancel: bool = True, **options: Any
) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr fed by (done, total) callbacks; shown only on a terminal, once work starts.

    Inside a background job the same callbacks report the job's progress, and stop it at this point once it
    was cancelled (unless `stop_on_cancel` is False: the LLM commands stop through their cancel event).
    `options` go to tqdm (unit="doc", ...).
    """
    bar: tqdm | None = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        job_progress(done, total, stop_on_cancel=stop_on_cancel)
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
