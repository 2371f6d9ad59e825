"""Evaluate: retrievers' runs against judgments, with significance, per-query drill-down, divisions, reports, and
the leaderboard across benchmarks."""

import contextlib
from collections.abc import Callable

import pandas as pd
import plotly.express as px
import streamlit as st

from curation.core import ProgressEstimate
from curation.evaluation import (
    ALL_CURATORS,
    DEFAULT_METRICS,
    LEADERBOARD_METRICS,
    TEST_NAMES,
    Benchmark,
    EvaluationError,
    JudgmentsError,
    by_division,
    default_judgments,
    describe,
    drill_down,
    evaluate_runs,
    judged_queries,
    leaderboard,
    leaderboard_frame,
    marked_table,
    render_leaderboard,
    report,
    set_splits,
)
from curation.jobs import JobBusy, run_job, start_job
from curation.judging import query_sets
from curation.retrieval import RETRIEVAL_ERRORS, NoStoredRun, current_run, searchable_retrievers, stored_runs
from pages.background import follow
from pages.common import curator, query_set_choice, workspace

EXTRA_METRICS = ("map", "mrr@10", "ndcg@3", "ndcg@20", "ndcg@100", "recall@10", "recall@20", "precision@10")
EXPECTED = (EvaluationError, JudgmentsError, NoStoredRun, *RETRIEVAL_ERRORS)


def ran(result: dict) -> str:
    return f"Stored run:{result['run']} ({result['queries']} queries, top {result['k']})"


ws = workspace()
settings = ws.settings.evaluation
st.title("Evaluate")
st.caption(
    "Scores each retriever on a run made with its current model, settings, vectors and queries (made first when "
    "there is none), or a frozen run asked for by name. NDCG uses grades as gains; MRR, recall, MAP and precision "
    "count a document relevant from the threshold grade up."
)


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A bar with the time left for the runs being made (each run starts its own estimate)."""
    slot = st.empty()  # the bar appears only when a run is being made
    estimate = ProgressEstimate("queries ranked")

    def update(done: int, total: int) -> None:
        nonlocal estimate
        if done == 0:
            estimate = ProgressEstimate("queries ranked")
        slot.progress(done / max(total, 1), text=f"{label}: {estimate.text(done, total)}")

    return update


FORMATS = {"csv": ("CSV", "csv", "text/csv"), "markdown": ("Markdown", "md", "text/markdown")}
FORMATS["latex"] = ("LaTeX", "tex", "text/x-tex")


def download_buttons(what: str, file_stem: str, render: Callable[[str], str], formats: tuple[str, ...]) -> None:
    """One download button per format, side by side."""
    for column, fmt in zip(st.columns(len(formats)), formats, strict=True):
        label, extension, mime = FORMATS[fmt]
        column.download_button(
            f"{what} as {label}",
            render(fmt),
            file_name=f"{file_stem}.{extension}",
            mime=mime,
            icon=":material/download:",
        )


def rankers(query_set: str) -> dict[str, str]:
    """What can be evaluated on a set, with how it is listed: live retrievers, retrievers that only have stored
    runs, and frozen runs (by name, with their date)."""
    runs = stored_runs(ws, query_set)
    found = {name: name for name in searchable_retrievers(ws)}
    for run in runs:
        if run.retriever not in ws.settings.retrievers:
            found.setdefault(run.retriever, f"{run.retriever} (stored runs only)")
    for run in runs:
        if run.frozen:
            found.setdefault(run.name, f"run {run.label}")
    return found


query_set = query_set_choice()
options = rankers(query_set)
live = set(searchable_retrievers(ws))
counts = judged_queries(ws, query_set)
if not options:
    st.info(
        f"Nothing to evaluate on {query_set!r} yet: embed a retriever on the **Embed** page "
        f"(`sde-workbench embed -r minilm`), or store a run with `sde-workbench run -r NAME --queries {query_set}`."
    )
    st.stop()
if not counts:
    st.info(f"{query_set!r} has no judgments yet: judge it, or import a benchmark's qrels.")
    st.stop()

splits = set_splits(ws, query_set)
left, right = st.columns(2)
chosen = left.multiselect(
    "Retrievers",
    list(options),
    default=list(options)[:2],
    format_func=options.get,
    help="A retriever is scored on its newest run that matches it as it is now (a fresh top-100 run is made when "
    "there is none, and kept); a frozen run is used as it is.",
)
default_source = default_judgments(ws, query_set)
sources = list(counts)
judgments = right.selectbox(
    "Judgments",
    sources,
    index=sources.index(default_source),
    format_func=lambda s: f"{s} ({counts[s]} queries)",
    help=f"Default: the source that judged the most queries of the set. '{ALL_CURATORS}': every curator's grade "
    "on a pair averaged and rounded half up (benchmarks left out).",
)
chosen_splits = st.multiselect(
    "Splits",
    list(splits),
    format_func=lambda s: f"{s} ({len(splits[s])} queries)",
    help="The set's own splits, one per qrels file of its benchmark import. None chosen: the whole set.",
    disabled=not splits,
    placeholder="whole set" if splits else "this set has no splits",
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
    format_func=TEST_NAMES.get,
    horizontal=True,
)

# A registered retriever without a current run on the set (one matching its model, settings, vectors and the
# set's queries) is run first, as a background job per retriever; the page follows them and evaluates (seconds)
# once they are done. A metric deeper than the jobs' top 100 makes its deeper run inline, with a bar.
if st.button("Evaluate", type="primary", icon=":material/analytics:", disabled=not chosen):
    to_run = [name for name in chosen if name in live and current_run(ws, name, query_set) is None]
    st.session_state["evaluate_request"] = (chosen, to_run)
    for name in to_run:
        with contextlib.suppress(JobBusy):  # already being run: the page follows that job
            start_job(ws, run_job(name, query_set), curator())
if request := st.session_state.get("evaluate_request"):
    asked, to_run = request
    runs = [follow(ws, "run", f"{name}:{query_set}", ran, key=f"eval_{name}") for name in to_run]
    if any(job is not None and job.active for job in runs):
        st.stop()
    del st.session_state["evaluate_request"]
    if any(job is not None and job.status != "done" for job in runs):
        st.stop()  # a run failed or was cancelled: its message is above
    try:
        st.session_state["evaluation"] = evaluate_runs(
            ws,
            asked,
            query_set,
            judgments=judgments,
            metrics=metrics,
            threshold=int(threshold),
            test=test,
            splits=chosen_splits or None,
            progress=progress_bar("Making runs"),
        )
    except EXPECTED as exc:
        st.error(str(exc))
        st.stop()

result = st.session_state.get("evaluation")
if result is not None and result.query_set == query_set:
    st.subheader("Results")
    for warning in result.warnings:
        st.warning(warning, icon=":material/warning:")
    st.dataframe(marked_table(result), hide_index=True, width="stretch")
    st.caption(
        f"{result.queries} of {result.set_queries} queries evaluated, judgments {result.judgments}"
        + (f", splits {', '.join(result.splits)}" if result.splits else "")
        + f". A letter after a score: significantly better than that retriever ({TEST_NAMES[result.test]}, "
        f"p <= {result.max_p}). Binary metrics count grades >= {result.threshold}."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "retriever": name,
                    "run": used.run,
                    "mode": used.mode,
                    "top k": used.k,
                    "made": used.created_at,
                    "kind": "frozen" if used.frozen else "made now" if used.made else "current",
                    "note": used.note or "",
                }
                for name, used in result.runs.items()
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    if result.skipped_queries:
        with st.expander(f"Skipped queries ({len(result.skipped_queries)})"):
            st.dataframe(pd.DataFrame([s.model_dump() for s in result.skipped_queries]), hide_index=True)
    if result.significance:
        with st.expander("p-values"):
            frame = pd.DataFrame([s.model_dump() for s in result.significance])
            frame["p_value"] = [f"{p:.4g}" if p is not None else "n/a" for p in frame["p_value"]]
            frame["test"] = frame["test"].map(TEST_NAMES)
            st.dataframe(frame, hide_index=True, width="stretch")

    names = list(result.metrics)
    download_buttons("Report", f"evaluation-{query_set}", lambda fmt: report(result, fmt), ("csv", "markdown", "latex"))
    st.caption(describe(result))

    if len(names) >= 2:
        st.subheader("Per query")
        cols = st.columns(3)
        a = cols[0].selectbox("Retriever A", names, index=0)
        b = cols[1].selectbox("Retriever B", names, index=1)
        measured = list(result.metrics[a])
        graded = [m for m in measured if m.startswith("ndcg")]
        default_metric = "ndcg@10" if "ndcg@10" in measured else (graded or measured)[0]
        metric = cols[2].selectbox("Metric", measured, index=measured.index(default_metric))
        if a == b:
            st.info("Pick two different retrievers.")
        else:
            frame = drill_down(result, a, b, metric)
            changes = frame["change"].value_counts()
            stats = st.columns(3)
            for column, change in zip(stats, ("better", "worse", "same"), strict=True):
                column.metric(f"{b} {change}" if change != "same" else "Same", int(changes.get(change, 0)))
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

st.divider()
st.subheader("Leaderboard across benchmarks")
st.caption(
    "Retrievers as rows, benchmarks (a query set, or one of its splits) as column groups, the best value of each "
    "column in bold. The 1-bit variant of a dense float retriever packs its vectors to sign bits (value >= 0 is 1) "
    "and searches them by Hamming distance, as SDE serves a binary index."
)
benchmark_options = {
    f"{name}:{split}" if split else name: Benchmark(query_set=name, splits=[split] if split else None)
    for name in (s["name"] for s in query_sets(ws))
    for split in [None, *set_splits(ws, name)]
}
left, right = st.columns(2)
board_rows = left.multiselect("Rows", list(options), default=list(options)[:2], format_func=options.get)
board_benchmarks = right.multiselect("Benchmarks", list(benchmark_options), default=[query_set])
board_metrics = st.multiselect(
    "Columns per benchmark",
    list(dict.fromkeys([*LEADERBOARD_METRICS, *DEFAULT_METRICS, *EXTRA_METRICS])),
    default=list(LEADERBOARD_METRICS),
    accept_new_options=True,
)
binary = st.toggle("Add 1-bit variants of dense float retrievers", value=False)
if st.button("Build the table", icon=":material/leaderboard:", disabled=not (board_rows and board_benchmarks)):
    try:
        st.session_state["leaderboard"] = leaderboard(
            ws,
            board_rows,
            [benchmark_options[b] for b in board_benchmarks],
            metrics=board_metrics,
            binary=binary,
            progress=progress_bar("Making runs"),
        )
    except EXPECTED as exc:
        st.error(str(exc))
        st.stop()
board = st.session_state.get("leaderboard")
if board is not None:
    for warning in board.warnings:
        st.warning(warning, icon=":material/warning:")
    table = leaderboard_frame(board)
    columns = [c for c in table.columns if c not in ("Retriever", "Index size")]
    best = {f"{b} {m}": set(board.best[b][m]) for b in board.benchmarks for m in board.metrics}
    styled = table.style.format({c: "{:.4f}" for c in columns}).apply(
        lambda column: [
            "font-weight: bold" if name in best.get(column.name, ()) else "" for name in table["Retriever"]
        ],
        subset=columns,
    )
    st.dataframe(styled, hide_index=True, width="stretch")
    st.caption("; ".join(f"{b}: {board.queries[b]} queries, judgments {board.judgments[b]}" for b in board.benchmarks))
    download_buttons("Table", "leaderboard", lambda fmt: render_leaderboard(board, fmt), ("markdown", "latex"))
