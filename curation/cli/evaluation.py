"""Commands of evaluation: `eval` and `export` (pairs for training, BEIR or TREC for benchmarks).

ranx and datasets load inside the commands that use them, so other commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace
from curation.cli.output import emit, failures_as_exit
from curation.core import LockTimeout
from curation.evaluation import (
    ExportError,
    ExportKind,
    ExportOptions,
    JudgmentsError,
    LeakError,
    SplitError,
    StatTest,
    export_benchmark,
    parse_split,
)
from curation.jobs import eval_job
from curation.retrieval import RETRIEVAL_ERRORS, NoStoredRun

JudgmentsOption = Annotated[
    str | None,
    typer.Option(
        "--judgments",
        help="Whose grades: a curator, 'all' curators (mean grade, rounded), or benchmark:NAME. "
        "Default: all curators when the set has any, else its benchmark.",
    ),
]
ThresholdOption = Annotated[
    int | None, typer.Option(min=1, max=3, help="Lowest grade that counts as relevant (default [evaluation])")
]


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
    app.command("export")(export_command)


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def eval_command(
    ctx: typer.Context,
    retrievers: Annotated[str, typer.Option(help="Comma-separated retrievers (or run names), e.g. minilm,bm25.")],
    queries: Annotated[str, typer.Option(help="Query set to evaluate on.")],
    judgments: JudgmentsOption = None,
    metrics: Annotated[
        str | None, typer.Option(help="Comma-separated ranx metrics, e.g. ndcg@10,mrr@5,recall@100,map.")
    ] = None,
    threshold: ThresholdOption = None,
    test: Annotated[StatTest | None, typer.Option(help="Paired test: student (t-test) or fisher.")] = None,
    max_p: Annotated[float | None, typer.Option(help="Significance level (default 0.05).")] = None,
    per_query: Annotated[bool, typer.Option(help="Add every query's scores to the JSON.")] = False,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate retrievers' stored runs on a query set: metrics and paired significance tests."""
    from curation.evaluation import EvaluationError, evaluate_runs, report

    ws = open_workspace(ctx)
    if background:
        spec = eval_job(
            _names(retrievers),
            queries,
            judgments=judgments,
            metrics=_names(metrics),
            threshold=threshold,
            test=test,
            max_p=max_p,
        )
        in_background(ws, spec, as_json)
    with failures_as_exit(as_json, EvaluationError, JudgmentsError, NoStoredRun, *RETRIEVAL_ERRORS, LockTimeout):
        result = evaluate_runs(
            ws,
            _names(retrievers),
            queries,
            judgments=judgments,
            metrics=_names(metrics) or None,
            threshold=threshold,
            test=test,
            max_p=max_p,
        )
    if as_json:
        summary = result.summary()
        if per_query:
            summary["per_query"] = result.per_query
        emit(summary, as_json=True)
        return
    typer.echo(report(result, "markdown"))
    if result.significance:
        table = pd.DataFrame([s.model_dump() for s in result.significance])
        typer.echo(table.to_markdown(index=False, floatfmt=".4g"))


def export_command(
    ctx: typer.Context,
    kind: Annotated[ExportKind, typer.Argument(help="pairs (training data), beir (benchmark) or trec (qrels, runs).")],
    query_set: Annotated[str, typer.Option("--set", help="Query set to export.")],
    out: Annotated[Path | None, typer.Option(help="Folder to write (default: exports/KIND-SET).")] = None,
    split: Annotated[
        str | None, typer.Option(help="Split the queries, e.g. train=0.8,dev=0.1,test=0.1 (a folder per split).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the split (default [export] seed).")] = None,
    judgments: JudgmentsOption = None,
    threshold: ThresholdOption = None,
    negatives_from: Annotated[
        str | None, typer.Option(help="pairs: retriever (or run) whose top unjudged results are hard negatives.")
    ] = None,
    runs: Annotated[str | None, typer.Option(help="trec: comma-separated retrievers or runs (default all).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Export judgments as training pairs, a BEIR benchmark, or TREC qrels and runs."""
    ws = open_workspace(ctx)
    with failures_as_exit(
        as_json, ExportError, SplitError, LeakError, JudgmentsError, NoStoredRun, *RETRIEVAL_ERRORS, LockTimeout
    ):
        options = ExportOptions(
            query_set=query_set,
            out=out,
            split=parse_split(split) if split else None,
            seed=seed,
            judgments=judgments,
            threshold=threshold,
            negatives_from=negatives_from,
            runs=_names(runs) or None,
        )
        if kind == "pairs":
            from curation.training import export_pairs  # datasets: loaded only for pairs

            result = export_pairs(ws, options)
        else:
            result = export_benchmark(ws, kind, options)
    emit(result.model_dump(mode="json", exclude={"files", "created_at"}), as_json=as_json, title=f"export {kind}")
