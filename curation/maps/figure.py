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


def selected_doc_ids(doc_ids: Sequence[str], points: Sequence[Mapping[str, Any]]) -> list[str]:
    """The documents of a plotly selection event's points, given the doc_ids of the table the map was
    drawn from (points without a row, such as the query's marker, are ignored)."""
    rows = {int(p["customdata"]) for p in points if isinstance(p.get("customdata"), (int, float))}
    return [doc_ids[row] for row in sorted(rows) if 0 <= row < len(doc_ids)]


def map_figure(
    frame: pd.DataFrame,
    *,
    colour_by: str,
    selected: Collection[str] | None = None,
    hits: Sequence[str] = (),
    query: tuple[float, float, str] | None = None,
    cluster_labels: bool = False,
) -> go.Figure:
    """A WebGL scatter of a map, one trace per colour group, as wide as its container.

    With a selection (a set of doc_ids, possibly made on another map), points outside it are dimmed,
    not hidden. `hits` are ringed, `query` (x, y, text) is drawn as a star, and with `cluster_labels` each
    cluster's name is written on the map at the middle of its points.
    """
    groups = colour_groups(frame[colour_by])
    palette = FIXED_COLOURS.get(colour_by, {})
    cycle = qualitative.Plotly + qualitative.Dark24
    hover = _hover(frame)
    lit = frame["doc_id"].isin(selected).to_numpy() if selected is not None else None
    figure = go.Figure()
    order = groups.value_counts().index
    for i, group in enumerate(order):
        rows = np.flatnonzero((groups == group).to_numpy())
        figure.add_trace(
            go.Scattergl(
                x=frame["x"].to_numpy()[rows],
                y=frame["y"].to_numpy()[rows],
                mode="markers",
                name=f"{html.escape(group)} ({len(rows):,})",
                customdata=rows,
                hovertext=hover[rows],
                hovertemplate="%{hovertext}<extra></extra>",
                marker={
                    "size": 5,
                    "color": palette.get(group, cycle[i % len(cycle)]),
                    "opacity": LIT if lit is None else np.where(lit[rows], LIT, DIMMED),
                },
            )
        )
    ringed = np.flatnonzero(frame["doc_id"].isin(hits).to_numpy())
    if len(ringed):
        rank = {doc_id: n for n, doc_id in enumerate(hits, start=1)}
        figure.add_trace(
            go.Scattergl(
                x=frame["x"].to_numpy()[ringed],
                y=frame["y"].to_numpy()[ringed],
                mode="markers",
                name=HITS,
                customdata=ringed,
                hovertext=[f"#{rank[frame['doc_id'].iat[r]]} {hover[r]}" for r in ringed],
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


def _hover(frame: pd.DataFrame) -> np.ndarray:
    """Hover labels: escaped title, then escaped url (or doc_id)."""
    titles = frame["title"].fillna("").to_numpy()
    links = frame["url"].fillna(frame["doc_id"]).to_numpy()
    return np.array(
        [f"<b>{html.escape(str(t)[:120])}</b><br>{html.escape(str(u))}" for t, u in zip(titles, links, strict=True)],
        dtype=object,
    )
