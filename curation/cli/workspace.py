"""Commands about the workspace itself: `status`, `demo` (build the demo workspace) and `app` (serve it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from curation.cli.context import JsonFlag, byte_progress, open_workspace, progress_bar
from curation.cli.output import emit, failures_as_exit
from curation.core import InputError, LockTimeout, ServingRefused, app_file, sign_in_file, workspace_status
from curation.demo import build_demo

# `streamlit run`, with pages/ read only through app.py's st.navigation. Streamlit treats an app with a
# pages/ folder as a folder of pages until st.navigation first runs, so a fresh server whose first request
# is a page's URL (a bookmark, a restored tab) would run that page file alone, listing every file of the
# folder (common.py too) in the sidebar. The flag is what st.navigation itself sets.
STREAMLIT_RUN = (
    "import sys; from streamlit.runtime.pages_manager import PagesManager; "
    "PagesManager.uses_pages_directory = False; from streamlit.web.cli import main; sys.exit(main())"
)


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
    app.command("demo")(demo_command)
    app.command("app")(app_command)


def status_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Counts of documents by division, document type and collection; query sets and judgments."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, LockTimeout):
        emit(workspace_status(ws), as_json=as_json, title="status")


def demo_command(
    ctx: typer.Context,
    demo_dir: Annotated[Path | None, typer.Option(help="Demo data folder (default: the one shipped).")] = None,
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
    address: Annotated[
        str, typer.Option(help="Address to bind; 127.0.0.1 keeps the app local, any other needs --auth.")
    ] = "127.0.0.1",
    auth: Annotated[
        Path | None,
        typer.Option(
            help="Sign-in for a team: a secrets.toml (outside the workspace) with Streamlit's [auth] section."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start the Streamlit app on this workspace (bound to 127.0.0.1 unless told otherwise).

    Served to a team (`--auth`), people sign in with your OIDC provider and get the role `[access]` gives them."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, ServingRefused):
        secrets = sign_in_file(address, auth, ws.root, ws.settings.access)
    url = f"http://{address}:{port}"
    emit({"url": url, "workspace": str(ws.root)}, as_json=as_json, title="app")
    env = {**os.environ, "SDE_WORKBENCH_WORKSPACE": str(ws.root)}
    command = [
        sys.executable,
        "-c",
        STREAMLIT_RUN,
        "run",
        str(app_file()),
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
        # A served app, not one being edited: no watching of source folders for changes, and no full garbage
        # collection after every script run (with a large workspace's map and tables in memory it took about a
        # second per key press; reference counting frees what a run leaves behind).
        "--server.fileWatcherType",
        "none",
        "--runner.postScriptGC",
        "false",
        *(["--secrets.files", str(secrets)] if secrets else []),
    ]
    raise typer.Exit(subprocess.call(command, env=env))
