"""Embed: pick a retriever, see where it runs, start or resume its embedding job, and coverage per retriever."""

from importlib.util import find_spec

import pandas as pd
import streamlit as st

from curation.jobs import embed_job
from embeddings.device import detect_device
from pages.background import follow, start
from pages.common import curator, retriever_coverage, workspace
from pages.state import keep

DEVICES = ["auto", "cpu", "cuda", "mps"]


ws = workspace()
st.title("Embed")
st.caption(
    "Embedding is incremental: only documents without current vectors are encoded, and a stopped run "
    "resumes where it was. It runs as a background job (`sde-workbench embed --retriever NAME --background`): "
    "leaving this page does not stop it."
)

rows = retriever_coverage()
by_name = {row.name: row for row in rows}
name = st.selectbox(
    "Retriever",
    list(by_name),
    format_func=lambda n: f"{n}: {by_name[n].description or n}",
    key=keep("embed_retriever", url="retriever", options=list(by_name)),
)
chosen = by_name[name]
full_text = chosen.kind == "bm25"


def describe(result: dict) -> str:
    """What the last job did, in words that fit the retriever (bm25 builds an index, it encodes nothing)."""
    if full_text:
        done = f"indexed {result['embedded']:,} documents ({result['passages']:,} passages) for full-text search"
    else:
        done = f"embedded {result['embedded']:,} documents ({result['passages']:,} passages) on {result['device']}"
    return f"{result['retriever']}: {done} in {result['seconds']:.1f} s; {result['skipped']:,} were already current."


job = follow(ws, "embed", name, describe, key="embed")
running = job is not None and job.active

if not chosen.available:
    st.warning(f"The model of {name} is not on this machine.")
    st.code(chosen.hint or "", language=None, wrap_lines=True)
elif not running:
    todo = chosen.stale + chosen.missing
    device, batch_size, threads, engine, ray_address = "auto", 0, 0, "local", ""
    if not full_text:
        configured = ws.settings.embedding.device
        left, middle, right = st.columns(3)
        device = left.selectbox(
            "Device",
            DEVICES,
            key=keep("embed_device", configured if configured in DEVICES else "auto", options=DEVICES),
            help=f"auto uses {detect_device()} on this machine",
        )
        batch_size = middle.number_input("Batch size (0: fitted to the device)", 0, 4096, step=8, key="embed_batch")
        threads = right.number_input(
            "CPU threads (0: settings, else the cores)", 0, 512, key="embed_threads", help="torch and the tokenizer"
        )
        st.caption(f"Runs on **{detect_device() if device == 'auto' else device}**.")
        if find_spec("ray") is not None:  # the optional Ray engine (`pip install 'sde-workbench[ray]'`)
            engine_col, address_col = st.columns([1, 2])
            engine = engine_col.radio("Engine", ["local", "ray"], horizontal=True, key="embed_engine")
            if engine == "ray":
                ray_address = address_col.text_input(
                    "Ray cluster (empty: a local instance)", placeholder="auto or ray://host:10001", key="embed_ray"
                )
    if todo == 0:
        st.success(
            f"All {chosen.documents:,} documents have current {'index entries' if full_text else 'vectors'} "
            f"for {name}: nothing to do.",
            icon=":material/check_circle:",
        )
    else:
        verb = "Index" if full_text else "Resume embedding" if chosen.current else "Start embedding"
        label = f"{verb}: {todo:,} documents to do" + (f" ({chosen.stale:,} changed)" if chosen.stale else "")
        if st.button(label, type="primary", icon=":material/play_arrow:", key="embed_start"):
            spec = embed_job(
                name,
                None if device == "auto" else device,
                int(batch_size) or None,
                int(threads) or None,
                engine=engine,
                ray_address=ray_address.strip() or None,
            )
            start(ws, spec, curator())

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
