"""Commands about query sets and judgments: `queries import|add|generate|list`, `judgments import|export|agreement`.

pydantic-ai, scikit-learn and the search stack load inside the commands that use them, so others start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
from curation.cli.output import emit, emit_rows, err_console, fail, failures_as_exit
from curation.core import CuratorRequired, InputError, LockTimeout
from curation.evaluation import ExportError, JudgmentsError, QrelsFormat, export_qrels
from curation.jobs import cancel_requested, query_generation_job
from curation.judging import query_sets
from curation.llm import LLMError

SetOption = Annotated[str, typer.Option("--set", help="Query set name.")]
EXPECTED = (InputError, CuratorRequired, LockTimeout)

queries_app = typer.Typer(help="Query sets: import, type or generate queries.", no_args_is_help=True)
judgments_app = typer.Typer(help="Judgments: import qrels, export them, agreement between annotators.")
judgments_app.info.no_args_is_help = True


def register(app: typer.Typer) -> None:
    app.add_typer(queries_app, name="queries")
    app.add_typer(judgments_app, name="judgments")


@queries_app.command("import")
def queries_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="BEIR queries.jsonl, or a CSV with a text column.")],
    query_set: SetOption,
    text_column: Annotated[str | None, typer.Option(help="CSV column holding the query text.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add the queries of a file to a set (origin `imported`); bad lines go to a rejects file."""
    from curation.judging import import_query_file

    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *EXPECTED):
        result = import_query_file(ws, file, query_set, text_column=text_column)
    emit(result, as_json=as_json, title="queries import")


@queries_app.command("add")
def queries_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The query as a curator would type it.")],
    query_set: SetOption,
    curator: Annotated[str, typer.Option(envvar="SDE_WORKBENCH_CURATOR", help="Who adds it.")],
    as_json: JsonFlag = False,
) -> None:
    """Add one typed query to a set (origin `typed`)."""
    from curation.judging import add_query

    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *EXPECTED):
        query_id = add_query(ws, query_set, text, curator=curator)
    emit({"query_set": query_set, "query_id": query_id}, as_json=as_json, title="queries add")


@queries_app.command("generate")
def queries_generate(
    ctx: typer.Context,
    query_set: SetOption,
    docs: Annotated[
        int | None, typer.Option("--docs", min=1, help="Documents to write queries for (a seeded sample).")
    ] = None,
    from_queue: Annotated[
        bool, typer.Option("--from-queue", help="The documents queued for judging on the Map page instead.")
    ] = False,
    model: Annotated[
        str | None, typer.Option(help="PROVIDER:MODEL, e.g. openai:gpt-4.1-mini, ollama:qwen3:4b (default [llm]).")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="Server URL for Ollama, vLLM, llama.cpp or a proxy.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="LLM requests in flight at once.")] = None,
    per_doc: Annotated[
        int | None, typer.Option(min=1, max=10, help="Queries per document (default [judging]).")
    ] = None,
    division: Annotated[str | None, typer.Option(help="Only documents of this division.")] = None,
    all_documents: Annotated[
        bool, typer.Option("--all-documents", help="Sample every document, not only those the filter keeps.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Seed of the document sample (default [judging]).")] = None,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Have the LLM write standalone factual, procedural and data queries for a sample or the queued documents.

    Documents that already have queries in the set are skipped, so running it again resumes. With
    --from-queue, documents that now have queries leave the judging queue.
    """
    from curation.judging import generate_queries, pick_documents, queued_documents
    from curation.llm import build_model  # pydantic-ai: loaded only to generate

    if (docs is None) == (not from_queue):
        fail("choose the documents: --docs N (a sample) or --from-queue (queued on the Map page)", as_json=as_json)
    ws = open_workspace(ctx)
    if background:
        spec = query_generation_job(
            query_set,
            docs=docs,
            from_queue=from_queue,
            model=model,
            base_url=base_url,
            concurrency=concurrency,
            per_doc=per_doc,
            division=division,
            all_documents=all_documents,
            seed=seed,
        )
        in_background(ws, spec, as_json)
    with failures_as_exit(as_json, *EXPECTED, LLMError):
        settings = ws.settings.llm.with_overrides(model, base_url, concurrency)
        if from_queue:
            doc_ids = queued_documents(ws)
        else:
            doc_ids = pick_documents(ws, docs or 0, seed=seed, division=division, kept_only=not all_documents)
        llm = build_model(settings)
        with progress_bar(f"queries with {settings.model_id}", unit="doc", stop_on_cancel=False) as progress:
            result = generate_queries(
                ws,
                settings,
                query_set,
                doc_ids,
                per_document=per_doc,
                progress=progress,
                model=llm,
                dequeue=from_queue,
                cancel=cancel_requested(),
            )
    if result.stopped:
        err_console.print(f"stopped early ({result.stopped}); run the command again to do the rest")
    emit(result, as_json=as_json, title="queries generate")


@queries_app.command("list")
def queries_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Query sets with their origin and size."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        sets = query_sets(ws)
    emit_rows("query_sets", sets, as_json=as_json, title="query sets")


@judgments_app.command("import")
def judgments_import(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="Qrels files (BEIR TSV or TREC), or one full export (`judgments export --full`)."),
    ],
    query_set: Annotated[
        str | None, typer.Option("--set", help="Query set of the qrels (a full export names its own).")
    ] = None,
    annotator: Annotated[
        str | None,
        typer.Option(help="Whose qrels these are (a curator, or benchmark:NAME); a full export names its own."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Store qrels as an annotator's judgments on a set (replacing that annotator's earlier import), or merge a
    full export from another workspace: every row it lacks is added, so importing twice changes nothing."""
    from curation.judging import JudgingError, import_full, import_judgments, is_full_export

    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *EXPECTED, JudgingError):
        if len(files) == 1 and is_full_export(files[0]):
            emit(import_full(ws, files[0]), as_json=as_json, title="judgments import")
            return
        if query_set is None or annotator is None:
            fail("qrels files need --set and --annotator (only a full export names its own)", as_json=as_json)
        emit(import_judgments(ws, files, query_set, annotator), as_json=as_json, title="judgments import")


@judgments_app.command("export")
def judgments_export(
    ctx: typer.Context,
    query_set: SetOption,
    out: Annotated[Path, typer.Option(help="File to write: .tsv is BEIR qrels, other names TREC qrels.")],
    format: Annotated[QrelsFormat | None, typer.Option("--format", help="beir or trec (default: by suffix).")] = None,
    judgments: Annotated[
        str | None,
        typer.Option(help="Whose grades: a curator, 'all' curators (mean, rounded), or benchmark:NAME."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Every row as recorded (sessions, times, undo rows, sources) as JSON lines, for `import`."
        ),
    ] = False,
    annotator: Annotated[
        str | None, typer.Option(help="With --full: one annotator's rows (default: everyone's).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the grades in force of a set as one qrels file (BEIR TSV or TREC), or with --full its whole history."""
    ws = open_workspace(ctx)
    if full:
        from curation.judging import JudgingError, export_full

        with failures_as_exit(as_json, JudgingError, LockTimeout):
            emit(export_full(ws, query_set, out, annotator), as_json=as_json, title="judgments export")
        return
    with failures_as_exit(as_json, ExportError, JudgmentsError, LockTimeout):
        result = export_qrels(ws, query_set, out, fmt=format, judgments=judgments)
    emit(result, as_json=as_json, title="judgments export")


@judgments_app.command("agreement")
def judgments_agreement(
    ctx: typer.Context,
    query_set: SetOption,
    weights: Annotated[
        Literal["linear", "quadratic"], typer.Option(help="Weighting of the weighted kappa.")
    ] = "quadratic",
    as_json: JsonFlag = False,
) -> None:
    """Cohen's kappa between every two annotators on the pairs both graded."""
    from curation.judging import agreement  # scikit-learn: loaded only for kappa

    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        rows = [a.model_dump() for a in agreement(ws, query_set, weights=weights)]
    emit_rows("agreement", rows, as_json=as_json, title=f"agreement on {query_set}")
