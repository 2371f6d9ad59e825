"""Overview: what the workspace holds and what recent ingests did; a bar of a chart lists its documents."""

import pandas as pd
import plotly.express as px
import streamlit as st

from curation.core import WorkspaceStatus, collection_label, collection_names, documents_with, workspace_status
from curation.ingest import recent_ingests
from pages.common import workspace

NONE = "(none)"


@st.cache_data(max_entries=8, show_spinner=False)
def status_of(root: str, version: int) -> WorkspaceStatus:
    """The counts scan every document: once per change of the workspace's data, not on every visit."""
    return workspace_status(workspace())


ws = workspace()
status = status_of(str(ws.root), ws.data_version())
names = collection_names(ws)

st.title("Overview")
cols = st.columns(4)
cols[0].metric("Documents", f"{status.documents:,}")
cols[1].metric("Collections", f"{len([c for c in status.by_collection if c != NONE]):,}")
cols[2].metric("Query sets", f"{len(status.query_sets):,}")
cols[3].metric("Judgments", f"{status.judgments:,}")


def bar(counts: dict[str, int], facet: str, label: str, top: int = 25) -> tuple[str, str | None] | None:
    """A bar chart of documents per value; returns (facet, value) of the bar clicked, if any."""
    values = list(counts)[:top]
    shown = [collection_label(names, v) if facet == "collection" else v for v in values]
    frame = pd.DataFrame({label: shown, "documents": [counts[v] for v in values], "value": values})
    figure = px.bar(
        frame, x="documents", y=label, orientation="h", height=max(220, 28 * len(frame)), custom_data=["value"]
    )
    figure.update_layout(
        yaxis={"categoryorder": "total ascending", "title": None},
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        clickmode="event+select",
    )
    figure.update_traces(hovertemplate="%{y}: %{x:,} documents<extra>click to list them</extra>")
    event = st.plotly_chart(figure, width="stretch", on_select="rerun", selection_mode="points", key=f"bar_{facet}")
    points = event.selection.points if event and event.selection else []
    if not points:
        return None
    picked = points[0].get("customdata", [None])[0] or values[shown.index(points[0]["y"])]
    return facet, None if picked == NONE else picked


if status.documents == 0:
    st.info("This workspace is empty. Load content on the **Load** page or run `sde-workbench ingest PATH`.")
else:
    st.caption("Click a bar to list its documents.")
    left, right = st.columns(2)
    with left:
        st.subheader("By division")
        clicked = [bar(status.by_division, "division", "division")]
    with right:
        st.subheader("By document type")
        clicked.append(bar(status.by_document_type, "document_type", "document type"))
    st.subheader("By collection")
    clicked.append(bar(status.by_collection, "collection", "collection"))
    chosen = next((c for c in clicked if c), None)
    if chosen:
        facet, value = chosen
        shown = collection_label(names, value) if facet == "collection" and value else value or NONE
        docs = documents_with(ws, facet, value)
        st.subheader(f"Documents of {facet.replace('_', ' ')} {shown}", anchor=False)
        st.dataframe(
            docs.assign(collection=docs["collection"].map(lambda c: collection_label(names, c) if c else c)),
            hide_index=True,
            width="stretch",
            key="overview_docs",
        )
        if len(docs) == 500:
            st.caption("The first 500 by title.")
    if status.taxonomy_flags:
        st.warning(
            "Some documents carry values outside the SDE taxonomy (kept as written): "
            + ", ".join(f"{flag}: {n:,}" for flag, n in status.taxonomy_flags.items())
        )

st.subheader("Recent ingests")
ingests = recent_ingests(ws)
if ingests.empty:
    st.caption("No ingests yet.")
else:
    st.dataframe(ingests, hide_index=True, width="stretch")
