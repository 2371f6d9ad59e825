"""Commands about maps: `map` (project a retriever's vectors to 2-D) and `map-clusters`."""

from __future__ import annotations

from typing import Annotated

import typer

from curation.cli.context import BackgroundFlag, JsonFlag, in_background, open_workspace, progress_bar
from curation.cli.output import emit, emit_rows, failures_as_exit
from curation.cli.retrieval import RetrieverOption
from curation.core import LockTimeout
from curation.jobs import map_job
from curation.maps import MapBusy, MapError, cluster_map, project
from curation.retrieval import RETRIEVAL_ERRORS

EXPECTED = (*RETRIEVAL_ERRORS, MapError, MapBusy, LockTimeout)


def register(app: typer.Typer) -> None:
    app.command("map")(map_command)
    app.command("map-clusters")(clusters_command)


def map_command(
    ctx: typer.Context,
    retriever: RetrieverOption,
    refit: Annotated[bool, typer.Option("--refit", help="Fit the map anew instead of placing what changed.")] = False,
    background: BackgroundFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Project a retriever's documents to a 2-D UMAP map; later runs place only new or changed documents."""
    ws = open_workspace(ctx)
    if background:
        in_background(ws, map_job(retriever, refit), as_json)
    with failures_as_exit(as_json, *EXPECTED), progress_bar(f"map {retriever}", unit="doc") as progress:
        result = project(ws, retriever, refit=refit, progress=progress)
    emit(result, as_json=as_json, title="map")


def clusters_command(
    ctx: typer.Context,
    retriever: RetrieverOption,
    k: Annotated[int | None, typer.Option("-k", min=2, help="Clusters (default: [maps] clusters).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Cluster a retriever's map (k-means on its points) and name each cluster by its top terms."""
    ws = open_workspace(ctx)
    with failures_as_exit(as_json, *EXPECTED):
        clusters = cluster_map(ws, retriever, k)
    emit_rows("clusters", [c.model_dump() for c in clusters], as_json=as_json, title=f"clusters of {retriever}")
