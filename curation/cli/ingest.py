"""Commands of ingest: `ingest` (SDE content in any record shape) and `import-benchmark` (a BEIR folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, byte_progress, in_background, open_workspace
from curation.cli.output import emit, fail, failures_as_exit
from curation.core import InputError, LockTimeout
from curation.ingest import DOC_FIELDS, FormatChoice, IngestOptions, import_benchmark, ingest
from curation.jobs import ingest_job


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("import-benchmark")(import_benchmark_command)


def ingest_command(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    format: Annotated[
        FormatChoice, typer.Option("--format", "-f", help="Record shape; auto-detected by default.")
    ] = "auto",
    collection: Annotated[str | None, typer.Option(help="Assign every row to this collection.")] = None,
    division: Annotated[str | None, typer.Option(help="Assign every row to this division (SDE name).")] = None,
    document_type: Annotated[str | None, typer.Option(help="Assign every row this document type.")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Column mapping FIELD=COLUMN for csv/parquet/jsonl, e.g. --map text=body."),
    ] = None,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Load SDE content: crawler JSON, indexer documents.jsonl, legacy dumps, COSMOS lists, BEIR, CSV/Parquet."""
    column_map = _parse_map(map_ or [], as_json)
    ws = open_workspace(ctx)
    if background:
        spec = ingest_job(
            [p.resolve() for p in paths],
            format=format,
            collection=collection,
            division=division,
            document_type=document_type,
            column_map=column_map,
        )
        in_background(ws, spec, as_json)
    options = IngestOptions(
        format=format, collection=collection, division=division, document_type=document_type, column_map=column_map
    )
    with failures_as_exit(as_json, InputError, LockTimeout), byte_progress("ingest") as progress:
        result = ingest(ws, paths, options, progress)
    emit(
        result.model_dump(
            include={"read", "inserted", "updated", "unchanged", "rejected", "duplicates", "rejects_file"}
        ),
        as_json=as_json,
        title="ingest",
    )


def _parse_map(pairs: list[str], as_json: bool) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field not in DOC_FIELDS or not column:
            fail(f"--map {pair!r}: expected FIELD=COLUMN with FIELD one of {', '.join(DOC_FIELDS)}", as_json=as_json)
        mapping[field] = column
    return mapping


def import_benchmark_command(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="BEIR folder with corpus.jsonl, queries.jsonl and qrels/*.tsv.")],
    name: Annotated[str, typer.Option("--name", help="Query set name; qrels become annotator benchmark:NAME.")],
    as_json: JsonFlag = False,
) -> None:
    """Import a BEIR benchmark: corpus as documents, queries as a set, qrels as judgments."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, InputError, LockTimeout), byte_progress("corpus") as progress:
        result = import_benchmark(ws, folder, name, progress)
    emit(result, as_json=as_json, title="import-benchmark")
