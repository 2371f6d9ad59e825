"""Commands about retrieval: embed, search, run, retrievers."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.text import Text

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
from curation.cli.output import console, emit, emit_rows, failures_as_exit
from curation.core import LockTimeout
from curation.jobs import embed_job, run_job
from curation.relevancy import kept_documents
from curation.retrieval import (
    RETRIEVAL_ERRORS,
    EmbedBusy,
    Mode,
    RegistryError,
    RunMode,
    add_retriever,
    coverage,
    embed,
    make_run,
    remove_retriever,
    search,
)

EXPECTED = (*RETRIEVAL_ERRORS, EmbedBusy, LockTimeout)
RetrieverOption = Annotated[str, typer.Option("--retriever", "-r", help="Retriever name (see `retrievers`).")]


def register(app: typer.Typer) -> None:
    app.command("embed")(embed_command)
    app.command("search")(search_command)
    app.command("run")(run_command)
    retrievers = typer.Typer(
        help="The retriever registry: list it (no subcommand), add a copy of a retriever, remove an added one.",
        invoke_without_command=True,
    )
    retrievers.callback()(retrievers_command)
    retrievers.command("add")(add_command)
    retrievers.command("remove")(remove_command)
    app.add_typer(retrievers, name="retrievers")


def embed_command(
    ctx: typer.Context,
    retriever: RetrieverOption,
    device: Annotated[str | None, typer.Option(help="cuda, cuda:N, mps, cpu or auto (default: settings).")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1, help="Passages per forward pass (default: fitted).")] = None,
    threads: Annotated[
        int | None, typer.Option(min=1, help="CPU threads for torch and the tokenizer (default: settings, else cores).")
    ] = None,
    engine: Annotated[
        Literal["local", "ray"], typer.Option(help="local (this process) or ray (a pool of encoder actors).")
    ] = "local",
    ray_address: Annotated[
        str | None, typer.Option(help="With --engine ray: the cluster (ray://host:10001, auto); default a local one.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="With --engine ray: encoder actors (default: one per GPU, else 2).")
    ] = None,
    gpus_per_worker: Annotated[float, typer.Option(min=0, help="With --engine ray: GPUs per actor (0: auto).")] = 0,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Embed the documents that have no current vectors for a retriever; resumes after a crash."""
    ws = open_workspace(ctx)
    if background:
        ray_options = {"engine": engine, "ray_address": ray_address, "workers": workers, "gpus": gpus_per_worker}
        in_background(ws, embed_job(retriever, device, batch_size, threads, **ray_options), as_json)
    with failures_as_exit(as_json, *EXPECTED), progress_bar(f"embed {retriever}", unit="doc") as progress:
        if engine == "ray":
            from curation.retrieval import embed_on_ray

            result = embed_on_ray(
                ws,
                retriever,
                address=ray_address,
                workers=workers,
                gpus_per_worker=gpus_per_worker,
                batch_size=batch_size,
                progress=progress,
            )
        else:
            result = embed(ws, retriever, device=device, batch_size=batch_size, threads=threads, progress=progress)
    emit(result, as_json=as_json, title="embed")


def search_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to search for.")],
    retriever: RetrieverOption,
    mode: Annotated[Mode, typer.Option(help="vector, fts (BM25) or hybrid (both, fused by rank).")] = "vector",
    k: Annotated[int, typer.Option("-k", min=1, help="Documents to return.")] = 10,
    where: Annotated[
        str | None,
        typer.Option(help="SQL filter on division, document_type, collection, doc_id: \"division = 'Heliophysics'\"."),
    ] = None,
    kept: Annotated[bool, typer.Option("--kept", help="Only documents the relevancy filter kept.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Search the workspace with a retriever; each document is ranked by its best passage."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *EXPECTED):
        restrict_to = kept_documents(ws) if kept else None
        hits = search(ws, retriever, query, k=k, mode=mode, where=where, restrict_to=restrict_to)
    rows = [hit.model_dump(include={"doc_id", "score", "rank", "title", "url"}) for hit in hits]
    emit_rows("results", rows, as_json=as_json, title=f"{retriever} ({mode})")


def run_command(
    ctx: typer.Context,
    retriever: RetrieverOption,
    queries: Annotated[str, typer.Option("--queries", "-q", help="Query set to run.")],
    k: Annotated[int, typer.Option("-k", min=1, help="Documents kept per query.")] = 100,
    name: Annotated[
        str | None,
        typer.Option(
            help="Freeze the run under this name: it is kept as it is and used when asked for by name. "
            "Without one the run is the retriever's current run on the set (RETRIEVER:SET), remade when stale."
        ),
    ] = None,
    mode: Annotated[
        RunMode, typer.Option(help="vector, fts, hybrid, or binary (the 1-bit copy of the vectors, Hamming).")
    ] = "vector",
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Rank every query of a set and store the run, for evaluation and comparison."""
    ws = open_workspace(ctx)
    if background:
        in_background(ws, run_job(retriever, queries, k=k, name=name, mode=mode), as_json)
    with failures_as_exit(as_json, *EXPECTED), progress_bar(f"run {retriever}", unit="query") as progress:
        result = make_run(ws, retriever, queries, k=k, name=name, mode=mode, progress=progress)
    emit(result, as_json=as_json, title="run")


def retrievers_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The retriever registry: availability on this machine (and how to fix it) and vector coverage."""
    if ctx.invoked_subcommand is not None:
        return
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        found = coverage(ws)
    if as_json:
        emit_rows("retrievers", [c.model_dump() for c in found], as_json=True)
        return
    rows = [c.model_dump(exclude={"description", "model", "hint"}) for c in found]
    emit_rows("retrievers", rows, as_json=False, title="retrievers")
    for c in found:
        if c.hint:
            console.print(Text(c.hint), soft_wrap=True)


def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the new retriever.")],
    like: Annotated[str, typer.Option("--like", help="Existing retriever to copy.")],
    model: Annotated[
        str | None, typer.Option(help="Hugging Face id or local folder replacing the model (clears `package`).")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="KEY=VALUE to change, e.g. long_documents=truncate (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a retriever as a copy of another, with another model or settings (written to workbench.toml)."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, RegistryError, LockTimeout):
        spec = add_retriever(ws, name, like, model=model, settings=settings)
    emit({"retriever": name, **spec.model_dump(mode="json")}, as_json=as_json, title=f"added {name}")


def remove_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="An added retriever (defaults cannot be removed).")],
    as_json: JsonFlag = False,
) -> None:
    """Take an added retriever out of workbench.toml (its vectors stay under vectors/)."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, RegistryError):
        remove_retriever(ws, name)
    emit({"removed": name}, as_json=as_json, title="retrievers remove")
