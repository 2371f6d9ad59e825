"""`sde-workbench rules ...`: curation patterns (list, add, remove, preview, accept/reject, suggest, export/import)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace
from curation.cli.output import emit, emit_rows, failures_as_exit
from curation.core import CuratorRequired, LockTimeout, Workspace
from curation.jobs import suggest_job
from curation.relevancy import (
    KINDS,
    Pattern,
    PatternError,
    add_pattern,
    export_rules,
    find_pattern,
    import_rules,
    infer_match,
    pattern_table,
    preview_pattern,
    remove_pattern,
    resolve_scope,
    set_active,
)

rules_app = typer.Typer(help="Curation patterns: exclude/include URL patterns, title/division/type patterns.")
CollectionOption = Annotated[
    str | None, typer.Option("--collection", help="The collection (name as given at ingest, or its key); none: global.")
]
KindOption = Annotated[str, typer.Option("--kind", help=f"One of {', '.join(KINDS)}.")]
PatternOption = Annotated[
    str, typer.Option("--pattern", help="A URL, a COSMOS wildcard pattern (`*`), or an RE2 regex with --match regex.")
]
MatchOption = Annotated[
    Literal["exact", "wildcard", "regex"] | None,
    typer.Option("--match", help="exact, wildcard or regex (default: wildcard when the pattern has `*`, else exact)."),
]
ValueOption = Annotated[
    str | None, typer.Option("--value", help="title (fixed or a {title} template), division or document type.")
]
ReasonOption = Annotated[str | None, typer.Option("--reason", help="Why (kept in the pattern's history).")]
CuratorOption = Annotated[str, typer.Option("--curator", envvar="SDE_WORKBENCH_CURATOR", help="Who changes it.")]
IdArgument = Annotated[str, typer.Argument(help="The pattern's id (`rules list`).")]
ERRORS = (PatternError, CuratorRequired, LockTimeout)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")


def _candidate(
    ws: Workspace,
    collection: str | None,
    kind: str,
    pattern: str,
    match: Literal["exact", "wildcard", "regex"] | None,
    value: str | None,
    reason: str | None,
) -> Pattern:
    if kind not in KINDS:
        raise PatternError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    try:
        return Pattern(
            kind=kind,
            scope=resolve_scope(ws, collection),
            match=match or infer_match(pattern),
            pattern=pattern,
            value=value,
            reason=reason,
        )
    except ValueError as exc:
        raise PatternError(str(exc).splitlines()[-1].strip()) from exc


@rules_app.command("list")
def rules_list(ctx: typer.Context, collection: CollectionOption = None, as_json: JsonFlag = False) -> None:
    """Patterns in force (defaults, curator and LLM-suggested ones) with the documents each decides."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        table = pattern_table(ws)
        if collection:
            scope = resolve_scope(ws, collection)
            table = table[[s == "global" or resolve_scope(ws, s) == scope for s in table["scope"]]]
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    emit_rows("patterns", rows, as_json=as_json, title="patterns")


@rules_app.command("add")
def rules_add(
    ctx: typer.Context,
    kind: KindOption,
    pattern: PatternOption,
    curator: CuratorOption,
    collection: CollectionOption = None,
    match: MatchOption = None,
    value: ValueOption = None,
    reason: ReasonOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a pattern (active at once; `filter --judge rules` applies it)."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        saved = add_pattern(ws, _candidate(ws, collection, kind, pattern, match, value, reason), curator)
    emit(saved.model_dump(), as_json=as_json, title=f"pattern {saved.pattern_id}")


@rules_app.command("preview")
def rules_preview(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Option("--kind", help=f"One of {', '.join(KINDS)}.")] = None,
    pattern: Annotated[str | None, typer.Option("--pattern", help="The pattern to try.")] = None,
    pattern_id: Annotated[str | None, typer.Option("--id", help="Preview a stored pattern (a suggestion).")] = None,
    collection: CollectionOption = None,
    match: MatchOption = None,
    value: ValueOption = None,
    as_json: JsonFlag = False,
) -> None:
    """What a pattern would match and change before it is saved, with its impact on judged documents."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        if pattern_id:
            candidate = find_pattern(ws, pattern_id)
        elif kind and pattern:
            candidate = _candidate(ws, collection, kind, pattern, match, value, None)
        else:
            raise PatternError("give --id of a stored pattern, or --kind and --pattern")
        result = preview_pattern(ws, candidate)
    emit(result, as_json=as_json, title=f"preview of {candidate.label()}")


@rules_app.command("suggest")
def rules_suggest(
    ctx: typer.Context,
    collection: Annotated[str, typer.Option("--collection", help="The collection (name as given at ingest, or key).")],
    model: Annotated[str | None, typer.Option(help="PROVIDER:MODEL (default [llm]).")] = None,
    base_url: Annotated[str | None, typer.Option(help="Server URL for Ollama, vLLM, llama.cpp or a proxy.")] = None,
    sample: Annotated[int, typer.Option(min=5, max=500, help="Pages of the collection the LLM sees.")] = 60,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Ask the LLM for exclude patterns for a collection; they land inactive (`rules accept ID` to use one)."""
    from curation.llm import LLMError, build_model
    from curation.relevancy import suggest_patterns

    ws = open_workspace(ctx)
    if background:
        in_background(ws, suggest_job(collection, model, base_url), as_json)
    with failures_as_exit(as_json, LLMError, *ERRORS):
        settings = ws.settings.llm.with_overrides(model, base_url)
        found = suggest_patterns(ws, collection, settings, sample=sample, model=build_model(settings))
    rows = [p.model_dump() for p in found]
    if as_json:
        emit({"suggested": rows}, as_json=True)
    else:
        emit_rows("suggested", rows, as_json=False, title=f"suggested for {collection}")


@rules_app.command("remove")
def rules_remove(
    ctx: typer.Context,
    pattern_id: IdArgument,
    curator: CuratorOption,
    reason: ReasonOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove a pattern (its history stays in the workspace)."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        gone = remove_pattern(ws, pattern_id, curator, reason)
    emit({"removed": gone.pattern_id}, as_json=as_json)


@rules_app.command("accept")
def rules_accept(
    ctx: typer.Context,
    pattern_id: IdArgument,
    curator: CuratorOption,
    reason: ReasonOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Accept a pattern (an LLM suggestion, or switch one back on): it becomes active."""
    _switch(ctx, pattern_id, curator, reason, as_json, active=True)


@rules_app.command("reject")
def rules_reject(
    ctx: typer.Context,
    pattern_id: IdArgument,
    curator: CuratorOption,
    reason: ReasonOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Reject a suggestion or switch a pattern off (a default too): it stays listed, inactive."""
    _switch(ctx, pattern_id, curator, reason, as_json, active=False)


def _switch(ctx: typer.Context, pattern_id: str, curator: str, reason: str | None, as_json: bool, active: bool) -> None:
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        done = set_active(ws, pattern_id, active, curator, reason)
    emit(done.model_dump(), as_json=as_json)


@rules_app.command("export")
def rules_export(
    ctx: typer.Context, path: Annotated[Path, typer.Argument(help="FILE.yaml to write.")], as_json: JsonFlag = False
) -> None:
    """Write the patterns in force to a YAML rule set."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        count = export_rules(ws, path)
    emit({"patterns": count, "path": str(path)}, as_json=as_json)


@rules_app.command("import")
def rules_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="FILE.yaml to read.", exists=True, dir_okay=False)],
    curator: CuratorOption,
    as_json: JsonFlag = False,
) -> None:
    """Read a YAML rule set: new and changed patterns are stored, identical ones skipped."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *ERRORS):
        result = import_rules(ws, path, curator)
    emit(result, as_json=as_json, title=f"rules import {path}")
