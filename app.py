"""SDE Workbench: the Streamlit app. Layout only; every action calls a service of curation/ (never store/)."""

import streamlit as st

from curation.core import Action
from pages.common import app_icon, sidebar, workspace
from pages.state import remember_choices
from pages.team import gate, may

# The icon is an image made here: a Material icon or an emoji as page_icon makes the browser fetch it from a CDN.
st.set_page_config(page_title="SDE Workbench", page_icon=app_icon(), layout="wide")
gate(workspace())  # served to a team: sign in first; the role decides which pages there are

# section -> (file, title, icon, what using the page needs; every role may judge)
PAGES: dict[str, list[tuple[str, str, str, Action]]] = {
    "Content": [
        ("pages/overview.py", "Overview", ":material/dashboard:", "judge"),
        ("pages/load.py", "Load", ":material/upload_file:", "ingest"),
    ],
    "Retrieval": [
        ("pages/embed.py", "Embed", ":material/memory:", "embed"),
        ("pages/search.py", "Search", ":material/search:", "judge"),
    ],
    "Explore": [
        ("pages/map.py", "Map", ":material/scatter_plot:", "judge"),
    ],
    "Curation": [
        ("pages/review.py", "Filter & review", ":material/filter_alt:", "filter"),
        ("pages/rules.py", "Rules", ":material/rule:", "filter"),
    ],
    "Judging": [
        ("pages/compare.py", "Compare", ":material/compare_arrows:", "judge"),
        ("pages/judge.py", "Judge", ":material/grading:", "judge"),
    ],
    "Evaluation": [
        ("pages/evaluate.py", "Evaluate", ":material/analytics:", "judge"),
        ("pages/finetune.py", "Fine-tune", ":material/model_training:", "finetune"),
    ],
    "Workspace": [
        ("pages/jobs.py", "Jobs", ":material/work_history:", "judge"),
    ],
}

allowed = {
    section: [
        st.Page(file, title=title, icon=icon, default=file == "pages/overview.py")
        for file, title, icon, needs in pages
        if may(needs)
    ]
    for section, pages in PAGES.items()
}
page = st.navigation({section: pages for section, pages in allowed.items() if pages})
remember_choices()
sidebar()
page.run()
