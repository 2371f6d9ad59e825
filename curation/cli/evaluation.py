"""Commands of evaluation: `eval` and `export` (pairs for training, BEIR or TREC for benchmarks).

ranx and datasets load inside the commands that use them, so other commands start fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
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
    app.command("leaderboard")(leaderboard_command)
    app.command("export")(export_command)


@contextmanager
def evaluation_failures(as_json: bool, *errors: type[Exception]) -> Iterator[Callable[[int, int], None]]:
    """Expected failures of an evaluation as one-line exits, and a progress bar for the runs it makes."""
    with (
        failures_as_exit(as_json, *errors, JudgmentsError, NoStoredRun, *RETRIEVAL_ERRORS, LockTimeout),
        progress_bar("run", unit="query") as progress,
    ):
        yield progress


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def eval_command(
    ctx: typer.Context,
    retrievers: Annotated[
        str,
        typer.Option(help="Comma-separated retrievers (NAME or NAME/MODE) or stored run names, e.g. minilm,bm25."),
    ],
    queries: Annotated[str, typer.Option(help="Query set to evaluate on.")],
    split: Annotated[
        str | None,
        typer.Option(help="Only these splits of the set (its qrels files), comma-separated, e.g. test."),
    ] = None,
    judgments: JudgmentsOption = None,
    metrics: Annotated[
        str | None, typer.Option(help="Comma-separated ranx metrics, e.g. ndcg@10,mrr@5,recall@100,map.")
    ] = None,
    threshold: ThresholdOption = None,
    test: Annotated[
        StatTest | None, typer.Option(help="Paired test: student (paired t-test) or fisher (randomization).")
    ] = None,
    max_p: Annotated[float | None, typer.Option(help="Significance level (default 0.05).")] = None,
    per_query: Annotated[bool, typer.Option(help="Add every query's scores to the JSON.")] = False,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Evaluate retrievers on a query set: metrics and paired significance tests.

    Each retriever is scored on a run made under its current model, settings, vectors and queries, with enough
    depth for the metrics; one is made first (progress on stderr) when none is stored.
    """
    from curation.evaluation import EvaluationError, evaluate_runs, parse_splits, report

    ws = open_workspace(ctx)
    if background:
        spec = eval_job(
            _names(retrievers),
            queries,
            split=split,
            judgments=judgments,
            metrics=_names(metrics),
            threshold=threshold,
            test=test,
            max_p=max_p,
        )
        in_background(ws, spec, as_json)
    with evaluation_failures(as_json, EvaluationError) as progress:
        result = evaluate_runs(
            ws,
            _names(retrievers),
            queries,
            judgments=judgments,
            metrics=_names(metrics) or None,
            threshold=threshold,
            test=test,
            max_p=max_p,
            splits=parse_splits(ws, queries, split),
            progress=progress,
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


def leaderboard_command(
    ctx: typer.Context,
    retrievers: Annotated[str, typer.Option(help="Comma-separated rows: retrievers (NAME or NAME/MODE) or runs.")],
    benchmarks: Annotated[
        str, typer.Option(help="Comma-separated column groups: SET or SET:SPLIT (SET:A+B for two splits).")
    ],
    metrics: Annotated[
        str | None, typer.Option(help="Comma-separated metrics (default mrr@1,mrr@5,ndcg@1,ndcg@5).")
    ] = None,
    judgments: JudgmentsOption = None,
    binary: Annotated[
        bool, typer.Option("--binary", help="Add each dense float retriever's 1-bit variant (Hamming) as a row.")
    ] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the table as Markdown (the default).")] = False,
    latex: Annotated[bool, typer.Option("--latex", help="Print the table as LaTeX.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The checkpoint table: retrievers as rows, benchmarks as column groups, the best value per column marked."""
    from curation.evaluation import EvaluationError, leaderboard, parse_benchmarks, render_leaderboard

    ws = open_workspace(ctx)
    with evaluation_failures(as_json, EvaluationError) as progress:
        board = leaderboard(
            ws,
            _names(retrievers),
            parse_benchmarks(ws, benchmarks),
            metrics=_names(metrics) or None,
            judgments=judgments,
            binary=binary,
            progress=progress,
        )
    if as_json:
        emit(board, as_json=True)
        return
    typer.echo(render_leaderboard(board, "latex" if latex and not markdown else "markdown"))


def export_command(
    ctx: typer.Context,
    kind: Annotated[ExportKind, typer.Argument(help="pairs (training data), beir (benchmark) or trec (qrels, runs).")],
    query_set: Annotated[str, typer.Option("--set", help="Query set to export.")],
    out: Annotated[Path | None, typer.Option(help="Folder to write (default: exports/KIND-SET).")] = None,
    split: Annotated[
        str | None,
        typer.Option(
            help="Split the queries, e.g. train=0.8,dev=0.1,test=0.1 (a folder per split). Without it a set with its "
            "own splits (qrels files) keeps them; pairs always use those."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the split (default [export] seed).")] = None,
    judgments: JudgmentsOption = None,
    threshold: ThresholdOption = None,
    negatives_from: Annotated[
        str | None, typer.Option(help="pairs: retriever (or run) whose top unjudged results are hard negatives.")
    ] = None,
    negatives: Annotated[
        int | None,
        typer.Option(min=1, max=32, help="pairs: N negatives per pair, mined with --negatives-from's dense model."),
    ] = None,
    margin: Annotated[
        float | None, typer.Option(help="pairs mining: relative margin below the positive's score, e.g. 0.05.")
    ] = None,
    range_min: Annotated[int, typer.Option(min=0, help="pairs mining: skip the top A candidates.")] = 0,
    range_max: Annotated[int | None, typer.Option(min=1, help="pairs mining: candidates down to rank B.")] = None,
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
            negatives=negatives,
            margin=margin,
            range_min=range_min,
            range_max=range_max,
            runs=_names(runs) or None,
        )
        if kind == "pairs":
            from curation.training import export_pairs  # datasets: loaded only for pairs

            result = export_pairs(ws, options)
        else:
            result = export_benchmark(ws, kind, options)
    emit(result.model_dump(mode="json", exclude={"files", "created_at"}), as_json=as_json, title=f"export {kind}")
