"""Commands about the workspace itself: ingest, import-benchmark, status, demo, app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from curation.benchmark import import_benchmark
from curation.cli.context import JsonFlag, byte_progress, open_workspace, progress_bar
from curation.cli.output import emit, fail, failures_as_exit
from curation.demo import DEMO_DIR, build_demo
from curation.ingest import IngestOptions, ingest
from curation.loaders import DOC_FIELDS, FormatChoice, InputError
from curation.status import workspace_status
from store.locks import LockTimeout

APP_FILE = Path(__file__).resolve().parents[2] / "app.py"
# `streamlit run`, with pages/ read only through app.py's st.navigation. Streamlit treats an app with a
# pages/ folder as a folder of pages until st.navigation first runs, so a fresh server whose first request
# is a page's URL (a bookmark, a restored tab) would run that page file alone, listing every file of the
# folder (common.py too) in the sidebar. The flag is what st.navigation itself sets.
STREAMLIT_RUN = (
    "import sys; from streamlit.runtime.pages_manager import PagesManager; "
    "PagesManager.uses_pages_directory = False; from streamlit.web.cli import main; sys.exit(main())"
)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_command)
    app.command("import-benchmark")(import_benchmark_command)
    app.command("status")(status_command)
    app.command("demo")(demo_command)
    app.command("app")(app_command)


def ingest_command(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to load.")],
    format: Annotated[
        FormatChoice, typer.Option("--format", "-f", help="Record shape; auto-detected by default.")
    ] = "auto",
    collection: Annotated[str | None, typer.Option(help="Assign every row to this collection.")] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Column mapping FIELD=COLUMN for csv/parquet/jsonl, e.g. --map text=body."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Load SDE content: crawler JSON, indexer documents.jsonl, legacy dumps, COSMOS lists, BEIR, CSV/Parquet."""
    column_map = _parse_map(map_ or [], as_json)
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, InputError, LockTimeout), byte_progress("ingest") as progress:
        result = ingest(ws, paths, IngestOptions(format=format, collection=collection, column_map=column_map), progress)
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


def status_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Counts of documents by division, document type and collection; query sets and judgments."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        emit(workspace_status(ws), as_json=as_json, title="status")


def demo_command(
    ctx: typer.Context,
    demo_dir: Annotated[Path, typer.Option(help="Demo data folder.")] = DEMO_DIR,
    as_json: JsonFlag = False,
) -> None:
    """Build the demo workspace from the project's demo corpus, queries and judgments."""
    ws = open_workspace(ctx)
    with (
        failures_as_exit(as_json, InputError, LockTimeout),
        byte_progress("demo") as progress,
        progress_bar("embed minilm", unit="doc") as embed_progress,
    ):
        result = build_demo(ws, demo_dir, progress, embed_progress)
    emit(result, as_json=as_json, title="demo")


def app_command(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind; 127.0.0.1 keeps the app local.")] = "127.0.0.1",
    as_json: JsonFlag = False,
) -> None:
    """Start the Streamlit app on this workspace (bound to 127.0.0.1 unless told otherwise)."""
    ws = open_workspace(ctx)
    url = f"http://{address}:{port}"
    emit({"url": url, "workspace": str(ws.root)}, as_json=as_json, title="app")
    env = {**os.environ, "SDE_WORKBENCH_WORKSPACE": str(ws.root)}
    command = [
        sys.executable,
        "-c",
        STREAMLIT_RUN,
        "run",
        str(APP_FILE),
        "--server.address",
        address,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.headless",
        "true",
        "--client.toolbarMode",
        "minimal",
    ]
    raise typer.Exit(subprocess.call(command, env=env))
