"""Compare: for one query of a set, the top-k of two rankings (live retrievers or stored runs) side by side."""

import pandas as pd
import streamlit as st

from curation.core import CuratorRequired, InputError
from curation.jobs import query_generation_job, run_job
from curation.judging import (
    ComparedDoc,
    add_query,
    allowed_documents,
    current_judgments,
    jaccard,
    judging_queue,
    label,
    load_queries,
    rankings,
    rbo,
    side_by_side,
)
from curation.llm import LLMError
from curation.retrieval import RETRIEVAL_ERRORS, NoStoredRun, highlight, snippet, stored_runs
from pages.background import follow, start
from pages.common import (
    curator,
    facet_counts,
    query_set_choice,
    ranking_choice,
    retriever_coverage,
    shared_reads,
    workspace,
)
from pages.state import keep, notify

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
kept_only = f1.toggle("Only documents the relevancy filter kept", key=keep("cmp_kept", False))
divisions = ["all", *(d for d in facet_counts("division") if d != "(none)")]
division = f2.selectbox("Division", divisions, key=keep("cmp_division", "all", options=divisions))
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
            st.session_state["cmp_query"] = new_id
            notify(f"Added {new_id} to {query_set}")
            st.rerun()


def generated(made: dict) -> str:
    """A query-generation job's result in words."""
    dequeued = f", {made['dequeued']} taken out of the judging queue" if made.get("dequeued") else ""
    return (
        f"{made['generated']} queries from {made['documents'] - made['done_before'] - made['errors']} documents "
        f"({made['done_before']} had queries already, {made['dropped']} vague ones left out, {made['errors']} failed"
        f"{dequeued})"
    )


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
            llm.with_overrides(model.strip(), base_url.strip() or None)  # a bad model name is refused here
        except LLMError as exc:
            st.error(str(exc))
            st.stop()
        spec = query_generation_job(
            query_set,
            docs=None if source == "queue" else docs,
            from_queue=source == "queue",
            model=model.strip() or None,
            base_url=base_url.strip() or None,
            per_doc=per_doc,
            division=None if division == "all" or source == "queue" else division,
            all_documents=not gen_kept,
        )
        start(ws, spec, curator())
    follow(ws, "queries", query_set, generated, key="cmp_generate", recent=600)
if queries.empty:
    st.info(f"{query_set!r} has no queries yet.")
    st.stop()


# -- one query: its reads share one database connection
@shared_reads
def one_query() -> None:
    """The query's two rankings side by side, their overlap, and the picked row's passage."""
    ids = queries["query_id"].astype(str).tolist()
    texts = dict(zip(ids, queries["text"].astype(str), strict=True))

    def step(delta: int) -> None:
        here = ids.index(st.session_state["cmp_query"]) if st.session_state.get("cmp_query") in ids else 0
        st.session_state["cmp_query"] = ids[(here + delta) % len(ids)]

    nav = st.columns([1, 6, 1], vertical_alignment="bottom")
    nav[0].button("Previous", on_click=step, args=(-1,), shortcut="P", icon=":material/arrow_back:", key="cmp_prev")
    query_id = nav[1].selectbox(
        "Query",
        ids,
        format_func=lambda q: f"{ids.index(q) + 1}/{len(ids)} · {q} · {texts[q]}",
        key=keep("cmp_query", ids[0], url="q", options=ids),
    )
    nav[2].button("Next", on_click=step, args=(1,), shortcut="N", icon=":material/arrow_forward:", key="cmp_next")
    text = texts[query_id]
    searched = {row.name: row.current for row in retriever_coverage()}
    covered = {key: searched.get(str(sources[key].retriever)) for key in (a_key, b_key) if sources[key].retriever}
    if len(covered) == 2 and len(set(covered.values())) == 2:
        st.warning(
            "The two rankings search different numbers of documents ("
            + ", ".join(f"{key}: {n:,}" for key, n in covered.items())
            + "): a document one cannot find may just not be embedded for it yet (see the **Embed** page).",
            icon=":material/rule:",
        )

    try:
        ranked_a = rankings(ws, sources[a_key], {query_id: text}, k=k, restrict_to=allowed)[query_id]
        ranked_b = rankings(ws, sources[b_key], {query_id: text}, k=k, restrict_to=allowed)[query_id]
    except EXPECTED as exc:
        st.error(str(exc))
        return
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
        """Five narrow columns, so both lists fit side by side; the rest of a row shows when it is picked."""
        return pd.DataFrame(
            {
                "#": [d.rank for d in docs],
                "moved": [moved(d) for d in docs],
                "title": [d.title or d.doc_id for d in docs],
                "score": [d.score for d in docs],
                "judged": [inline.get(d.doc_id, "") for d in docs],
            }
        )

    left_docs, right_docs = side_by_side(ws, ranked_a, ranked_b)
    config = {
        "#": st.column_config.NumberColumn(width=40),
        "moved": st.column_config.TextColumn(width=80, help="ranks gained here compared with the other list"),
        "title": st.column_config.TextColumn(width="large"),
        "score": st.column_config.NumberColumn(format="%.3f", width=60),
        "judged": st.column_config.TextColumn(width="small", help="judgments already made (annotator: grade)"),
    }
    st.caption("Query")
    st.text(text)
    picked: ComparedDoc | None = None
    left, right = st.columns(2)
    for side, (column, key, docs) in enumerate(((left, a_key, left_docs), (right, b_key, right_docs))):
        with column:
            st.subheader(key, anchor=False)
            if not docs:
                st.caption("No documents.")
                continue
            event = st.dataframe(
                table(docs),
                hide_index=True,
                width="stretch",
                column_config=config,
                on_select="rerun",
                selection_mode="single-row",
                key=f"cmp_table_{side}_{query_id}",
            )
            if event.selection.rows:
                picked = docs[event.selection.rows[0]]
    if picked is None:
        st.caption("Pick a row to read its url, passage and judgments.")
    else:
        with st.container(border=True):
            st.text(picked.title or picked.doc_id)
            st.text(picked.url or picked.doc_id)
            if picked.doc_id in inline:
                st.caption(f"Judged: {inline[picked.doc_id]}")
            st.html(f"<div>{highlight(snippet(picked.passage, text, width=700), text)}</div>")


one_query()
with st.expander("Freeze a ranking: store a retriever's top k for every query of this set", icon=":material/save:"):
    live = [key for key, source in sources.items() if source.retriever]
    if not live:
        st.caption("No live retriever: embed one first.")
    else:
        f = st.columns([2, 2, 1])
        freeze = f[0].selectbox("Retriever", live, key=keep("cmp_freeze", live[0], options=live))
        run_name = f[1].text_input("Run name", f"{freeze.replace('/', '-')}:{query_set}", key="cmp_run_name")
        run_k = int(f[2].number_input("Depth", 1, 1000, 100, key="cmp_run_k"))
        if st.button("Store run", key="cmp_store", icon=":material/save:"):
            source = sources[freeze]
            spec = run_job(str(source.retriever), query_set, k=run_k, name=run_name.strip() or None, mode=source.mode)
            start(ws, spec, curator())
        stored = run_name.strip() or f"{sources[freeze].retriever}:{query_set}"
        follow(
            ws,
            "run",
            stored,
            lambda r: (
                f"Stored run:{r['run']} ({r['queries']} queries, top {r['k']})"
                + (", frozen" if run_name.strip() else "")
            ),
            key="cmp_run",
        )
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
