"""Rules: curation patterns per collection (COSMOS-style exclude/include, title, division and document-type
patterns), what each decides, a live preview of a pattern's impact before it is saved, and LLM suggestions."""

import pandas as pd
import streamlit as st

from curation.core import collection_label, collection_names
from curation.jobs import suggest_job
from curation.relevancy import (
    KINDS,
    Pattern,
    PatternError,
    add_pattern,
    effective_patterns,
    infer_match,
    pattern_table,
    preview_pattern,
    remove_pattern,
    rule_matrix,
    run_rules,
    set_active,
)
from pages.background import follow, start
from pages.common import curator, facet_counts, workspace
from pages.state import notify, show_notices

ws = workspace()
show_notices()
st.title("Rules")
st.caption(
    "Patterns as SDE curators write them in COSMOS: an include beats an exclude, the most specific pattern wins "
    "(one URL, then the longer literal prefix, then a collection's over a global one). `Run rules` on Filter & "
    "review (or `sde-workbench filter --judge rules`) applies them."
)
who = curator()
names = collection_names(ws)
collections = [c for c in facet_counts("collection") if c is not None]


def label(key: str | None) -> str:
    return "global" if key is None else collection_label(names, key)


# -- patterns ----------------------------------------------------------------------------------------------------
st.subheader("Patterns")
shown = st.selectbox("Collection", ["all", *collections], format_func=lambda c: c if c == "all" else label(c))
table = pattern_table(ws)
if shown != "all":
    table = table[table["scope"].isin(["global", label(shown)])]
picked = st.dataframe(
    table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="pattern_rows"
)
if picked.selection.rows:
    chosen = table.iloc[picked.selection.rows[0]]
    reason = st.text_input("Reason for the change", key="change_reason")
    act = st.columns(3)
    if act[0].button("Activate (accept)", disabled=not who, key="activate"):
        set_active(ws, chosen["pattern_id"], True, who, reason or None)
        notify(f"{chosen['pattern_id']} active")
        st.rerun()
    if act[1].button("Deactivate (reject)", disabled=not who, key="deactivate"):
        set_active(ws, chosen["pattern_id"], False, who, reason or None)
        notify(f"{chosen['pattern_id']} inactive")
        st.rerun()
    if act[2].button("Remove", disabled=not who, key="remove"):
        remove_pattern(ws, chosen["pattern_id"], who, reason or None)
        notify(f"{chosen['pattern_id']} removed")
        st.rerun()
if not who:
    st.warning("Enter your name as **Curator** in the sidebar to change patterns.")

# -- matrix ------------------------------------------------------------------------------------------------------
st.subheader("Rule by collection")
if st.button("Run rules", icon=":material/rule:"):
    with st.spinner("Applying rules..."):
        ruled = run_rules(ws)
    notify(f"{ruled.judged:,} judged: {ruled.kept:,} kept, {ruled.dropped:,} dropped")
    st.rerun()
matrix = rule_matrix(ws)
if matrix.empty:
    st.caption("No rules verdicts yet: run the rules.")
else:
    shares = matrix.pivot_table(index="rule", columns="collection", values="dropped_share", fill_value=0.0)
    st.caption("Share of each collection's documents a rule drops (include patterns keep, so 0).")
    st.dataframe(shares.style.format("{:.0%}"), width="stretch")
    for row in matrix[matrix["most"]].itertuples():
        st.warning(
            f"`{row.rule}` drops {row.dropped_share:.0%} of collection {row.collection}: "
            "does this rule fit that source? An include pattern for the collection keeps its pages."
        )

# -- add with a live preview -------------------------------------------------------------------------------------
st.subheader("Add a pattern")
a, b, c = st.columns(3)
kind = a.selectbox("Kind", KINDS, key="new_kind")
scope = b.selectbox("Scope", [None, *collections], format_func=label, key="new_scope")
match = c.selectbox("Match", ["auto", "exact", "wildcard", "regex"], key="new_match")
text = st.text_input("Pattern", placeholder="science.nasa.gov/gallery/*", key="new_pattern")
value = st.text_input("Value (title, division or document type)", key="new_value") if kind != "exclude" else None
why = st.text_input("Reason", key="new_reason")
candidate: Pattern | None = None
if text.strip():
    try:
        candidate = Pattern(
            kind=kind,
            scope=scope,
            match=infer_match(text) if match == "auto" else match,
            pattern=text,
            value=value or None,
            reason=why or None,
        )
        preview = preview_pattern(ws, candidate)
    except (PatternError, ValueError) as exc:
        st.error(str(exc).splitlines()[-1])
        candidate = None
    else:
        m = st.columns(4)
        m[0].metric("Matches", f"{preview.matched:,}")
        m[1].metric("Verdicts change", f"{preview.changed:,}")
        m[2].metric("Newly dropped", f"{preview.newly_dropped:,}")
        m[3].metric("Judged relevant dropped", f"{len(preview.judged_relevant_dropped):,}")
        if preview.sample:
            st.dataframe(pd.DataFrame([s.model_dump() for s in preview.sample]), hide_index=True, width="stretch")
        if preview.judged_relevant_dropped:
            st.error("It would drop documents curators judged relevant:")
            st.dataframe(
                pd.DataFrame([j.model_dump() for j in preview.judged_relevant_dropped]),
                hide_index=True,
                width="stretch",
            )
        if preview.ndcg:
            st.caption("NDCG@10 of stored runs with the dropped documents taken out (projected, no re-embedding)")
            st.dataframe(pd.DataFrame([n.model_dump() for n in preview.ndcg]), hide_index=True, width="stretch")
if st.button("Save pattern", disabled=candidate is None or not who, icon=":material/save:"):
    assert candidate is not None
    saved = add_pattern(ws, candidate, who)
    notify(f"pattern {saved.pattern_id} saved; run the rules to apply it")
    st.rerun()

# -- suggestions -------------------------------------------------------------------------------------------------
st.subheader("Suggestions")
if collections:
    ask = st.columns([2, 1])
    target = ask[0].selectbox("Suggest exclude patterns for", collections, format_func=label, key="suggest_for")
    if ask[1].button("Ask the LLM", icon=":material/smart_toy:", disabled=not who):
        start(ws, suggest_job(target), who)
    follow(ws, "suggest", target, lambda r: f"{len(r.get('suggested', [])):,} patterns suggested", key="suggest")
suggested = [p for p in effective_patterns(ws) if p.provenance == "llm-suggested" and not p.active]
if not suggested:
    st.caption("No pending LLM suggestions (`sde-workbench rules suggest --collection NAME`).")
for p in suggested:
    with st.container(border=True):
        st.text(f"{p.kind} {p.pattern} ({label(p.scope)})")
        st.caption(p.reason or "")
        impact = preview_pattern(ws, p, with_ndcg=False)
        st.caption(
            f"matches {impact.matched:,}, drops {impact.newly_dropped:,} more, "
            f"{len(impact.judged_relevant_dropped):,} judged relevant"
        )
        yes, no = st.columns(2)
        if yes.button("Accept", key=f"accept_{p.pattern_id}", disabled=not who):
            set_active(ws, p.pattern_id, True, who, "accepted suggestion")
            notify(f"{p.pattern_id} accepted")
            st.rerun()
        if no.button("Reject", key=f"reject_{p.pattern_id}", disabled=not who):
            remove_pattern(ws, p.pattern_id, who, "rejected suggestion")
            notify(f"{p.pattern_id} rejected")
            st.rerun()
