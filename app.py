"""SDE Workbench: the Streamlit app. Layout only; every action calls a service of curation/ (never store/)."""

import streamlit as st

from pages.common import app_icon, sidebar
from pages.state import remember_choices

# The icon is an image made here: a Material icon or an emoji as page_icon makes the browser fetch it from a CDN.
st.set_page_config(page_title="SDE Workbench", page_icon=app_icon(), layout="wide")

PAGES = {
    "Content": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/load.py", title="Load", icon=":material/upload_file:"),
    ],
    "Retrieval": [
        st.Page("pages/embed.py", title="Embed", icon=":material/memory:"),
        st.Page("pages/search.py", title="Search", icon=":material/search:"),
    ],
    "Explore": [
        st.Page("pages/map.py", title="Map", icon=":material/scatter_plot:"),
    ],
    "Curation": [
        st.Page("pages/review.py", title="Filter & review", icon=":material/filter_alt:"),
        st.Page("pages/rules.py", title="Rules", icon=":material/rule:"),
    ],
    "Judging": [
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/judge.py", title="Judge", icon=":material/grading:"),
    ],
    "Evaluation": [
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
        st.Page("pages/finetune.py", title="Fine-tune", icon=":material/model_training:"),
    ],
    "Workspace": [
        st.Page("pages/jobs.py", title="Jobs", icon=":material/work_history:"),
    ],
}

page = st.navigation(PAGES)
remember_choices()
sidebar()
page.run()
