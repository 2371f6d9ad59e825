"""Load: upload a file or point at a path, see how its fields map onto documents, check every row, ingest."""

from pathlib import Path
from typing import get_args

import pandas as pd
import streamlit as st

from curation.core import DIVISIONS, DOCUMENT_TYPES, InputError
from curation.ingest import DOC_FIELDS, FormatChoice, IngestOptions, ingest, preview, validate
from curation.jobs import ingest_job
from pages.background import follow, start
from pages.common import curator, run_with_progress, workspace
from pages.state import keep
from pages.team import readable_path

FROM_FILE = "(as in the file)"
SOURCES = ["Upload a file", "Path on this machine"]

ws = workspace()
st.title("Load content")
st.caption(
    "Crawler JSON, indexer `documents.jsonl` (with its `manifest.json`), legacy index dumps (Parquet), "
    "COSMOS URL lists, BEIR `corpus.jsonl`, or any CSV/Parquet/JSONL with a column mapping. "
    f"Files over {ws.settings.jobs.background_ingest_mb:g} MB are ingested as a background job. "
    "Large files: give a path instead of uploading."
)

source = st.radio("Source", SOURCES, horizontal=True, key=keep("load_source", SOURCES[0], options=SOURCES))
path: Path | None = None
if source == SOURCES[0]:
    upload = st.file_uploader("File", type=["jsonl", "ndjson", "json", "csv", "tsv", "parquet"])
    if upload is not None:
        uploads = ws.root / "uploads"
        uploads.mkdir(exist_ok=True)
        path = uploads / Path(upload.name).name
        if not path.exists() or path.stat().st_size != upload.size:
            path.write_bytes(upload.getbuffer())
else:
    typed = st.text_input("File or folder path", placeholder="/data/sde/documents.jsonl", key=keep("load_path", ""))
    path = readable_path(ws, Path(typed).expanduser()) if typed.strip() else None  # a team's app: allowed folders

st.caption("Set for the whole file (the file's own values are used where left as they are):")
left, middle, right, last = st.columns(4)
formats = list(get_args(FormatChoice))
fmt = left.selectbox(
    "Format", formats, key=keep("load_format", "auto", options=formats), help="auto detects it from the records"
)
collection = middle.text_input("Collection", key=keep("load_collection", ""), help="e.g. NASA POWER")
division = right.selectbox("Division", [FROM_FILE, *DIVISIONS], key=keep("load_division", FROM_FILE))
document_type = last.selectbox("Document type", [FROM_FILE, *DOCUMENT_TYPES], key=keep("load_type", FROM_FILE))
with st.expander("Column mapping (generic CSV / Parquet / JSONL)"):
    st.caption("Leave blank to use the usual column names (id, url, title, text/full_text/body, ...).")
    mapping_cols = st.columns(4)
    column_map = {
        field: value.strip()
        for i, field in enumerate(DOC_FIELDS)
        if (value := mapping_cols[i % 4].text_input(field, key=keep(f"map_{field}", "")))
    }
options = IngestOptions(
    format=fmt,
    collection=collection.strip() or None,
    division=None if division == FROM_FILE else division,
    document_type=None if document_type == FROM_FILE else document_type,
    column_map=column_map,
)

if path is None:
    st.stop()

try:
    shown = preview(ws, path, options)
    size = sum(p.stat().st_size for p in ([path] if path.is_file() else path.rglob("*") if path.is_dir() else []))
except (InputError, OSError) as exc:
    st.error(str(exc))
    st.stop()
large = size > ws.settings.jobs.background_ingest_mb * 1e6

st.subheader(f"Preview ({shown.format.value})")
mapping = pd.DataFrame(
    {"document field": list(DOC_FIELDS), "comes from": [shown.fields.get(f, "(nothing)") for f in DOC_FIELDS]}
)
m_left, m_right = st.columns([1, 2])
with m_left:
    st.caption("Field mapping")
    st.dataframe(mapping, hide_index=True, width="stretch", key="load_mapping")
with m_right:
    st.caption("Kept in `metadata`: " + (", ".join(f"`{k}`" for k in shown.metadata) or "nothing"))
    if shown.rows:
        frame = pd.DataFrame(shown.rows)
        frame["text"] = frame["text"].fillna("").str.slice(0, 200)
        if options.collection:  # shown as typed; the documents carry its key
            frame["collection"] = options.collection
        st.dataframe(
            frame[["doc_id", "title", "division", "document_type", "collection", "url", "text"]],
            hide_index=True,
            width="stretch",
            height=240,
            key="load_preview",
        )
        st.caption(f"The first {len(shown.rows):,} rows as they would land.")


@st.cache_data(max_entries=8, show_spinner="Checking every row...")
def check(file: str, mtime: float, size: int, options_json: str) -> dict:
    """Every row checked as ingest would; keyed by the file's state and the options."""
    return validate(ws, Path(file), IngestOptions.model_validate_json(options_json)).model_dump()


key = (str(path), path.stat().st_mtime, size, options.model_dump_json())
checked = check(*key) if not large or st.toggle("Check every row first", key="load_check_large") else None
if checked:
    st.caption("Every row checked" if checked["checked_all"] else f"The first {checked['rows']:,} rows checked")
    c = st.columns(5)
    c[0].metric("Rows", f"{checked['rows']:,}")
    c[1].metric("Would land", f"{checked['valid']:,}")
    c[2].metric("Rejected", f"{checked['rejected']:,}")
    c[3].metric("Duplicate ids", f"{checked['duplicates']:,}", help="the first one is kept")
    c[4].metric("Empty texts", f"{checked['empty_texts']:,}")
    if checked["reasons"]:
        st.warning("Rows that would be rejected, by reason (the ingest writes them to a rejects file):")
        reasons = pd.DataFrame({"reason": list(checked["reasons"]), "rows": list(checked["reasons"].values())})
        st.dataframe(reasons, hide_index=True, key="load_reasons")
    if checked["duplicate_ids"]:
        st.caption("Duplicate ids: " + ", ".join(checked["duplicate_ids"][:10]))


def landed(last: dict) -> str:
    return (
        f"Read {last['read']:,}: {last['inserted']:,} new, {last['updated']:,} updated, {last['unchanged']:,} "
        f"unchanged, {last['rejected']:,} rejected ({last['duplicates']:,} duplicate ids)."
    )


label = "Ingest as a background job" if large else "Ingest"
if st.button(label, type="primary", icon=":material/download:", key="load_ingest"):
    if large:  # reruns the page, which then follows the job; says so if one is already running for the file
        fields = options.model_dump(include={"collection", "division", "document_type", "column_map"})
        start(ws, ingest_job([path.resolve()], **fields, format=fmt), curator())
    else:
        result = run_with_progress(lambda progress: ingest(ws, [path], options, progress), (InputError,), "Reading...")
        st.session_state["last_ingest"] = {"path": str(path), **result.model_dump()}

follow(ws, "ingest", str(path.resolve()), landed, key="load_job")
last = st.session_state.get("last_ingest")
if last and last["path"] == str(path):  # the results of this file only, not of the one chosen before
    cols = st.columns(5)
    for col, name in zip(cols, ("read", "inserted", "updated", "unchanged", "rejected"), strict=True):
        col.metric(name.capitalize(), f"{last[name]:,}")
    if options.collection:
        st.caption(f"Collection: {options.collection}")
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
