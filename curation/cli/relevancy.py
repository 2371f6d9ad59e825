"""Commands of the relevancy filter: `filter` (rules or LLM judge), `verdicts` (the verdict in force) and
`dedup` (near-duplicate clusters)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
from curation.cli.output import emit, emit_rows, err_console, fail, failures_as_exit
from curation.core import LockTimeout
from curation.jobs import cancel_requested, dedup_job, llm_filter_job
from curation.llm import LLMError
from curation.relevancy import run_rules, verdicts

VERDICT_FIELDS = ["doc_id", "url", "kept", "judge", "quality", "rule", "reasons"]


def register(app: typer.Typer) -> None:
    app.command("filter")(filter_command)
    app.command("verdicts")(verdicts_command)
    app.command("dedup")(dedup_command)


def filter_command(
    ctx: typer.Context,
    judge: Annotated[
        Literal["rules", "llm"], typer.Option("--judge", help="rules (cheap, all documents) or llm (what rules keep).")
    ],
    model: Annotated[
        str | None, typer.Option(help="PROVIDER:MODEL, e.g. openai:gpt-4.1-mini, ollama:qwen3:4b (default [llm]).")
    ] = None,
    base_url: Annotated[str | None, typer.Option(help="Server URL for Ollama, vLLM, llama.cpp or a proxy.")] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="LLM requests in flight at once.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Judge at most this many documents.")] = None,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Judge documents: SDE rules (word count, URL path words, exclude patterns) or an LLM with SDE's rubric."""
    ws = open_workspace(ctx)
    if background and judge == "llm":
        in_background(ws, llm_filter_job(model, base_url, concurrency, limit), as_json)
    from curation.llm import build_model  # pydantic-ai: loaded only to judge
    from curation.relevancy import FilterResult, judge_documents

    with failures_as_exit(as_json, LLMError, LockTimeout):
        if judge == "rules":
            ruled = run_rules(ws, limit)
            result = FilterResult(judged=ruled.judged, kept=ruled.kept, dropped=ruled.dropped)
        else:
            settings = ws.settings.llm.with_overrides(model, base_url, concurrency)
            llm = build_model(settings)
            with progress_bar(f"judging with {settings.model_id}", unit="doc", stop_on_cancel=False) as progress:
                result = judge_documents(
                    ws, settings, limit=limit, progress=progress, model=llm, cancel=cancel_requested()
                )
    if result.stopped:
        err_console.print(f"stopped early ({result.stopped}); run the command again to judge the rest")
    emit(result.model_dump(exclude={"stopped"}), as_json=as_json, title=f"filter --judge {judge}")


def verdicts_command(
    ctx: typer.Context,
    kept: Annotated[bool, typer.Option("--kept", help="Only documents kept.")] = False,
    dropped: Annotated[bool, typer.Option("--dropped", help="Only documents dropped.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The verdict in force per document: a curator's decision over the LLM over the rules."""
    if kept and dropped:
        fail("--kept and --dropped exclude each other; give one or neither", as_json=as_json)
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        table = verdicts(ws, kept=True if kept else False if dropped else None)
    table = table[VERDICT_FIELDS].astype(object)
    rows = [
        {**row, "reasons": [str(r) for r in row["reasons"]] if row["reasons"] is not None else []}
        for row in table.where(table.notna(), None).to_dict("records")
    ]
    emit_rows("verdicts", rows, as_json=as_json, title="verdicts in force")


def dedup_command(
    ctx: typer.Context,
    threshold: Annotated[
        float | None, typer.Option(min=0.01, max=1.0, help="Jaccard (MinHash) or cosine (--semantic) threshold.")
    ] = None,
    semantic: Annotated[
        str | None, typer.Option("--semantic", help="Cluster by this retriever's document vectors instead.")
    ] = None,
    list_clusters: Annotated[bool, typer.Option("--list", help="List the stored clusters, largest first.")] = False,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Near-duplicate clusters: MinHash LSH over word shingles (boilerplate lines left out), or --semantic."""
    from curation.relevancy import MINHASH, duplicate_clusters, find_duplicates, find_semantic_duplicates

    ws = open_workspace(ctx)
    method = f"semantic:{semantic}" if semantic else MINHASH
    if list_clusters:
        with failures_as_exit(as_json, LockTimeout):
            found = duplicate_clusters(ws, method)
        rows = [{"id": c.id, "canonical": c.canonical, "members": c.members} for c in found]
        if as_json:
            emit({"clusters": rows}, as_json=True)
        else:
            emit_rows("clusters", [{**r, "size": len(r["members"])} for r in rows], as_json=False, title=method)
        return
    if background:
        in_background(ws, dedup_job(threshold, semantic), as_json)
    with failures_as_exit(as_json, LockTimeout, ValueError), progress_bar("reading documents", unit="doc") as bar:
        if semantic:
            result = find_semantic_duplicates(ws, semantic, threshold, progress=bar)
        else:
            result = find_duplicates(ws, threshold, progress=bar)
    emit(result.model_dump(exclude={"method"}), as_json=as_json, title=f"dedup ({result.method})")
