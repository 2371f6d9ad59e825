"""Commands that close the loop on judgments: eval, export and finetune.

ranx, datasets and torch load inside the commands that use them, so other commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from curation.cli.context import JsonFlag, open_workspace, progress_bar
from curation.cli.output import emit, failures_as_exit
from curation.evaluation_settings import StatTest
from curation.export import ExportError, ExportKind, ExportOptions, export
from curation.qrels import JudgmentsError
from curation.runs import NoStoredRun
from curation.search import RETRIEVAL_ERRORS
from curation.splits import LeakError, SplitError, parse_split
from store.locks import LockTimeout

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
    app.command("finetune")(finetune_command)


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
    as_json: JsonFlag = False,
) -> None:
    """Evaluate retrievers' stored runs on a query set: metrics and paired significance tests."""
    from curation.evaluation import EvaluationError, evaluate_runs, report

    ws = open_workspace(ctx)
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
        result = export(ws, kind, options)
    emit(result.model_dump(mode="json", exclude={"files", "created_at"}), as_json=as_json, title=f"export {kind}")


def finetune_command(
    ctx: typer.Context,
    base: Annotated[str, typer.Option(help="Dense retriever to start from, e.g. minilm.")],
    pairs: Annotated[Path, typer.Option(help="Folder written by `export pairs`.")],
    out: Annotated[str, typer.Option(help="Name of the new retriever (its model goes to models/NAME).")],
    epochs: Annotated[int | None, typer.Option(min=1, help="Passes over the pairs (default [finetune]).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=2, help="Pairs per batch (default [finetune]).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate (default [finetune]).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier fine-tuned retriever of that name.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fine-tune a retriever on training pairs and register it as a new retriever (GPU when present)."""
    from curation.finetune import FinetuneError, FinetuneOptions, finetune

    ws = open_workspace(ctx)
    options = FinetuneOptions(
        base=base,
        pairs=pairs,
        out=out,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        overwrite=overwrite,
    )
    with (
        failures_as_exit(as_json, FinetuneError, *RETRIEVAL_ERRORS, LockTimeout),
        progress_bar("fine-tune", unit="step") as progress,
    ):
        result = finetune(ws, options, progress)
    emit(result, as_json=as_json, title="finetune")
