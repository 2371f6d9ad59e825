"""Embed: pick a retriever, see where it runs, start or resume its embedding, and coverage per retriever."""

import time

import pandas as pd
import streamlit as st
from tqdm import tqdm

from curation.retrieval import RETRIEVAL_ERRORS, EmbedBusy, coverage, embed
from embeddings.device import detect_device
from pages.common import workspace

ws = workspace()
st.title("Embed")
st.caption(
    "Embedding is incremental: only documents without current vectors are encoded, and a stopped run "
    "resumes where it was. Same as `sde-workbench embed --retriever NAME`."
)

rows = coverage(ws)
by_name = {row.name: row for row in rows}
name = st.selectbox("Retriever", list(by_name), format_func=lambda n: f"{n}: {by_name[n].description or n}")
chosen = by_name[name]
if last := st.session_state.get("last_embed"):
    st.success(
        f"{last['retriever']}: embedded {last['embedded']:,} documents ({last['passages']:,} passages) "
        f"on {last['device']} in {last['seconds']:.1f} s; {last['skipped']:,} were already current."
    )

if not chosen.available:
    st.warning(f"The model of {name} is not on this machine.")
    st.code(chosen.hint or "", language=None, wrap_lines=True)
else:
    configured = ws.settings.embedding.device
    left, right = st.columns(2)
    device = left.selectbox(
        "Device",
        ["auto", "cpu", "cuda", "mps"],
        index=["auto", "cpu", "cuda", "mps"].index(configured) if configured in ("auto", "cpu", "cuda", "mps") else 0,
        help=f"auto uses {detect_device()} on this machine",
        disabled=chosen.kind == "bm25",
    )
    batch_size = right.number_input("Batch size (0: fitted to the device)", 0, 4096, 0, step=8)
    if chosen.kind != "bm25":
        st.caption(f"Runs on **{detect_device() if device == 'auto' else device}**.")
    todo = chosen.stale + chosen.missing
    action = "Resume" if chosen.current else "Start"
    if st.button(f"{action} embedding: {todo:,} documents to do", type="primary", icon=":material/play_arrow:"):
        bar = st.progress(0.0, text="Loading the model...")
        started = time.monotonic()

        def report(done: int, total: int) -> None:
            meter = tqdm.format_meter(done, total, time.monotonic() - started, unit="doc")
            bar.progress(done / total if total else 1.0, text=meter)

        try:
            result = embed(
                ws, name, device=None if device == "auto" else device, batch_size=batch_size or None, progress=report
            )
        except (*RETRIEVAL_ERRORS, EmbedBusy) as exc:
            bar.empty()
            st.error(str(exc))
            st.stop()
        st.session_state["last_embed"] = result.model_dump()
        st.rerun()

st.subheader("Coverage")
frame = pd.DataFrame([row.model_dump(exclude={"description", "hint", "model"}) for row in rows])
frame["coverage"] = frame["current"] / frame["documents"].where(frame["documents"] > 0)
st.dataframe(
    frame,
    hide_index=True,
    width="stretch",
    column_config={
        "coverage": st.column_config.ProgressColumn("coverage", min_value=0.0, max_value=1.0, format="percent")
    },
)
