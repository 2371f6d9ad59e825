"""Search: query one retriever with filters; each result shows title, url and a short highlighted snippet."""

import html

import streamlit as st

from curation.core import collection_label, collection_names
from curation.relevancy import kept_documents
from curation.retrieval import (
    MODES,
    RETRIEVAL_ERRORS,
    filter_clause,
    highlight,
    search,
    searchable_retrievers,
    snippet,
)
from pages.common import facet_counts, retriever_coverage, workspace
from pages.state import keep

SCORES = {
    "vector": "cosine similarity of the query and the document's best passage (1 is identical)",
    "fts": "BM25 score of the best passage: larger is better, unbounded, comparable only within one query",
    "hybrid": "reciprocal-rank fusion of the vector and BM25 rankings, the sum of 1/(60 + rank) over both: "
    "0.033 is first in both lists, 0.016 first in one and absent from the other",
}

ws = workspace()
st.title("Search")

retrievers = searchable_retrievers(ws)
if not retrievers:
    st.info("No retriever has vectors yet. Embed one on the **Embed** page or run `sde-workbench embed -r minilm`.")
    st.stop()

left, middle, right = st.columns([2, 2, 1])
retriever = left.selectbox("Retriever", retrievers, key=keep("search_retriever", url="retriever", options=retrievers))
full_text_only = ws.settings.retrievers[retriever].kind == "bm25"
modes = ("fts",) if full_text_only else MODES
mode = middle.radio(
    "Mode", modes, horizontal=True, help="fts is BM25 full-text", key=keep("search_mode", url="mode", options=modes)
)
k = right.number_input("Results", 1, 100, key=keep("search_k", 10, parse=int))
query = st.text_input("Query", placeholder="sea surface temperature anomalies", key=keep("search_query", "", url="q"))

columns = st.columns(3)
names = collection_names(ws)
chosen = {
    column: columns[i].multiselect(
        column.replace("_", " ").capitalize(),
        [v for v in facet_counts(column) if v != "(none)"],
        format_func=lambda v, column=column: collection_label(names, v) if column == "collection" else v,
        key=keep(f"search_{column}", []),
    )
    for i, column in enumerate(("division", "document_type", "collection"))
}

kept_only = st.toggle(
    "Only documents the relevancy filter kept", help="See the Filter & review page", key="search_kept"
)
restrict_to = kept_documents(ws) if kept_only else None
if restrict_to is not None and not restrict_to:
    st.info("No document has a verdict that keeps it yet: run the filter on the **Filter & review** page.")

state = next(row for row in retriever_coverage() if row.name == retriever)
if behind := state.missing + state.stale:
    st.warning(
        f"{behind:,} of {state.documents:,} documents are not indexed for {retriever} yet "
        f"({state.missing:,} new, {state.stale:,} changed): search does not find them until they are embedded "
        "on the **Embed** page.",
        icon=":material/sync_problem:",
    )

if not query.strip():
    st.stop()
try:
    hits = search(ws, retriever, query, k=int(k), mode=mode, where=filter_clause(**chosen), restrict_to=restrict_to)
except RETRIEVAL_ERRORS as exc:
    st.error(str(exc))
    st.stop()

if not hits:
    st.caption("No documents match.")
else:
    st.caption(f"Score: {SCORES[mode]}.")
for hit in hits:
    url = hit.url or ""
    link = f'<a href="{html.escape(url)}">{html.escape(url)}</a>' if url.startswith(("http://", "https://")) else ""
    facets = " · ".join(html.escape(v) for v in (hit.division, hit.document_type, hit.collection) if v)
    with st.container(border=True):
        st.html(
            f"<div><b>{hit.rank}. {html.escape(hit.title or hit.doc_id)}</b> "
            f"<small>score {hit.score:.3f} · {facets}</small></div><div><small>{link}</small></div>"
            f"<div>{highlight(snippet(hit.passage, query), query)}</div>"
        )
