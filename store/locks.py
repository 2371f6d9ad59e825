"""Inter-process shared/exclusive lock on a workspace file.

DuckDB lets one process write a database file, or many read it, never both. The CLI and the app
share a workspace, so every connection is taken under this lock: readers share it, a writer holds
it alone, and whoever must wait polls until a timeout instead of failing with DuckDB's lock error.
`flock` is used (not POSIX record locks) because it also excludes threads of one process that
open the lock file separately, which is how Streamlit serves concurrent sessions.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


class LockTimeout(TimeoutError):
    """The workspace stayed busy longer than the configured wait."""


@contextmanager
def file_lock(path: Path, *, exclusive: bool, timeout: float, poll: float = 0.02) -> Iterator[None]:
    """Hold a shared or exclusive flock on `path` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + timeout
    wait = poll
    try:
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    kind = "write" if exclusive else "read"
                    raise LockTimeout(
                        f"workspace busy: could not get the {kind} lock on {path} within {timeout:.0f}s; "
                        "another sde-workbench process is holding it (raise store.lock_timeout to wait longer)"
                    ) from None
                time.sleep(wait)
                wait = min(wait * 1.5, 0.5)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def job_lock(path: Path, busy: Exception) -> Iterator[None]:
    """Hold `path` alone for one long job; raise `busy` at once if another process holds it.

    Only taking the lock turns into `busy`: a LockTimeout from the job's own work passes through as is.
    """
    with ExitStack() as stack:
        try:
            stack.enter_context(file_lock(path, exclusive=True, timeout=1.0))
        except LockTimeout:
            raise busy from None
        yield
