"""Commands about background jobs: `jobs list`, `jobs show ID`, `jobs cancel ID`."""

from __future__ import annotations

from typing import Annotated

import typer

from curation.cli.context import JsonFlag, open_workspace
from curation.cli.output import emit, emit_rows, failures_as_exit
from curation.core import LockTimeout
from curation.jobs import JobError, cancel_job, get_job, list_jobs

jobs_app = typer.Typer(help="Background jobs: list them, show one, cancel one.", no_args_is_help=True)
IdArgument = Annotated[int, typer.Argument(help="The job's id (`jobs list`).")]


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    running: Annotated[bool, typer.Option("--running", help="Only queued and running jobs.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Newest jobs to list.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Jobs, newest first: kind, target, status, progress, who started them and when."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        found = list_jobs(ws, active_only=running, limit=limit)
    rows = [
        {
            "job": job.job_id,
            "kind": job.kind,
            "target": job.target,
            "status": job.status,
            "progress": job.progress.text(),
            "started_by": job.started_by,
            "created_at": job.created_at.isoformat(timespec="seconds"),
        }
        for job in found
    ]
    emit_rows("jobs", rows, as_json=as_json, title="jobs")


@jobs_app.command("show")
def jobs_show(ctx: typer.Context, job_id: IdArgument, as_json: JsonFlag = False) -> None:
    """One job: status, progress, pid, command, result or error, and the last lines of its log."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, JobError, LockTimeout):
        job = get_job(ws, job_id)
    summary = job.summary()
    if as_json:
        emit(summary, as_json=True)
        return
    emit({k: v for k, v in summary.items() if k not in ("log_tail", "params")}, as_json=False, title=job.title)
    typer.echo("\n".join(job.log_tail))


@jobs_app.command("cancel")
def jobs_cancel(
    ctx: typer.Context,
    job_id: IdArgument,
    force: Annotated[bool, typer.Option("--force", help="Kill it now instead of at its next batch.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Stop a job at its next batch boundary (what it wrote is kept; running it again resumes)."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, JobError, LockTimeout):
        job = cancel_job(ws, job_id, force=force)
    emit({"job": job.job_id, "status": job.status, "cancel_requested": job.cancel_requested}, as_json=as_json)
