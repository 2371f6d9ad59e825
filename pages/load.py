"""Load: upload a file or point at a path, preview how rows map onto documents, ingest, get the rejects."""

from pathlib import Path
from typing import get_args

import pandas as pd
import streamlit as st

from curation.core import InputError
from curation.ingest import DOC_FIELDS, FormatChoice, IngestOptions, ingest, preview
from pages.common import run_with_progress, workspace

ws = workspace()
st.title("Load content")
st.caption(
    "Crawler JSON, indexer `documents.jsonl` (with its `manifest.json`), legacy index dumps (Parquet), "
    "COSMOS URL lists, BEIR `corpus.jsonl`, or any CSV/Parquet/JSONL with a column mapping. "
    "Large files: give a path instead of uploading."
)

source = st.radio("Source", ["Upload a file", "Path on this machine"], horizontal=True)
path: Path | None = None
if source == "Upload a file":
    upload = st.file_uploader("File", type=["jsonl", "ndjson", "json", "csv", "tsv", "parquet"])
    if upload is not None:
        uploads = ws.root / "uploads"
        uploads.mkdir(exist_ok=True)
        path = uploads / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
else:
    typed = st.text_input("File or folder path", placeholder="/data/sde/documents.jsonl", key="load_path")
    path = Path(typed).expanduser() if typed.strip() else None

left, right = st.columns(2)
fmt = left.selectbox("Format", get_args(FormatChoice), help="auto detects the shape from the first record")
collection = right.text_input("Collection (optional)", help="Assign every row to this collection")
with st.expander("Column mapping (generic CSV / Parquet / JSONL)"):
    st.caption("Leave blank to use the usual column names (id, url, title, text/full_text/body, ...).")
    mapping_cols = st.columns(4)
    column_map = {
        field: value.strip()
        for i, field in enumerate(DOC_FIELDS)
        if (value := mapping_cols[i % 4].text_input(field, key=f"map_{field}"))
    }
options = IngestOptions(format=fmt, collection=collection.strip() or None, column_map=column_map)

if path is None:
    st.stop()

try:
    shown = preview(ws, path, options)
except (InputError, OSError) as exc:
    st.error(str(exc))
    st.stop()

st.subheader(f"Preview ({shown.format.value})")
if shown.rows:
    frame = pd.DataFrame(shown.rows)
    frame["text"] = frame["text"].fillna("").str.slice(0, 200)
    st.dataframe(
        frame[["doc_id", "title", "division", "document_type", "collection", "url", "text"]],
        hide_index=True,
        width="stretch",
    )
if shown.rejects:
    st.warning(f"{len(shown.rejects)} of the first rows would be rejected")
    st.dataframe(pd.DataFrame([r.model_dump() for r in shown.rejects]), hide_index=True, width="stretch")

if st.button("Ingest", type="primary", icon=":material/download:"):
    result = run_with_progress(lambda progress: ingest(ws, [path], options, progress), (InputError,), "Reading...")
    st.session_state["last_ingest"] = result.model_dump()

if last := st.session_state.get("last_ingest"):
    cols = st.columns(5)
    for col, key in zip(cols, ("read", "inserted", "updated", "unchanged", "rejected"), strict=True):
        col.metric(key.capitalize(), f"{last[key]:,}")
    if last["duplicates"]:
        st.caption(f"{last['duplicates']:,} duplicate ids inside the input were rejected (first one kept).")
    if last["rejects_file"] and Path(last["rejects_file"]).exists():
        st.download_button(
            "Download rejects (CSV)",
            Path(last["rejects_file"]).read_bytes(),
            file_name=Path(last["rejects_file"]).name,
            mime="text/csv",
            icon=":material/download:",
        )
