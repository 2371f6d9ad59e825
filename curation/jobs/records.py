"""A job as the app and the CLI see it: its row, its live progress file and the tail of its log, together."""

from __future__ import annotations

import json
import shlex
import time
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

Status = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE: tuple[str, ...] = ("queued", "running")


class JobFiles:
    """Where a job's process writes its log (stdout and stderr) and its progress, under `jobs/` of the workspace."""

    def __init__(self, root: Path, job_id: int) -> None:
        folder = root / "jobs"
        folder.mkdir(exist_ok=True)
        self.log = folder / f"{job_id}.log"
        self.progress = folder / f"{job_id}.progress.json"

    def tail(self, lines: int) -> list[str]:
        if not self.log.exists():
            return []
        with self.log.open(errors="replace") as handle:
            return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]

    def read_progress(self) -> dict[str, Any]:
        try:
            return json.loads(self.progress.read_text())
        except (OSError, ValueError):
            return {}


class JobProgress(BaseModel):
    """done of total (None while the job has not counted its work yet), items per second and seconds left."""

    done: int = 0
    total: int | None = None
    rate: float | None = None
    eta_seconds: float | None = None

    @classmethod
    def from_samples(cls, sample: dict[str, Any]) -> JobProgress:
        """From a progress file: the first and the latest (time, done) give the rate, hence the time left."""
        done, total = int(sample.get("done") or 0), sample.get("total")
        rate = eta = None
        elapsed = float(sample.get("time", 0)) - float(sample.get("first_time", 0))
        if elapsed > 0 and done > int(sample.get("first_done") or 0):
            rate = (done - int(sample.get("first_done") or 0)) / elapsed
            eta = (int(total) - done) / rate if total else None
        return cls(done=done, total=None if total is None else int(total), rate=rate, eta_seconds=eta)

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 0.0

    def text(self) -> str:
        """'120 / 335 · 11.8/s · 18 s left', or what is known of it."""
        parts = [f"{self.done:,} / {self.total:,}" if self.total is not None else "starting"]
        if self.rate:
            parts.append(f"{self.rate:,.1f}/s" if self.rate >= 1 else f"{1 / self.rate:,.1f} s each")
        if self.eta_seconds is not None:
            parts.append(f"{_duration(self.eta_seconds)} left")
        return " · ".join(parts)


class Job(BaseModel):
    """One job: what it runs, who started it, when, how far it got, and how it ended."""

    job_id: int
    kind: str
    target: str
    title: str
    params: dict[str, Any]
    argv: list[str]
    started_by: str
    status: Status
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    pid: int | None = None
    progress: JobProgress = JobProgress()
    log_tail: list[str] = []
    result: dict[str, Any] | None = None
    error: str | None = None
    cancel_requested: bool = False

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def command(self) -> str:
        """The command line the job runs, to type in a terminal."""
        return "sde-workbench " + shlex.join(self.argv)

    def summary(self) -> dict[str, Any]:
        """What `jobs show --json` prints."""
        return self.model_dump(mode="json") | {"command": self.command, "progress": self.progress_dict()}

    def progress_dict(self) -> dict[str, Any]:
        return self.progress.model_dump() | {"fraction": round(self.progress.fraction, 4)}


def job_from_row(row: dict[str, Any], files: JobFiles, log_lines: int) -> Job:
    """A Job from its row; a running job's progress and log come from its files, a finished one's from the row."""
    active = row["status"] in ACTIVE
    if active:
        progress = JobProgress.from_samples(files.read_progress())
        tail = files.tail(log_lines)
    else:
        progress = JobProgress(done=int(row["done"] or 0), total=row["total"])
        tail = (row["log_tail"] or "").splitlines()
    return Job(
        **{k: row[k] for k in ("job_id", "kind", "target", "title", "params", "argv", "started_by", "status")},
        **{k: row[k] for k in ("created_at", "started_at", "finished_at", "pid", "result", "error")},
        progress=progress,
        log_tail=tail,
        cancel_requested=row["cancel_requested_at"] is not None,
    )


def progress_sample(previous: dict[str, Any], done: int, total: int | None) -> dict[str, Any]:
    """The next content of a progress file: the first sample kept, the latest one replaced."""
    now = time.time()
    first = previous or {"first_time": now, "first_done": done}
    return {
        "first_time": first["first_time"],
        "first_done": first["first_done"],
        "time": now,
        "done": done,
        "total": total,
    }


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
