"""Compare: for one query of a set, the top-k of two rankings (live retrievers or stored runs) side by side."""

import pandas as pd
import streamlit as st

from curation.core import CuratorRequired, InputError, document_counts
from curation.judging import (
    ComparedDoc,
    add_query,
    allowed_documents,
    current_judgments,
    generate_queries,
    jaccard,
    judging_queue,
    label,
    load_queries,
    pick_documents,
    queued_documents,
    rankings,
    rbo,
    side_by_side,
)
from curation.llm import LLMError
from curation.retrieval import RETRIEVAL_ERRORS, NoStoredRun, make_run, stored_runs
from pages.common import curator, query_set_choice, ranking_choice, run_with_progress, workspace

EXPECTED = (*RETRIEVAL_ERRORS, NoStoredRun)

ws = workspace()
settings = ws.settings.judging
st.title("Compare")
st.caption(
    "Which retriever gets this query right? Both top-k lists side by side: documents in both lists are marked, "
    "with how many ranks each moved; overlap is Jaccard@k and rank-biased overlap (top ranks weigh most)."
)

query_set = query_set_choice("cmp_set")
sources, a_key, b_key, k = ranking_choice(query_set, "cmp", ("Left ranking", "Right ranking"))
f1, f2 = st.columns(2)
kept_only = f1.toggle("Only documents the relevancy filter kept", key="cmp_kept")
divisions = [d for d in document_counts(ws, "division") if d != "(none)"]
division = f2.selectbox("Division", ["all", *divisions], key="cmp_division")
allowed = allowed_documents(ws, kept_only=kept_only, division=None if division == "all" else division)

queries = load_queries(ws, query_set)
with st.expander("Add a query to this set", icon=":material/add:"):
    typed = st.text_input("Query", key="cmp_new_query", placeholder="MODIS aerosol optical depth at 3 km")
    if st.button("Add", key="cmp_add", disabled=not typed.strip()):
        try:
            new_id = add_query(ws, query_set, typed, curator=curator())
        except (InputError, CuratorRequired) as exc:
            st.error(str(exc))
        else:
            st.session_state["cmp_query"] = load_queries(ws, query_set)["query_id"].tolist().index(new_id)
            st.rerun()
with st.expander("Generate queries with the LLM for documents", icon=":material/smart_toy:"):
    llm = ws.settings.llm
    queued = len(judging_queue(ws))
    with st.form("cmp_generate"):
        source = st.radio(
            "Documents",
            ["sample", "queue"],
            format_func={"sample": "a seeded sample", "queue": f"queued for judging on the Map page ({queued})"}.get,
            horizontal=True,
            key="cmp_gen_source",
        )
        g = st.columns([2, 1, 1])
        model = g[0].text_input("Model (PROVIDER:MODEL)", llm.model_id, key="cmp_gen_model")
        docs = int(g[1].number_input("Documents", 1, 1000, 10, key="cmp_gen_docs"))
        per_doc = int(g[2].number_input("Queries each", 1, 10, settings.queries_per_document, key="cmp_gen_per"))
        base_url = st.text_input(
            "Base URL", llm.base_url or "", key="cmp_gen_url", placeholder="http://127.0.0.1:8000/v1"
        )
        gen_kept = st.toggle("Only documents the relevancy filter kept", value=True, key="cmp_gen_kept")
        generate = st.form_submit_button(f"Generate into {query_set!r}")
    st.caption("The same as `sde-workbench queries generate`; keys come from environment variables only.")
    if generate:
        try:
            chosen = llm.with_overrides(model.strip(), base_url.strip() or None)
            if source == "queue":
                doc_ids = queued_documents(ws)
            else:
                doc_ids = pick_documents(ws, docs, division=None if division == "all" else division, kept_only=gen_kept)
        except (LLMError, InputError) as exc:
            st.error(str(exc))
            st.stop()
        made = run_with_progress(
            lambda progress: generate_queries(
                ws, chosen, query_set, doc_ids, per_document=per_doc, progress=progress, dequeue=source == "queue"
            ),
            (LLMError,),
            "Writing queries: {done}/{total} documents",
        )
        st.success(
            f"{made.generated} queries from {made.documents - made.done_before - made.errors} documents "
            f"({made.done_before} had queries already, {made.dropped} vague ones left out, {made.errors} failed"
            + (f", {made.dequeued} taken out of the judging queue)" if source == "queue" else ")")
        )
        queries = load_queries(ws, query_set)
if queries.empty:
    st.info(f"{query_set!r} has no queries yet.")
    st.stop()


def step(delta: int) -> None:
    st.session_state["cmp_query"] = (st.session_state.get("cmp_query", 0) + delta) % len(queries)


if st.session_state.get("cmp_query", 0) >= len(queries):
    st.session_state["cmp_query"] = 0
nav = st.columns([1, 6, 1], vertical_alignment="bottom")
nav[0].button("Previous", on_click=step, args=(-1,), shortcut="P", icon=":material/arrow_back:", key="cmp_prev")
position = nav[1].selectbox(
    "Query",
    range(len(queries)),
    format_func=lambda i: f"{i + 1}/{len(queries)} · {queries['query_id'].iloc[i]} · {queries['text'].iloc[i]}",
    key="cmp_query",
)
nav[2].button("Next", on_click=step, args=(1,), shortcut="N", icon=":material/arrow_forward:", key="cmp_next")
query_id, text = str(queries["query_id"].iloc[position]), str(queries["text"].iloc[position])

try:
    ranked_a = rankings(ws, sources[a_key], {query_id: text}, k=k, restrict_to=allowed)[query_id]
    ranked_b = rankings(ws, sources[b_key], {query_id: text}, k=k, restrict_to=allowed)[query_id]
except EXPECTED as exc:
    st.error(str(exc))
    st.stop()
ids_a, ids_b = [d for d, _, _ in ranked_a], [d for d, _, _ in ranked_b]
m = st.columns(4)
m[0].metric(f"Jaccard@{k}", f"{jaccard(ids_a, ids_b):.2f}")
m[1].metric(f"RBO (p={settings.rbo_p})", f"{rbo(ids_a, ids_b, settings.rbo_p):.2f}")
m[2].metric("In both lists", len(set(ids_a) & set(ids_b)))
m[3].metric("In one list only", len(set(ids_a) ^ set(ids_b)))

judged = current_judgments(ws, query_set, query_id=query_id)
inline = {
    doc_id: "; ".join(f"{r.annotator}: {label(r.kind, r.grade)}" for r in part.itertuples())
    for doc_id, part in judged.groupby("doc_id")
}


def moved(doc: ComparedDoc) -> str:
    if doc.moved is None:
        return "only here"
    return "=" if doc.moved == 0 else f"▲{doc.moved}" if doc.moved > 0 else f"▼{-doc.moved}"


def table(docs: list[ComparedDoc]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [d.rank for d in docs],
            "lists": ["both" if d.in_both else "one" for d in docs],
            "moved": [moved(d) for d in docs],
            "other rank": [d.other_rank for d in docs],
            "title": [d.title for d in docs],
            "url": [d.url or d.doc_id for d in docs],
            "score": [d.score for d in docs],
            "judgments": [inline.get(d.doc_id, "") for d in docs],
            "passage": [d.passage for d in docs],
        }
    )


left_docs, right_docs = side_by_side(ws, ranked_a, ranked_b)
config = {
    "moved": st.column_config.TextColumn(help="ranks gained here compared with the other list"),
    "score": st.column_config.NumberColumn(format="%.3f"),
    "passage": st.column_config.TextColumn(width="large"),
}
st.caption("Query")
st.text(text)
left, right = st.columns(2)
for column, key, docs in ((left, a_key, left_docs), (right, b_key, right_docs)):
    with column:
        st.subheader(key, anchor=False)
        if not docs:
            st.caption("No documents.")
        else:
            st.dataframe(table(docs), hide_index=True, width="stretch", column_config=config)

with st.expander("Freeze a ranking: store a retriever's top k for every query of this set", icon=":material/save:"):
    live = [key for key, source in sources.items() if source.retriever]
    if not live:
        st.caption("No live retriever: embed one first.")
    else:
        f = st.columns([2, 2, 1])
        freeze = f[0].selectbox("Retriever", live, key="cmp_freeze")
        run_name = f[1].text_input("Run name", f"{freeze.replace('/', '-')}:{query_set}", key="cmp_run_name")
        run_k = int(f[2].number_input("Depth", 1, 1000, 100, key="cmp_run_k"))
        if st.button("Store run", key="cmp_store", icon=":material/save:"):
            source = sources[freeze]
            summary = run_with_progress(
                lambda progress: make_run(
                    ws,
                    str(source.retriever),
                    query_set,
                    k=run_k,
                    name=run_name.strip() or None,
                    mode=source.mode,
                    progress=progress,
                ),  # fmt: skip
                EXPECTED,
                "Ranking {done}/{total} queries",
            )
            st.success(f"Stored run:{summary.run} ({summary.queries} queries, top {summary.k}), frozen")
    runs = stored_runs(ws, query_set)
    if runs:
        st.caption(
            "Stored runs of this set. A frozen run (stored under a name) stays as it is and is used when asked for "
            "by name; the others are a retriever's current run, remade when its model, settings, vectors or queries "
            "change."
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {"run": r.name, "ranking": f"{r.retriever}/{r.mode}", "top k": r.k, "frozen": r.frozen,
                     "made": r.created_at, "queries": r.queries}
                    for r in runs
                ]
            ),
            hide_index=True,
            width="stretch",
        )  # fmt: skip
