"""Search: query one retriever with filters; results show title, url and the best passage highlighted."""

import html

import streamlit as st

from curation.core import document_counts
from curation.relevancy import kept_documents
from curation.retrieval import MODES, RETRIEVAL_ERRORS, filter_clause, highlight, search, searchable_retrievers
from pages.common import workspace

ws = workspace()
st.title("Search")

names = searchable_retrievers(ws)
if not names:
    st.info("No retriever has vectors yet. Embed one on the **Embed** page or run `sde-workbench embed -r minilm`.")
    st.stop()

left, middle, right = st.columns([2, 2, 1])
retriever = left.selectbox("Retriever", names)
full_text_only = ws.settings.retrievers[retriever].kind == "bm25"
mode = middle.radio("Mode", ("fts",) if full_text_only else MODES, horizontal=True, help="fts is BM25 full-text")
k = right.number_input("Results", 1, 100, 10)
query = st.text_input("Query", placeholder="sea surface temperature anomalies")

columns = st.columns(3)
chosen = {
    column: columns[i].multiselect(
        column.replace("_", " ").capitalize(), [v for v in document_counts(ws, column) if v != "(none)"]
    )
    for i, column in enumerate(("division", "document_type", "collection"))
}

kept_only = st.toggle("Only documents the relevancy filter kept", help="See the Filter & review page")
restrict_to = kept_documents(ws) if kept_only else None
if restrict_to is not None and not restrict_to:
    st.info("No document has a verdict that keeps it yet: run the filter on the **Filter & review** page.")

if not query.strip():
    st.stop()
try:
    hits = search(ws, retriever, query, k=int(k), mode=mode, where=filter_clause(**chosen), restrict_to=restrict_to)
except RETRIEVAL_ERRORS as exc:
    st.error(str(exc))
    st.stop()

if not hits:
    st.caption("No documents match.")
for hit in hits:
    url = hit.url or ""
    link = f'<a href="{html.escape(url)}">{html.escape(url)}</a>' if url.startswith(("http://", "https://")) else ""
    facets = " · ".join(html.escape(v) for v in (hit.division, hit.document_type, hit.collection) if v)
    with st.container(border=True):
        st.html(
            f"<div><b>{hit.rank}. {html.escape(hit.title or hit.doc_id)}</b> "
            f"<small>score {hit.score:.3f} · {facets}</small></div><div><small>{link}</small></div>"
            f'<div style="white-space: pre-wrap">{highlight(hit.passage, query)}</div>'
        )
