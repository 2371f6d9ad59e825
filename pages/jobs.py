"""Jobs: every background job of this workspace, its progress, log and outcome; cancel or run one again."""

import json

import pandas as pd
import streamlit as st

from curation.jobs import JobBusy, JobError, cancel_job, get_job, list_jobs, rerun_job
from pages.common import curator, workspace
from pages.team import may

ws = workspace()
st.title("Jobs")
st.caption(
    "Long work runs as a background job: a process of its own running the same command as the CLI, so it goes on "
    "when you leave a page or reload. `sde-workbench jobs list` shows the same list."
)

jobs = list_jobs(ws)
if not jobs:
    st.info("No jobs yet: embedding, maps, the LLM judge, query generation, runs and fine-tuning start one.")
    st.stop()

table = pd.DataFrame(
    {
        "job": [j.job_id for j in jobs],
        "what": [j.title for j in jobs],
        "status": [j.status for j in jobs],
        "progress": [j.progress.fraction if j.progress.total else None for j in jobs],
        "done": [j.progress.text() for j in jobs],
        "started by": [j.started_by for j in jobs],
        "created": [j.created_at for j in jobs],
        "finished": [j.finished_at for j in jobs],
    }
)
picked = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="jobs_table",
    column_config={
        "progress": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
        "created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
        "finished": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
    },
)
rows = picked.selection.rows
job_id = jobs[rows[0]].job_id if rows else jobs[0].job_id


@st.fragment(run_every=1.0 if get_job(ws, job_id).active else None)
def details() -> None:
    job = get_job(ws, job_id)
    st.subheader(f"Job {job.job_id}: {job.title}", anchor=False)
    st.code(job.command, language="bash")
    cols = st.columns(4)
    cols[0].metric("Status", job.status)
    cols[1].metric("Progress", job.progress.text())
    cols[2].metric("Started by", job.started_by)
    cols[3].metric("Process", job.pid or "-")
    # in a team's app a judge may stop or restart only their own jobs; curators and admins any job
    steer = may("filter") or job.started_by == curator()
    why = None if steer else "your role may act only on jobs you started"
    if job.active:
        st.progress(job.progress.fraction)
        stop = st.columns(2)
        if stop[0].button(
            "Cancel", icon=":material/cancel:", key="jobs_cancel", disabled=job.cancel_requested or not steer, help=why
        ):
            cancel_job(ws, job.job_id)
            st.rerun()
        if job.cancel_requested and stop[1].button(
            "Stop now", icon=":material/dangerous:", key="jobs_kill", disabled=not steer
        ):
            cancel_job(ws, job.job_id, force=True)
            st.rerun(scope="app")
    else:
        if st.button(
            "Run again",
            icon=":material/replay:",
            key="jobs_rerun",
            help=why or "resumes where it stopped",
            disabled=not steer,
        ):
            try:
                again = rerun_job(ws, job.job_id, curator())
            except (JobBusy, JobError) as exc:
                st.warning(str(exc))
            else:
                st.toast(f"Started job {again.job_id}")
                st.rerun(scope="app")
        if job.error:
            st.error(job.error)
        if job.result is not None:
            with st.expander("Result", expanded=job.status == "done"):
                st.code(json.dumps(job.result, indent=2)[:20_000], language="json")
    st.caption("Log (last lines)")
    st.code("\n".join(job.log_tail) or "(empty)", language=None)
    was_active = st.session_state.get("_jobs_was_active")
    st.session_state["_jobs_was_active"] = job.active
    if was_active and not job.active:
        st.rerun(scope="app")  # it ended: the table shows how, and polling stops


details()
