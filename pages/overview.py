"""Overview: what the workspace holds and what recent ingests did."""

import pandas as pd
import plotly.express as px
import streamlit as st

from curation.core import workspace_status
from curation.ingest import recent_ingests
from pages.common import workspace

ws = workspace()
status = workspace_status(ws)

st.title("Overview")
cols = st.columns(4)
cols[0].metric("Documents", f"{status.documents:,}")
cols[1].metric("Collections", f"{len([c for c in status.by_collection if c != '(none)']):,}")
cols[2].metric("Query sets", f"{len(status.query_sets):,}")
cols[3].metric("Judgments", f"{status.judgments:,}")

if status.documents == 0:
    st.info("This workspace is empty. Load content on the **Load** page or run `sde-workbench ingest PATH`.")
else:

    def bar(counts: dict[str, int], label: str, top: int = 25) -> None:
        frame = pd.DataFrame({label: list(counts), "documents": list(counts.values())}).head(top)
        figure = px.bar(frame, x="documents", y=label, orientation="h", height=max(220, 28 * len(frame)))
        figure.update_layout(yaxis={"categoryorder": "total ascending"}, margin={"l": 0, "r": 0, "t": 10, "b": 0})
        st.plotly_chart(figure, width="stretch")

    left, right = st.columns(2)
    with left:
        st.subheader("By division")
        bar(status.by_division, "division")
    with right:
        st.subheader("By document type")
        bar(status.by_document_type, "document type")
    st.subheader("By collection")
    bar(status.by_collection, "collection")
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
