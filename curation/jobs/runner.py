"""Start, look at, cancel and re-run jobs: each one a process of its own running the CLI command of its spec.

A job's process is started in a session of its own, so it outlives the app's script run, the app itself and
a closed terminal. Whoever looks at the jobs (the sidebar, the Jobs page, `jobs list`) marks a job whose
process has died `interrupted` (or `cancelled`, when a stop was asked for); the jobs resume where they stopped
when run again.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

import curation
from curation.jobs.errors import JobBusy, JobError
from curation.jobs.records import ACTIVE, Job, JobFiles, job_from_row
from curation.jobs.specs import JobSpec
from store import jobs as job_store

if TYPE_CHECKING:
    from curation.core import Workspace

QUEUED_GRACE = 60.0  # seconds a job may stay queued without a process before it counts as interrupted


def start_job(ws: Workspace, spec: JobSpec, started_by: str) -> Job:
    """Record `spec` and start its process; JobBusy when a job of its kind and target is active."""
    _refresh(ws, job_store.list_jobs(ws.db, active_only=True))
    job_id, active = job_store.add_job(
        ws.db, spec.model_dump() | {"started_by": started_by or _user(), "created_at": datetime.now()}
    )
    if job_id is None:
        raise JobBusy(f"{spec.title} is already running (job {active[0]}); wait for it or cancel it", active[0])
    files = JobFiles(ws.root, job_id)
    code_root = str(Path(curation.__file__).resolve().parent.parent)  # the child runs this very code
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (code_root, os.environ.get("PYTHONPATH")) if p)}
    with files.log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "curation.jobs.worker", str(ws.root), str(job_id)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=ws.root,
        )
    threading.Thread(target=process.wait, daemon=True, name=f"sde-job-{job_id}").start()  # reaps it when it ends
    fields: dict[str, Any] = {"pid": process.pid}
    with contextlib.suppress(psutil.NoSuchProcess):
        fields["pid_started"] = psutil.Process(process.pid).create_time()
    job_store.update_job(ws.db, job_id, fields)
    return get_job(ws, job_id)


def get_job(ws: Workspace, job_id: int) -> Job:
    row = job_store.get_job(ws.db, job_id)
    if row is None:
        raise JobError(f"no job {job_id} in this workspace (`sde-workbench jobs list` shows them)")
    return _as_job(ws, _refresh(ws, [row])[0])


def list_jobs(ws: Workspace, *, active_only: bool = False, kind: str | None = None, limit: int = 200) -> list[Job]:
    """Jobs newest first, dead processes marked first."""
    rows = _refresh(ws, job_store.list_jobs(ws.db, active_only=active_only, kind=kind, limit=limit))
    return [_as_job(ws, row) for row in rows if not active_only or row["status"] in ACTIVE]


def running_jobs(ws: Workspace) -> list[Job]:
    """Queued and running jobs, newest first (what the sidebar shows)."""
    return list_jobs(ws, active_only=True)


def latest_job(ws: Workspace, kind: str, target: str) -> Job | None:
    """The newest job of a kind and target: the running one, or the last one's outcome."""
    row = job_store.latest_job(ws.db, kind, target)
    return None if row is None else _as_job(ws, _refresh(ws, [row])[0])


def cancel_job(ws: Workspace, job_id: int, *, force: bool = False) -> Job:
    """Ask a job to stop at its next batch boundary (SIGTERM); `force` kills it at once (SIGKILL).

    What it wrote so far is kept either way: running the same command again resumes it.
    """
    job = get_job(ws, job_id)
    if not job.active:
        raise JobError(f"job {job_id} is {job.status}: nothing to cancel")
    job_store.update_job(ws.db, job_id, {"cancel_requested_at": datetime.now()}, only_if_active=True)
    row = job_store.get_job(ws.db, job_id) or {}
    if _alive(row):
        os.kill(int(row["pid"]), signal.SIGKILL if force else signal.SIGTERM)
        if force:
            _wait_dead(row)
    return get_job(ws, job_id)


def rerun_job(ws: Workspace, job_id: int, started_by: str) -> Job:
    """Start a finished job's command again (a failed or interrupted one resumes where it stopped)."""
    job = get_job(ws, job_id)
    if job.active:
        raise JobError(f"job {job_id} is still {job.status}")
    spec = JobSpec(kind=job.kind, target=job.target, title=job.title, params=job.params, argv=job.argv)
    return start_job(ws, spec, started_by)


def wait_for_job(ws: Workspace, job_id: int, timeout: float = 600.0, poll: float = 0.2) -> Job:
    """Block until a job ends (for scripts and tests); JobError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = get_job(ws, job_id)
        if not job.active:
            return job
        if time.monotonic() >= deadline:
            raise JobError(f"job {job_id} still {job.status} after {timeout:.0f} s")
        time.sleep(poll)


def _as_job(ws: Workspace, row: dict[str, Any]) -> Job:
    return job_from_row(row, JobFiles(ws.root, int(row["job_id"])), ws.settings.jobs.log_lines)


def _refresh(ws: Workspace, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark active jobs whose process is gone as interrupted (cancelled when asked to stop); rows as they now are."""
    fresh = []
    for row in rows:
        if row["status"] in ACTIVE and not _alive(row) and _past_start(row):
            files = JobFiles(ws.root, int(row["job_id"]))
            sample = files.read_progress()
            ended = "cancelled" if row["cancel_requested_at"] is not None else "interrupted"
            fields = {
                "status": ended,
                "finished_at": datetime.now(),
                "done": int(sample.get("done") or 0),
                "total": sample.get("total"),
                "log_tail": "\n".join(files.tail(ws.settings.jobs.log_lines)),
                "error": None if ended == "cancelled" else "its process ended without reporting (killed or crashed)",
            }
            job_store.update_job(ws.db, int(row["job_id"]), fields, only_if_active=True)
            row = job_store.get_job(ws.db, int(row["job_id"])) or row
        fresh.append(row)
    return fresh


def _past_start(row: dict[str, Any]) -> bool:
    """A job with a process, or queued without one for longer than a start can take."""
    if row["pid"] is not None:
        return True
    return (datetime.now() - row["created_at"]).total_seconds() > QUEUED_GRACE


def _alive(row: dict[str, Any]) -> bool:
    """The job's own process still runs (a reused pid or a zombie does not count)."""
    if row.get("pid") is None:
        return False
    try:
        process = psutil.Process(int(row["pid"]))
        if row.get("pid_started") is not None and abs(process.create_time() - float(row["pid_started"])) > 1.0:
            return False
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_dead(row: dict[str, Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while _alive(row) and time.monotonic() < deadline:
        time.sleep(0.05)


def _user() -> str:
    """Who starts a job from the command line: the curator's name when set, else the login."""
    return os.environ.get("SDE_WORKBENCH_CURATOR") or getpass.getuser()
