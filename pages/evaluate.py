"""Evaluate: stored runs against judgments, with significance, per-query drill-down, divisions and reports."""

import contextlib

import pandas as pd
import plotly.express as px
import streamlit as st

from curation.evaluation import (
    ALL_CURATORS,
    DEFAULT_METRICS,
    EvaluationError,
    JudgmentsError,
    by_division,
    drill_down,
    evaluate_runs,
    judgment_sources,
    marked_table,
    report,
)
from curation.jobs import JobBusy, run_job, start_job
from curation.retrieval import RETRIEVAL_ERRORS, NoStoredRun, searchable_retrievers, stored_runs
from pages.background import follow
from pages.common import curator, query_set_choice, workspace

EXTRA_METRICS = ("map", "mrr@10", "ndcg@3", "ndcg@20", "ndcg@100", "recall@10", "recall@20", "precision@10")


def ran(result: dict) -> str:
    return f"Stored run:{result['run']} ({result['queries']} queries, top {result['k']})"


ws = workspace()
settings = ws.settings.evaluation
st.title("Evaluate")
st.caption(
    "Scores each retriever's latest stored run against judgments. NDCG uses grades as gains; MRR, recall, "
    "MAP and precision count a document relevant from the threshold grade up."
)

query_set = query_set_choice()
stored = [r["retriever"] for r in stored_runs(ws, query_set)]
retrievers = list(dict.fromkeys([*stored, *searchable_retrievers(ws)]))
sources = judgment_sources(ws, query_set)
if not retrievers:
    st.info(
        f"Nothing to evaluate on {query_set!r} yet: embed a retriever on the **Embed** page "
        f"(`sde-workbench embed -r minilm`), or store a run with `sde-workbench run -r NAME --queries {query_set}`."
    )
    st.stop()
if not sources:
    st.info(f"{query_set!r} has no judgments yet: judge it, or import a benchmark's qrels.")
    st.stop()

left, right = st.columns(2)
chosen = left.multiselect(
    "Retrievers",
    retrievers,
    default=retrievers[:2],
    help="Each retriever's newest stored run on this set; one without a run is run on the set first (top 100) "
    "and the run is kept.",
)
judgments = right.selectbox(
    "Judgments",
    sources,
    help=f"'{ALL_CURATORS}': every curator's grade on a pair averaged and rounded half up (benchmarks left out).",
)
metrics = st.multiselect(
    "Metrics",
    list(dict.fromkeys([*settings.metrics, *DEFAULT_METRICS, *EXTRA_METRICS])),
    default=settings.metrics,
    accept_new_options=True,
    help="ranx names: ndcg@K, mrr@K, recall@K, map, precision@K, ...",
)
left, right = st.columns(2)
threshold = left.number_input("Relevance threshold (binary metrics)", 1, 3, settings.threshold)
test = right.radio(
    "Significance test",
    ["student", "fisher"],
    index=["student", "fisher"].index(settings.test),
    format_func={"student": "paired t-test", "fisher": "Fisher randomization"}.get,
    horizontal=True,
)

# A retriever without a stored run on the set is run first, as a background job per retriever; the page follows
# them and evaluates (which takes seconds) once they are done.
if st.button("Evaluate", type="primary", icon=":material/analytics:", disabled=not chosen):
    st.session_state["evaluate_request"] = chosen
    for name in sorted(set(chosen) - set(stored)):
        with contextlib.suppress(JobBusy):  # already being run: the page follows that job
            start_job(ws, run_job(name, query_set), curator())
if request := st.session_state.get("evaluate_request"):
    runs = [follow(ws, "run", f"{name}:{query_set}", ran, key=f"eval_{name}") for name in request if name not in stored]
    if any(job is not None and job.active for job in runs):
        st.stop()
    del st.session_state["evaluate_request"]
    if any(job is not None and job.status != "done" for job in runs):
        st.stop()  # a run failed or was cancelled: its message is above
    try:
        st.session_state["evaluation"] = evaluate_runs(
            ws, request, query_set, judgments=judgments, metrics=metrics, threshold=int(threshold), test=test
        )
    except (EvaluationError, JudgmentsError, NoStoredRun, *RETRIEVAL_ERRORS) as exc:
        st.error(str(exc))
        st.stop()

result = st.session_state.get("evaluation")
if result is None or result.query_set != query_set:
    st.stop()

st.subheader("Results")
st.dataframe(marked_table(result), hide_index=True, width="stretch")
st.caption(
    f"{result.queries} queries, judgments {result.judgments}. A letter after a score: significantly better than "
    f"that retriever ({'paired t-test' if result.test == 'student' else 'Fisher randomization'}, "
    f"p <= {result.max_p}). Binary metrics count grades >= {result.threshold}."
)
if result.significance:
    with st.expander("p-values"):
        st.dataframe(pd.DataFrame([s.model_dump() for s in result.significance]), hide_index=True, width="stretch")

names = list(result.metrics)
downloads = st.columns(3)
for column, (fmt, label, extension, mime) in zip(
    downloads,
    [
        ("csv", "CSV", "csv", "text/csv"),
        ("markdown", "Markdown", "md", "text/markdown"),
        ("latex", "LaTeX", "tex", "text/x-tex"),
    ],
    strict=True,
):
    column.download_button(
        f"Report as {label}",
        report(result, fmt),
        file_name=f"evaluation-{query_set}.{extension}",
        mime=mime,
        icon=":material/download:",
    )

if len(names) >= 2:
    st.subheader("Per query")
    cols = st.columns(3)
    a = cols[0].selectbox("Retriever A", names, index=0)
    b = cols[1].selectbox("Retriever B", names, index=1)
    metric = cols[2].selectbox("Metric", list(result.metrics[a]))
    if a == b:
        st.info("Pick two different retrievers.")
    else:
        frame = drill_down(result, a, b, metric)
        counts = frame["change"].value_counts()
        stats = st.columns(3)
        for column, change in zip(stats, ("better", "worse", "same"), strict=True):
            column.metric(f"{b} {change}" if change != "same" else "Same", int(counts.get(change, 0)))
        figure = px.scatter(
            frame,
            x=a,
            y=b,
            color="change",
            hover_data=["query_id", "division"],
            color_discrete_map={"better": "#2e7d32", "worse": "#c62828", "same": "#9e9e9e"},
        )
        top = max(1.0, frame[a].max(), frame[b].max())
        figure.add_shape(type="line", x0=0, y0=0, x1=top, y1=top, line={"dash": "dot", "color": "#888"})
        figure.update_layout(xaxis_title=f"{a} {metric}", yaxis_title=f"{b} {metric}", height=460)
        st.plotly_chart(figure, width="stretch")
        st.dataframe(frame, hide_index=True, width="stretch")

st.subheader("Per division")
st.caption(
    "A query's division is its own `division` metadata, else the most common division of its relevant documents."
)
st.dataframe(by_division(result), hide_index=True, width="stretch")
