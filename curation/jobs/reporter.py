"""The job's side, inside its own process: progress to a file, and a stop asked for by SIGTERM.

The CLI's progress bars call `job_progress` on every (done, total); outside a job it does nothing. Writes are
throttled and go to a small file (replaced atomically), never to the database, so progress costs no lock.
A SIGTERM only sets `cancel_requested()`: the job stops at its next progress report (a batch boundary), or,
for the LLM jobs, which take the event itself, once the calls in flight are done.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from curation.jobs.errors import JobCancelled
from curation.jobs.records import progress_sample

_cancel = threading.Event()


class _Reporter:
    def __init__(self, path: Path, interval: float) -> None:
        self.path = path
        self.interval = interval
        self.sample: dict[str, Any] = {}
        self.written = 0.0

    def report(self, done: int, total: int | None) -> None:
        self.sample = progress_sample(self.sample, done, total)
        now = time.monotonic()
        if now - self.written >= self.interval or (total is not None and done >= total):
            self.flush()
            self.written = now

    def flush(self) -> None:
        if not self.sample:
            return
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.sample))
        os.replace(partial, self.path)


_active: _Reporter | None = None


def activate(path: Path, interval: float) -> None:
    """Make this process a job's: progress reports go to `path`."""
    global _active
    _active = _Reporter(path, interval)


def request_cancel(*_: object) -> None:
    """Ask the job to stop at its next batch boundary (the SIGTERM handler)."""
    _cancel.set()


def cancel_requested() -> threading.Event:
    """Set once this process was asked to stop; the LLM jobs pass it to their runner."""
    return _cancel


def job_progress(done: int, total: int | None, *, stop_on_cancel: bool = True) -> None:
    """Record progress when this process runs a job; raise JobCancelled here if it was asked to stop."""
    if _active is None:
        return
    _active.report(done, total)
    if stop_on_cancel and _cancel.is_set():
        raise JobCancelled("cancelled")


def last_progress() -> tuple[int, int | None]:
    """The last (done, total) reported, flushed to the file."""
    if _active is None or not _active.sample:
        return 0, None
    _active.flush()
    return int(_active.sample["done"]), _active.sample["total"]
