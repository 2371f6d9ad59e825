"""Background jobs: one row per job, written when it is started, when its process starts and when it ends.

Live progress does not go through here (a job's process writes it to a file of its own), so a running job
takes the database's write lock only twice.
"""

from __future__ import annotations

import json
from typing import Any

from store.database import Database, fetch_dicts

ACTIVE = ("queued", "running")
COLUMNS = (
    "job_id, kind, target, title, params, argv, started_by, status, created_at, started_at, finished_at, pid, "
    "pid_started, done, total, log_tail, result, error, cancel_requested_at"
)


def add_job(db: Database, job: dict[str, Any]) -> tuple[int | None, list[int]]:
    """Insert a queued job unless one of its kind and target is active: (its id, []) or (None, active ids)."""
    with db.write() as con:
        active = [
            int(row[0])
            for row in con.execute(
                "SELECT job_id FROM jobs WHERE kind = ? AND target = ? AND status IN (SELECT unnest(?::VARCHAR[]))",
                [job["kind"], job["target"], list(ACTIVE)],
            ).fetchall()
        ]
        if active:
            return None, active
        row = con.execute(
            """
            INSERT INTO jobs (kind, target, title, params, argv, started_by, status, created_at)
            VALUES ($kind, $target, $title, $params, $argv, $started_by, 'queued', $created_at) RETURNING job_id
            """,
            {key: job[key] for key in ("kind", "target", "title", "argv", "started_by", "created_at")}
            | {"params": json.dumps(job["params"])},
        ).fetchone()
    return int(row[0]) if row else None, []


def update_job(db: Database, job_id: int, fields: dict[str, Any], *, only_if_active: bool = False) -> bool:
    """Set `fields` of a job; False when nothing was updated (`only_if_active`: a job that has ended stays so)."""
    sets = ", ".join(f"{name} = ${name}" for name in fields)
    params = {name: _db_value(value) for name, value in fields.items()}
    guard = " AND status IN ('queued', 'running')" if only_if_active else ""
    with db.write() as con:
        row = con.execute(
            f"UPDATE jobs SET {sets} WHERE job_id = $job_id{guard} RETURNING job_id", {**params, "job_id": job_id}
        ).fetchone()
    return row is not None


def get_job(db: Database, job_id: int) -> dict[str, Any] | None:
    with db.read() as con:
        rows = fetch_dicts(con, f"SELECT {COLUMNS} FROM jobs WHERE job_id = ?", [job_id])
    return _decoded(rows[0]) if rows else None


def list_jobs(
    db: Database, *, active_only: bool = False, kind: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Jobs newest first: all of them, or only queued and running ones, optionally of one kind."""
    where, params = ["TRUE"], []
    if active_only:
        where.append("status IN ('queued', 'running')")
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    sql = f"SELECT {COLUMNS} FROM jobs WHERE {' AND '.join(where)} ORDER BY job_id DESC LIMIT {int(limit)}"
    with db.read() as con:
        return [_decoded(row) for row in fetch_dicts(con, sql, params)]


def latest_job(db: Database, kind: str, target: str) -> dict[str, Any] | None:
    """The newest job of one kind and target, whatever its status."""
    with db.read() as con:
        rows = fetch_dicts(
            con,
            f"SELECT {COLUMNS} FROM jobs WHERE kind = ? AND target = ? ORDER BY job_id DESC LIMIT 1",
            [kind, target],
        )
    return _decoded(rows[0]) if rows else None


def _db_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("params", "result"):
        if isinstance(row.get(key), str):
            row[key] = json.loads(row[key])
    return row
