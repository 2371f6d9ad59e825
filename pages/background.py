"""Background jobs in the app: start one, follow it (in the sidebar and on its page) and see how it ended.

Every long job starts through `start` (never in the page's script thread), so leaving the page, clicking a
widget or reloading does not stop it. Progress is polled by fragments that exist only while a job runs; when
a job ends they rerun the whole page once, so its result shows up without anyone clicking.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from curation.core import Workspace
from curation.jobs import Job, JobBusy, JobError, JobSpec, cancel_job, latest_job, running_jobs, start_job
from pages.state import notify

POLL_SECONDS = 1.0


def start(ws: Workspace, spec: JobSpec, who: str) -> None:
    """Start `spec` as a background job, say so and rerun the page (which then follows the job's progress).

    When a job of the same kind and target is already running, say so instead.
    """
    try:
        job = start_job(ws, spec, who)
    except JobBusy as exc:
        st.warning(str(exc))
        return
    notify(f"Started: {job.title} (job {job.job_id}); it goes on if you leave this page.", ":material/schedule:")
    st.rerun()


def follow(
    ws: Workspace,
    kind: str,
    target: str,
    describe: Callable[[dict], str],
    *,
    key: str,
    recent: float | None = None,
) -> Job | None:
    """The newest job of `kind` on `target`: its live progress with Cancel while it runs, else how it ended.

    `describe` turns a finished job's result (the command's JSON) into a sentence. Returns the job (None if
    there never was one), so a page can wait for it instead of drawing a result that is not there yet.
    With `recent`, how a job ended is shown only for that many seconds after.
    """
    job = latest_job(ws, kind, target)
    if job is None:
        return None
    if recent is not None and job.finished_at and (datetime.now() - job.finished_at).total_seconds() > recent:
        return job
    if job.active:
        _live(ws, job.job_id, key)
    elif job.status == "done" and job.result is not None:
        when = f"{job.finished_at:%Y-%m-%d %H:%M}" if job.finished_at else ""
        st.success(f"{describe(job.result)} (job {job.job_id}, {when})", icon=":material/task_alt:")
    elif job.status == "cancelled":
        st.info(f"{job.title} was cancelled at {job.progress.text()}; what it did is kept, starting it again resumes.")
    else:
        st.error(f"{job.title} {job.status}: {job.error or 'see its log on the Jobs page'}")
        if job.log_tail:
            with st.expander("Last lines of its log"):
                st.code("\n".join(job.log_tail[-15:]), language=None)
    return job


def sidebar_jobs(ws: Workspace) -> None:
    """Running jobs in the sidebar (name, progress, time left); polls only while there are some."""
    if not running_jobs(ws):
        return

    @st.fragment(run_every=POLL_SECONDS)
    def panel() -> None:
        jobs = running_jobs(ws)
        if {j.job_id for j in jobs} != set(st.session_state.get("_jobs_running", [])):
            st.session_state["_jobs_running"] = [j.job_id for j in jobs]
            if not jobs:
                st.rerun(scope="app")  # one ended: the page shows its result, polling stops
        st.caption(f"Running jobs ({len(jobs)})")
        for job in jobs:
            st.progress(job.progress.fraction, text=f"{job.title}: {job.progress.text()}")
        st.page_link("pages/jobs.py", label="All jobs", icon=":material/work_history:")

    with st.sidebar:
        panel()


def _live(ws: Workspace, job_id: int, key: str) -> None:
    @st.fragment(run_every=POLL_SECONDS)
    def progress() -> None:
        try:
            job = next(j for j in running_jobs(ws) if j.job_id == job_id)
        except StopIteration:
            st.rerun(scope="app")
            return
        left, right = st.columns([6, 1], vertical_alignment="bottom")
        left.progress(job.progress.fraction, text=f"{job.title} (job {job.job_id}): {job.progress.text()}")
        if job.cancel_requested:
            right.caption("stopping at the next batch...")
        elif right.button("Cancel", key=f"cancel_{key}_{job_id}", icon=":material/cancel:"):
            try:
                cancel_job(ws, job_id)
            except JobError as exc:
                st.warning(str(exc))

    progress()
