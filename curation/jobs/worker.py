"""A job's process: `python -m curation.jobs.worker WORKSPACE JOB_ID` runs the job's CLI command with --json.

It marks the job running, runs the command in this process (the same code as typing it), keeps the one JSON
object the command prints as the job's result (or its error), and marks the job done, failed or cancelled.
stdout and stderr of the process are the job's log file.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import traceback
from contextlib import redirect_stdout
from datetime import datetime
from typing import Any

import orjson
import psutil

from curation.core import Workspace
from curation.jobs.errors import JobCancelled
from curation.jobs.records import JobFiles
from curation.jobs.reporter import activate, cancel_requested, last_progress, request_cancel
from store import jobs as job_store


def run(root: str, job_id: int) -> int:
    """Run job `job_id` of the workspace at `root`; the exit code of its command."""
    from typer.main import get_command

    from curation.cli import app

    ws = Workspace.open(root)
    row = job_store.get_job(ws.db, job_id)
    if row is None:
        print(f"no job {job_id} in {ws.root}", file=sys.stderr)
        return 2
    files = JobFiles(ws.root, job_id)
    activate(files.progress, ws.settings.jobs.progress_interval)
    signal.signal(signal.SIGTERM, request_cancel)
    me = psutil.Process(os.getpid())
    started = {"status": "running", "started_at": datetime.now(), "pid": me.pid, "pid_started": me.create_time()}
    if not job_store.update_job(ws.db, job_id, started, only_if_active=True):
        return 2  # cancelled before it could start
    print(f"[job {job_id}] sde-workbench {' '.join(row['argv'])}", file=sys.stderr, flush=True)

    captured = io.StringIO()
    code, crash = 0, None
    try:
        with redirect_stdout(captured):
            code = get_command(app).main(
                ["--workspace", str(ws.root), *row["argv"], "--json"], prog_name="sde-workbench", standalone_mode=False
            )
    except JobCancelled:
        code = 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # a crash is the job's outcome: recorded, not lost
        traceback.print_exc()
        code, crash = 1, f"{type(exc).__name__}: {exc}"
    result = _last_json(captured.getvalue())
    done, total = last_progress()
    cancelled = cancel_requested().is_set() and (code == 130 or (result or {}).get("stopped") == "cancelled")
    error = crash or (result or {}).get("error") or (f"exit code {code}" if code and not cancelled else None)
    status = "cancelled" if cancelled else "failed" if error else "done"
    print(f"[job {job_id}] {status}" + (f": {error}" if error else ""), file=sys.stderr, flush=True)
    sys.stderr.flush()
    job_store.update_job(
        ws.db,
        job_id,
        {
            "status": status,
            "finished_at": datetime.now(),
            "done": done,
            "total": total,
            "result": None if result is None or "error" in result else result,
            "error": error,
            "log_tail": "\n".join(files.tail(ws.settings.jobs.log_lines)),
        },
    )
    return int(code or 0)


def _last_json(output: str) -> dict[str, Any] | None:
    for line in reversed(output.strip().splitlines()):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], int(sys.argv[2])))
