"""Why a job cannot be started, found or go on."""

from __future__ import annotations


class JobError(ValueError):
    """No such job, or a job that cannot do what was asked (cancel a finished one, re-run a running one)."""


class JobBusy(RuntimeError):
    """A job of the same kind and target is already queued or running."""

    def __init__(self, message: str, job_id: int) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobCancelled(Exception):
    """Raised at a job's next batch boundary once it was asked to stop; what it wrote so far is kept."""
