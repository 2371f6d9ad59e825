"""How a map is drawn and read back: the plotly WebGL figure, and the documents of a box or lasso selection.

Pure functions of a map table (see `curation.maps.map_points`), so the Map page stays layout and the
selection logic (one map's selection lighting up the same documents on another) is testable alone.
Every point carries its row in the map table as plotly `customdata`; titles, urls, the query and group
names (collections, cluster labels) are escaped before they reach hover labels and the legend, which
plotly renders as HTML.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from curation.maps.density import density_png, map_bounds, rows_in_shapes

COLOUR_BY = {
    "division": "Division",
    "document_type": "Document type",
    "collection": "Collection",
    "verdict": "Filter verdict",
    "judgment": "Judgment status",
    "cluster": "Cluster",
}
# Okabe-Ito colours, told apart with every common colour-vision deficiency (red/green is not).
FIXED_COLOURS = {
    "verdict": {"kept": "#0072B2", "dropped": "#E69F00", "unjudged": "#b0b0b0"},
    "judgment": {"relevant": "#0072B2", "not relevant": "#E69F00", "queued": "#CC79A7", "unjudged": "#b0b0b0"},
}
MAX_GROUPS = 20  # colours shown; rarer values are drawn as "other"
NONE, OTHER = "(none)", "other"
LIT, DIMMED = 0.85, 0.12  # opacity of points in and outside the selection
HITS, QUERY = "top hits", "query"
DENSITY_FROM = 50_000  # more points than this: a density raster of all of them plus a sample drawn as points
SAMPLE = 20_000  # points drawn (hover, click) over the raster
SAMPLED_OPACITY = 0.35  # sampled points let the raster's mixed colours show through


def colour_groups(values: pd.Series, max_groups: int = MAX_GROUPS) -> pd.Series:
    """The colour group of each point: its value, "(none)" when missing, "other" beyond the most common."""
    filled = values.fillna(NONE).astype(str)
    common = filled.value_counts().index[:max_groups]
    return filled.where(filled.isin(common), OTHER)


def filter_points(frame: pd.DataFrame, chosen: Mapping[str, Collection[str]]) -> pd.DataFrame:
    """Points whose value in each filtered column is one of the chosen ones ("(none)" matches missing)."""
    keep = np.ones(len(frame), dtype=bool)
    for column, values in chosen.items():
        if values:
            keep &= frame[column].fillna(NONE).astype(str).isin(list(values)).to_numpy()
    return frame[keep]


def selected_doc_ids(
    doc_ids: Sequence[str],
    points: Sequence[Mapping[str, Any]],
    *,
    xy: np.ndarray | None = None,
    boxes: Sequence[Mapping[str, Any]] = (),
    lassos: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """The documents of a plotly selection event, given the doc_ids of the table the map was drawn from: its
    points (those without a row, such as the query's marker, are ignored) and, with `xy` (the table's x, y), every
    point inside its `boxes` and `lassos`, drawn or not (a dense map draws only a sample)."""
    rows = {int(p["customdata"]) for p in points if isinstance(p.get("customdata"), (int, float))}
    if xy is not None and (boxes or lassos):
        rows.update(rows_in_shapes(xy[:, 0], xy[:, 1], boxes=boxes, lassos=lassos).tolist())
    return [doc_ids[row] for row in sorted(rows) if 0 <= row < len(doc_ids)]


def map_figure(
    frame: pd.DataFrame,
    *,
    colour_by: str,
    selected: Collection[str] | None = None,
    hits: Sequence[str] = (),
    query: tuple[float, float, str] | None = None,
    cluster_labels: bool = False,
    density_from: int = DENSITY_FROM,
) -> go.Figure:
    """A WebGL scatter of a map, one trace per colour group, as wide as its container.

    With a selection (a set of doc_ids, possibly made on another map), points outside it are dimmed,
    not hidden. `hits` are ringed, `query` (x, y, text) is drawn as a star, and with `cluster_labels` each
    cluster's name is written on the map at the middle of its points. Above `density_from` points, all of them
    are drawn as a density raster whose pixels mix their groups' colours (no group paints over another) and a
    fixed sample of `SAMPLE` as points, for hover and clicks; box and lasso select from all (`selected_doc_ids`).
    """
    groups = colour_groups(frame[colour_by])
    palette = FIXED_COLOURS.get(colour_by, {})
    cycle = qualitative.Plotly + qualitative.Dark24
    lit = _member(frame["doc_id"], selected) if selected is not None else None
    figure = go.Figure()
    order = groups.value_counts()
    colours = [palette.get(group, cycle[i % len(cycle)]) for i, group in enumerate(order.index)]
    codes = pd.Categorical(groups, categories=order.index).codes
    dense = len(frame) > density_from
    drawn = (
        np.sort(np.random.default_rng(0).choice(len(frame), min(SAMPLE, len(frame)), replace=False)) if dense else None
    )
    for i, (group, size) in enumerate(order.items()):
        rows = np.flatnonzero(codes == i) if drawn is None else drawn[codes[drawn] == i]
        opacity = SAMPLED_OPACITY if dense else LIT
        figure.add_trace(
            go.Scattergl(
                x=frame["x"].to_numpy()[rows],
                y=frame["y"].to_numpy()[rows],
                mode="markers",
                name=f"{html.escape(group)} ({size:,})",
                customdata=rows,
                hovertext=_hover(frame, rows),
                hovertemplate="%{hovertext}<extra></extra>",
                marker={
                    "size": 3 if dense else 5,
                    "color": colours[i],
                    "opacity": opacity if lit is None else np.where(lit[rows], opacity, DIMMED),
                },
            )
        )
    if dense:
        x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
        bounds = map_bounds(x, y, [query[:2]] if query else [])
        image = density_png(x, y, codes.astype(np.int64), colours, bounds, lit=lit, dimmed=DIMMED)
        figure.add_layout_image(
            source=image, xref="x", yref="y", x=bounds[0], y=bounds[3], sizex=bounds[1] - bounds[0],
            sizey=bounds[3] - bounds[2], sizing="stretch", layer="below",
        )  # fmt: skip
        figure.update_xaxes(range=bounds[:2])
        figure.update_yaxes(range=bounds[2:])
    ringed = np.flatnonzero(_member(frame["doc_id"], hits))
    if len(ringed):
        rank = {doc_id: n for n, doc_id in enumerate(hits, start=1)}
        figure.add_trace(
            go.Scattergl(
                x=frame["x"].to_numpy()[ringed],
                y=frame["y"].to_numpy()[ringed],
                mode="markers",
                name=HITS,
                customdata=ringed,
                hovertext=[
                    f"#{rank[frame['doc_id'].iat[r]]} {h}" for r, h in zip(ringed, _hover(frame, ringed), strict=True)
                ],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={"size": 13, "symbol": "circle-open", "color": "#000000", "line": {"width": 2}},
            )
        )
    if query is not None:
        figure.add_trace(
            go.Scattergl(
                x=[query[0]],
                y=[query[1]],
                mode="markers",
                name=QUERY,
                hovertext=[f"query: {html.escape(query[2])}"],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={"size": 20, "symbol": "star", "color": "#ffd700", "line": {"width": 1, "color": "#000000"}},
            )
        )
    named = frame.dropna(subset=["cluster"]) if cluster_labels and "cluster" in frame else None
    centres = named.groupby("cluster")[["x", "y"]].median() if named is not None else pd.DataFrame()
    for name, centre in centres.iterrows():
        figure.add_annotation(
            x=centre["x"],
            y=centre["y"],
            text=html.escape(str(name)),
            showarrow=False,
            font={"size": 11, "color": "#1a1a1a"},
            bgcolor="rgba(255, 255, 255, 0.75)",
        )
    figure.update_layout(
        height=620,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "itemsizing": "constant"},
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def _member(column: pd.Series, values: Collection[str]) -> np.ndarray:
    """Whether each value of a string column is one of `values` (Arrow's hash lookup: pandas' `isin` on Arrow
    strings walks a Python list, 10x slower at 300k rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.is_in(pa.array(column, pa.string()), value_set=pa.array(list(values), pa.string()))
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _hover(frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Hover labels of the drawn `rows` only: escaped title, then escaped url (or doc_id)."""
    titles = frame["title"].take(rows).fillna("").to_numpy()
    links = frame["url"].take(rows).fillna(frame["doc_id"].take(rows)).to_numpy()
    return np.array(
        [f"<b>{html.escape(str(t)[:120])}</b><br>{html.escape(str(u))}" for t, u in zip(titles, links, strict=True)],
        dtype=object,
    )
