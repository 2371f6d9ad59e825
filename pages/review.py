"""Filter & review: run the SDE rules and the LLM judge, then accept or override verdicts and suggestions."""

import json
from typing import Any

import pandas as pd
import streamlit as st

from curation.core import document_counts, get_documents
from curation.jobs import dedup_job, llm_filter_job
from curation.llm import PROVIDERS, LLMError
from curation.relevancy import (
    MINHASH,
    accept_verdicts,
    cluster_table,
    decide,
    keep_one,
    llm_failures,
    pending_suggestions,
    review_suggestions,
    run_rules,
    verdict_counts,
    verdict_matches,
    verdicts,
)
from pages.background import follow, start
from pages.common import curator, workspace

PAGE_ROWS = 100  # verdict rows per page, read from the database page by page


# Counts are cached under the workspace's data version (any write moves it on), shared by every session: a filter
# change or a row ticked reads none of them again.
@st.cache_data(max_entries=16, show_spinner=False)
def counts_of(root: str, version: int) -> dict[str, Any]:
    ws = workspace()
    return {
        "verdicts": verdict_counts(ws),
        "suggestions": len(pending_suggestions(ws)),
        "division": list(document_counts(ws, "division")),
        "collection": list(document_counts(ws, "collection")),
    }


@st.cache_data(max_entries=64, show_spinner=False)
def matches_of(root: str, version: int, filters: str) -> int:
    return verdict_matches(workspace(), **json.loads(filters))


ws = workspace()
version = ws.data_version()
cached = counts_of(str(ws.root), version)
st.title("Filter & review")
st.caption(
    "Cheap SDE rules first (word count, URL path words, exclude patterns), then an LLM judge on what the rules "
    "keep. A curator's decision wins over both. Search, maps, comparison and export can use only kept documents."
)

# -- run ---------------------------------------------------------------------------------------------------------
left, right = st.columns(2)
with left, st.container(border=True):
    st.subheader("Rules")
    st.caption(f"Settings: `[rules]` in {ws.toml_path.name}")
    if st.button("Run rules", icon=":material/rule:"):
        with st.spinner("Applying rules..."):
            ruled = run_rules(ws)
        st.success(f"{ruled.judged:,} judged: {ruled.kept:,} kept, {ruled.dropped:,} dropped")

llm = ws.settings.llm
with right, st.container(border=True):
    st.subheader("LLM judge")
    with st.form("llm"):
        a, b = st.columns(2)
        provider = a.selectbox("Provider", PROVIDERS, index=PROVIDERS.index(llm.provider))
        model_name = b.text_input("Model", llm.model)
        base_url = st.text_input("Base URL", llm.base_url or "", placeholder="http://127.0.0.1:8000/v1")
        c, d = st.columns(2)
        concurrency = c.number_input("Concurrency", 1, 256, llm.concurrency)
        limit = d.number_input("Limit (0 = all)", 0, None, 0)
        launch = st.form_submit_button("Run LLM judge", icon=":material/smart_toy:")
    st.caption("Keys come from environment variables only (OPENAI_API_KEY, ANTHROPIC_API_KEY or `api_key_env`).")
    if launch:
        model_id = f"{provider}:{model_name.strip()}"
        try:
            llm.with_overrides(model_id, base_url.strip() or None, concurrency)  # a bad model name is refused here
        except LLMError as exc:
            st.error(str(exc))
            st.stop()
        start(ws, llm_filter_job(model_id, base_url.strip() or None, int(concurrency), int(limit) or None), curator())

    def judged(r: dict) -> str:
        return (
            f"{r['judged']:,} judged ({r['kept']:,} kept, {r['dropped']:,} dropped), {r['cached']:,} cached, "
            f"{r['errors']:,} errors, {r['calls']:,} calls, {r['tokens']:,} tokens"
        )

    follow(ws, "filter", "llm", judged, key="llm_judge", recent=3600)

# -- counts ------------------------------------------------------------------------------------------------------
counts = cached["verdicts"]
cols = st.columns(5)
for col, key in zip(cols, ("kept", "dropped", "unjudged"), strict=False):
    col.metric(key.capitalize(), f"{counts['by_verdict'].get(key, 0):,}")
cols[3].metric("LLM errors", f"{counts['llm_errors']['documents']:,}")
cols[4].metric("Pending suggestions", f"{cached['suggestions']:,}")
by = st.columns(3)
for col, (title, key) in zip(
    by, [("By judge", "by_judge"), ("By rule", "by_rule"), ("By quality", "by_quality")], strict=True
):
    with col:
        st.caption(title)
        st.dataframe(
            pd.DataFrame({"": list(counts[key]), "documents": list(counts[key].values())}),
            hide_index=True,
            width="stretch",
        )
if counts["llm_errors"]["documents"]:
    with st.expander("LLM failures (retried on the next run)"):
        st.dataframe(llm_failures(ws), hide_index=True, width="stretch")

# -- verdicts ----------------------------------------------------------------------------------------------------
st.subheader("Verdicts")
f = st.columns(6)
verdict = f[0].selectbox("Verdict", ["all", "kept", "dropped"])
judge = f[1].selectbox("Judge", ["all", "curator", "llm", "rules"])
quality = f[2].selectbox("Quality", ["all", "VERY_GOOD", "GOOD", "POOR"])
division = f[3].selectbox("Division", ["all", *cached["division"]])
collection = f[4].selectbox("Collection", ["all", *cached["collection"]])
rule = f[5].selectbox("Rule", ["all", *counts["by_rule"]])
min_confidence = st.slider("Minimum LLM confidence", 0.0, 1.0, 0.0, 0.05)
filters: dict[str, Any] = {
    "kept": {"all": None, "kept": True, "dropped": False}[verdict],
    "judge": None if judge == "all" else judge,
    "quality": None if quality == "all" else quality,
    "division": None if division in ("all", "(none)") else division,
    "collection": None if collection in ("all", "(none)") else collection,
    "rule": None if rule == "all" else rule,
    "min_confidence": min_confidence or None,
}
chosen = json.dumps(filters, sort_keys=True)
filters_key = abs(hash(chosen))  # widgets keyed by the filters start afresh when they change
matching = matches_of(str(ws.root), version, chosen)
pages = max(1, -(-matching // PAGE_ROWS))
page = (
    st.number_input(f"Page (of {pages:,}; {matching:,} matches)", 1, pages, 1, key=f"verdict_page_{filters_key}")
    if pages > 1
    else 1
)
table = verdicts(ws, **filters, limit=PAGE_ROWS, offset=(int(page) - 1) * PAGE_ROWS)
view = table.assign(reasons=table["reasons"].map(lambda r: "; ".join(r) if r is not None else ""))
# A few wide columns (the rest shows with the document below); the table's key follows the filters, so a ticked
# row never lands on another document when they change: a selection is a list of doc_ids, not of positions.
event = st.dataframe(
    view[["title", "doc_id", "collection", "kept", "judge", "quality", "confidence"]],
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="multi-row",
    key=f"verdict_rows_{filters_key}_{page}",
    column_config={
        "title": st.column_config.TextColumn(width="large"),
        "doc_id": st.column_config.TextColumn(width="medium"),
        "confidence": st.column_config.NumberColumn(format="%.2f", width="small"),
    },
)
selected = table[table["doc_id"].isin([table["doc_id"].iat[i] for i in event.selection.rows if i < len(table)])]

who = curator()
if not who:
    st.warning("Enter your name as **Curator** in the sidebar to record decisions.")
note = st.text_input("Note (optional, stored with your decision)")

if not table.empty:
    ids = table["doc_id"].tolist()
    titles = dict(zip(ids, table["title"].fillna(""), strict=True))
    doc_id = st.selectbox(
        "Document",
        ids,
        index=ids.index(selected.iloc[0]["doc_id"]) if not selected.empty else 0,
        format_func=lambda d: f"{titles.get(d) or '(no title)'} · {d}",
    )
    document = get_documents(ws, [doc_id])[0]
    row = {
        k: v if pd.api.types.is_list_like(v) or pd.notna(v) else None
        for k, v in table.set_index("doc_id").loc[doc_id].items()
    }
    facts = [f"{'kept' if row['kept'] else 'dropped'} by {row['judge']}"]
    facts += [f"rule {row['rule']}"] if row["rule"] else []
    suggested = [row["suggested_division"], row["suggested_document_type"]]
    facts += [f"suggested: {' / '.join(str(v or '-') for v in suggested)}"] if any(suggested) else []
    facts += [f"decided by {row['decided_by']}"] if row["decided_by"] else []
    with st.container(border=True):
        st.text(document["title"] or "(no title)")
        st.text(document["url"] or document["doc_id"])
        st.caption(" · ".join(facts))
        if row["reasons"] is not None and len(row["reasons"]):
            st.text("; ".join(map(str, row["reasons"])))
        with st.container(height=300):
            st.text(document["text"])
    one = st.columns(2)
    if one[0].button("Keep this document", disabled=not who, icon=":material/check:"):
        decide(ws, [doc_id], kept=True, curator=who, note=note)
        st.rerun()
    if one[1].button("Drop this document", disabled=not who, icon=":material/block:"):
        decide(ws, [doc_id], kept=False, curator=who, note=note)
        st.rerun()

bulk = st.columns(3)
if bulk[0].button(f"Keep {len(selected)} selected rows", disabled=not who or selected.empty):
    decide(ws, selected["doc_id"].tolist(), kept=True, curator=who, note=note)
    st.rerun()
if bulk[1].button(f"Drop {len(selected)} selected rows", disabled=not who or selected.empty):
    decide(ws, selected["doc_id"].tolist(), kept=False, curator=who, note=note)
    st.rerun()
if bulk[2].button("Accept all machine verdicts matching the filters", disabled=not who or table.empty):
    st.toast(f"{accept_verdicts(ws, who, **filters):,} verdicts accepted")
    st.rerun()

# -- suggestions -------------------------------------------------------------------------------------------------
st.subheader("Division and document-type suggestions")
floor = st.slider("Minimum confidence", 0.0, 1.0, 0.8, 0.05, key="suggestion_floor")
suggestions = pending_suggestions(ws, min_confidence=floor)
if suggestions.empty:
    st.caption("No pending suggestions at this confidence.")
else:
    picked = st.dataframe(
        suggestions, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row", key="suggestions"
    )
    rows = suggestions.iloc[picked.selection.rows] if picked.selection.rows else suggestions.iloc[0:0]
    items = list(zip(rows["doc_id"], rows["field"], rows["suggested"], strict=True))
    every = list(zip(suggestions["doc_id"], suggestions["field"], suggestions["suggested"], strict=True))
    s = st.columns(3)
    if s[0].button(f"Accept {len(items)} selected", disabled=not who or not items, key="accept_suggestions"):
        review_suggestions(ws, items, accepted=True, curator=who)
        st.rerun()
    if s[1].button(f"Reject {len(items)} selected", disabled=not who or not items, key="reject_suggestions"):
        review_suggestions(ws, items, accepted=False, curator=who)
        st.rerun()
    if s[2].button(f"Accept all {len(every)} shown", disabled=not who, key="accept_all_suggestions"):
        review_suggestions(ws, every, accepted=True, curator=who)
        st.rerun()

# -- near-duplicates ---------------------------------------------------------------------------------------------
st.subheader("Near-duplicates")
st.caption(
    "MinHash over word shingles, leaving out lines most pages of a collection share (navigation, footers); "
    f"Jaccard threshold `[dedup] threshold` ({ws.settings.dedup.threshold}). Largest clusters first, each with a "
    "suggested canonical document and why."
)
if st.button("Find near-duplicates", icon=":material/content_copy:", disabled=not who):
    start(ws, dedup_job(), who)
follow(
    ws,
    "dedup",
    MINHASH,
    lambda r: f"{r['clusters']:,} clusters, {r['duplicates']:,} duplicates among {r['documents']:,} documents",
    key="dedup",
)
members = cluster_table(ws, MINHASH)
CLUSTERS_SHOWN = 25
for cluster_id, group in list(members.groupby("cluster_id", sort=False))[:CLUSTERS_SHOWN]:
    canonical = group[group["canonical"]].iloc[0]
    with st.expander(f"{cluster_id}: {len(group)} documents · {canonical['title'] or canonical['doc_id']}"):
        st.caption(f"Suggested canonical: {canonical['doc_id']} ({canonical['reason']})")
        st.dataframe(
            group[["doc_id", "title", "url", "collection", "kept", "similarity"]], hide_index=True, width="stretch"
        )
        ids = group["doc_id"].tolist()
        chosen = st.selectbox("Keep", ids, index=ids.index(canonical["doc_id"]), key=f"keep_{cluster_id}")
        if st.button("Keep this one, drop the rest", key=f"keep_one_{cluster_id}", disabled=not who):
            dropped = keep_one(ws, str(cluster_id), chosen, who)
            st.toast(f"kept {chosen}, dropped {dropped} duplicates")
            st.rerun()
if members["cluster_id"].nunique() > CLUSTERS_SHOWN:
    st.caption(f"Showing the {CLUSTERS_SHOWN} largest clusters; `sde-workbench dedup --list` lists them all.")
