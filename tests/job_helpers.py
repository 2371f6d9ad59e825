"""Waiting for the background jobs a page started, before looking at what they did."""

from __future__ import annotations

from curation.core import Workspace
from curation.jobs import Job, running_jobs, wait_for_job


def finish_jobs(ws: Workspace, timeout: float = 600.0) -> list[Job]:
    """Wait until every job of the workspace has ended; the jobs that were running, as they ended."""
    return [wait_for_job(ws, job.job_id, timeout=timeout) for job in running_jobs(ws)]
