"""Map: each retriever's documents on a 2-D UMAP map; colour, filter, overlay a query, select and act.

Same as `sde-workbench map --retriever NAME` for building and updating maps.
"""

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from curation.jobs import map_job
from curation.judging import judging_queue, queue_for_judging
from curation.maps import (
    COLOUR_BY,
    HITS,
    MapBusy,
    MapError,
    align,
    cluster_map,
    filter_points,
    map_figure,
    map_info,
    map_points,
    map_status,
    mappable_retrievers,
    query_overlay,
    saved_clusters,
    selected_doc_ids,
)
from curation.relevancy import decide
from curation.retrieval import RETRIEVAL_ERRORS, retriever_version
from pages.background import follow, start
from pages.common import curator, workspace
from pages.state import keep, notify
from pages.team import may

EXPECTED = (MapError, MapBusy, *RETRIEVAL_ERRORS)
SELECTION = "map_selection"  # doc_ids selected on either map, or None
SHOWN_COLUMNS = ["doc_id", "title", "url", "division", "document_type", "collection", "verdict", "judgment", "cluster"]
LISTED = 200  # selected documents listed in the table (the actions take them all)
FACETS = ["division", "document_type", "collection", "cluster"]


# What the page derives from the tables is cached under the workspace's data version (and the vectors' version
# for the map's status), shared by every session: a rerun that changed nothing (a colour, a selection) reads none
# of it again; a write anywhere (ingest, rules, a decision, a judgment, a map job) makes it current again once.
@st.cache_data(max_entries=32, show_spinner=False)
def status_of(root: str, name: str, version: int, vectors: str) -> Any:
    return map_status(workspace(), name)


@st.cache_data(max_entries=32, show_spinner=False)
def record_of(root: str, name: str, version: int) -> dict[str, Any] | None:
    return map_info(workspace(), name)


@st.cache_resource(max_entries=4, show_spinner="Reading the map...")
def points_of(root: str, name: str, version: int) -> pd.DataFrame:
    """Every point of a map (shared, not copied: never changed in place)."""
    return map_points(workspace(), name)


@st.cache_resource(max_entries=8, show_spinner=False)
def drawn_frames(root: str, names: tuple[str, ...], version: int, chosen: str) -> list[tuple[pd.DataFrame, Any]]:
    """Each map's filtered points, every map after the first aligned onto it, with that alignment (or None)."""
    filters = json.loads(chosen)
    drawn: list[tuple[pd.DataFrame, Any]] = []
    for name in names:
        frame = filter_points(points_of(root, name, version), filters).reset_index(drop=True)
        if drawn:
            drawn.append(align(drawn[0][0], frame))
        else:
            drawn.append((frame, None))
    return drawn


@st.cache_data(max_entries=16, show_spinner=False)
def figure_of(
    root: str,
    names: tuple[str, ...],
    version: int,
    chosen: str,
    side: int,
    colour_by: str,
    selection: str | None,
    _selected: list[str] | None,
    hits: tuple[str, ...],
    placed: tuple[float, float, str] | None,
    labels: bool,
    density_from: int,
) -> Any:
    """A map's figure (its density image is the costly part at scale), drawn again only when what it shows
    changed, not when another widget reruns the page. The selection keys the cache by its digest (`selection`):
    hashing 30k selected ids one by one took a third of a second per rerun."""
    frame = drawn_frames(root, names, version, chosen)[side][0]
    return map_figure(
        frame,
        colour_by=colour_by,
        selected=_selected,
        hits=list(hits),
        query=placed,
        cluster_labels=labels,
        density_from=density_from,
    )


def digest(ids: Iterable[str]) -> str:
    """A short key for a set of document ids, whatever their order."""
    return hashlib.blake2b("\n".join(sorted(ids)).encode(), digest_size=16).hexdigest()


@st.cache_data(max_entries=8, show_spinner=False)
def facet_values(root: str, names: tuple[str, ...], version: int) -> dict[str, list[str]]:
    frames = [points_of(root, name, version) for name in names]
    return {f: sorted({str(v) for frame in frames for v in frame[f].fillna("(none)").unique()}) for f in FACETS}


ws = workspace()
root = str(ws.root)
version = ws.data_version()
st.title("Map")
st.caption(
    "Each point is a document, placed by UMAP from its vector. Box or lasso to select (the same documents light "
    "up on the other map), then keep, drop, queue for judging or export them."
)

names = mappable_retrievers(ws)
if not names:
    st.info("No retriever has vectors yet. Embed one on the **Embed** page or run `sde-workbench embed -r minilm`.")
    st.stop()

top = st.columns(3)
left_name = top[0].selectbox("Retriever", names, key=keep("map_retriever", url="retriever", options=names))
others = ["(none)", *(n for n in names if n != left_name)]
compare = top[1].selectbox("Side by side with", others, key=keep("map_compare", url="with", options=others))
shown = [left_name] if compare == "(none)" else [left_name, compare]


def build_controls(name: str) -> dict[str, Any] | None:
    """The map's record, after offering to build or update it (a background job); None when it has no map yet."""
    job = follow(
        ws, "map", name, lambda r: f"Map of {r['retriever']}: {r['points']:,} points", key=f"map_{name}", recent=120
    )
    if job is not None and job.active:
        return record_of(root, name, version)  # the map as it was, if any, while the job places the rest
    status = status_of(root, name, version, retriever_version(ws, name))
    if not status.current:
        if not status.built:
            label, note = f"Build the map of {name}", f"{name} has no map yet."
        elif status.refit:
            label, note = f"Refit the map of {name}", "The corpus outgrew the sample this map was fitted on."
        else:
            label = f"Update the map of {name}"
            note = f"{status.to_place:,} documents to place, {status.to_remove:,} to remove."
        st.caption(note)
        if st.button(label, key=f"build_{name}", icon=":material/scatter_plot:", type="primary"):
            start(ws, map_job(name), curator())
    return record_of(root, name, version)


records: dict[str, dict[str, Any]] = {}
try:
    for column, name in zip(st.columns(len(shown)), shown, strict=True):
        with column:
            if record := build_controls(name):
                records[name] = record
except EXPECTED as exc:
    st.error(str(exc))
    st.stop()
shown = list(records)
if not shown:
    st.stop()

frames = {name: points_of(root, name, version) for name in shown}
values = facet_values(root, tuple(shown), version)
has_clusters = values["cluster"] != ["(none)"]
options = [key for key in COLOUR_BY if key != "cluster" or has_clusters]
colour_by = top[2].selectbox(
    "Colour by", options, format_func=COLOUR_BY.get, key=keep("map_colour", url="colour", options=options)
)

with st.expander("Filter points"):
    facets = FACETS if has_clusters else FACETS[:-1]
    filter_columns = st.columns(len(facets))
    chosen = {
        facet: filter_columns[i].multiselect(COLOUR_BY[facet], values[facet], key=keep(f"filter_{facet}", []))
        for i, facet in enumerate(facets)
    }

with st.expander("Clusters"):
    st.caption("k-means on the map's points, each cluster named by its most distinctive terms.")
    k = st.number_input("Clusters", 2, 100, key=keep("cluster_k", ws.settings.maps.clusters, parse=int))
    show_labels = st.toggle("Cluster labels on the map", key=keep("map_labels", True))
    for name in shown:
        if st.button(f"Cluster the map of {name}", key=f"cluster_{name}"):
            made = cluster_map(ws, name, int(k))
            notify(f"The map of {name} has {len(made)} clusters")
            st.rerun()
        clusters = saved_clusters(ws, name)
        if not clusters.empty:
            st.dataframe(clusters, hide_index=True, width="stretch")

query_columns = st.columns([4, 1])
query = query_columns[0].text_input(
    "Query", placeholder="sea surface temperature anomalies", key=keep("map_query", "", url="q")
)
hits_k = query_columns[1].number_input("Top hits", 1, 100, key=keep("map_hits", 10, parse=int))


@st.cache_data(max_entries=8, show_spinner="Placing the query...")
def overlay(root: str, name: str, text: str, k: int, version: str) -> dict[str, Any]:
    """The query's place and hits on a map; `root` and `version` (the map's state) key the cache."""
    return query_overlay(ws, name, text, k=k).model_dump()


def remember(side: int) -> None:
    """Selection callback: the documents selected on the map drawn at `side`, for every map to light up."""
    selection = st.session_state[f"map_chart_{side}"]["selection"]
    frame = st.session_state.get(f"map_frame_{side}")
    if frame is None:
        return
    xy = frame[["x", "y"]].to_numpy()
    picked = selected_doc_ids(
        frame["doc_id"].tolist(), selection["points"], xy=xy, boxes=selection["box"], lassos=selection["lasso"]
    )
    st.session_state[SELECTION] = picked or None


selected = st.session_state.get(SELECTION)
drawn = drawn_frames(root, tuple(shown), version, json.dumps(chosen, sort_keys=True))
for side, (column, name, (frame, to_reference)) in enumerate(zip(st.columns(len(shown)), shown, drawn, strict=True)):
    hits: list[str] = []
    placed = None
    record = records[name]
    if query.strip():
        try:
            found = overlay(str(ws.root), name, query, int(hits_k), f"{record['reducer']}@{record['updated_at']}")
        except EXPECTED as exc:
            column.error(str(exc))
        else:
            hits = [hit["doc_id"] for hit in found["hits"]]
            xy = np.array([[found["x"], found["y"]]])
            x, y = (to_reference(xy) if to_reference else xy)[0]
            placed = (float(x), float(y), query)
    with column:
        st.caption(f"**{name}**: {len(frame):,} of {record['points']:,} points, fitted on {record['fitted_on']:,}")
        st.session_state[f"map_frame_{side}"] = frame  # the cached frame itself: no copy per session
        figure = figure_of(
            root,
            tuple(shown),
            version,
            json.dumps(chosen, sort_keys=True),
            side,
            colour_by,
            None if selected is None else digest(selected),
            None if selected is None else list(selected),
            tuple(hits),
            placed,
            show_labels,
            ws.settings.maps.density_from,
        )
        st.plotly_chart(
            figure,
            key=f"map_chart_{side}",
            on_select=lambda side=side: remember(side),
            selection_mode=("box", "lasso", "points"),
            width="stretch",
        )
        if hits:
            in_view = sum(trace.name == HITS for trace in figure.data)
            st.caption(f"{len(hits)} hits for the query, ringed on the map" + ("" if in_view else " (none in view)"))

# -- the selection -----------------------------------------------------------------------------------------------
queued = judging_queue(ws)
st.caption(f"{len(queued):,} documents queued for judging.")
if not selected:
    st.caption("Select points with the box or lasso tool to list them here.")
    st.stop()

everything = frames[shown[0]] if len(frames) == 1 else pd.concat(frames.values()).drop_duplicates("doc_id")
rows = everything[everything["doc_id"].isin(selected)][SHOWN_COLUMNS]
st.subheader(f"{len(rows):,} selected documents")
st.dataframe(rows.head(LISTED), hide_index=True, width="stretch")
if len(rows) > LISTED:
    st.caption(f"The first {LISTED} are listed; the actions and the export take all {len(rows):,}.")
ids = rows["doc_id"].tolist()

who = curator()
if not who:
    st.warning("Enter your name as **Curator** in the sidebar to keep, drop or queue documents.")
elif not may("filter"):
    st.caption("Your role may judge, not keep, drop or queue documents: export the ids for a curator.")
act = bool(who) and may("filter")
note = st.text_input("Note (optional, stored with a keep or drop decision)", key="map_note")
actions = st.columns(5)
if actions[0].button(f"Keep {len(ids):,}", disabled=not act, icon=":material/check:", key="map_keep"):
    decide(ws, ids, kept=True, curator=who, note=note)
    notify(f"{len(ids):,} documents kept by {who}")
    st.rerun()
if actions[1].button(f"Drop {len(ids):,}", disabled=not act, icon=":material/block:", key="map_drop"):
    decide(ws, ids, kept=False, curator=who, note=note)
    notify(f"{len(ids):,} documents dropped by {who}", ":material/block:")
    st.rerun()
if actions[2].button("Queue for judging", disabled=not act, icon=":material/playlist_add:", key="map_queue"):
    added = queue_for_judging(ws, ids, who)
    notify(f"{added:,} documents queued for judging ({len(ids) - added:,} already were)", ":material/playlist_add:")
    st.rerun()
actions[3].download_button(
    "Export ids (CSV)",
    pd.DataFrame({"doc_id": ids}).to_csv(index=False),
    file_name="selected_doc_ids.csv",
    mime="text/csv",
    icon=":material/download:",
    key="map_export",
)
if actions[4].button("Clear selection", key="map_clear"):
    st.session_state[SELECTION] = None
    notify("Selection cleared", ":material/deselect:")
    st.rerun()
