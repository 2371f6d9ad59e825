"""Judge: graded relevance for the pooled top-k of two rankings, one key press per judgment.

Queries come in order of disagreement (lowest rank-biased overlap first). In blind mode the pool is
shuffled per query and annotator and nothing on the page says which retriever ranked a document.
"""

import uuid

import pandas as pd
import streamlit as st

from curation.core import get_documents
from curation.judging import (
    GRADE_NAMES,
    JudgingError,
    JudgingSetup,
    Judgment,
    Queue,
    agreement,
    build_queue,
    current_judgments,
    history,
    label,
    query_notes_of,
    queue_version,
    record,
    save_query_note,
    sessions,
    undo,
)
from curation.retrieval import RETRIEVAL_ERRORS, NoStoredRun, highlight, snippet
from pages.common import (
    curator,
    facet_counts,
    query_set_choice,
    ranking_choice,
    run_with_progress,
    shared_reads,
    workspace,
)
from pages.state import keep, notify

AGREEMENT_TTL = 30
QUEUE_CHECK_TTL = 10  # seconds a queue's version is trusted before it is checked again (key presses reuse it)
SHARED_QUEUES = 16


@st.cache_resource(show_spinner=False)
def shared_queues() -> dict[tuple[str, str], Queue]:
    """Queues built by any session of this server, by workspace and `queue_version`: a second curator, or a new
    tab, opens the Judge page without ranking every query again."""
    return {}


@st.cache_data(ttl=QUEUE_CHECK_TTL, show_spinner=False)
def current_version(root: str, setup_json: str) -> str:
    return queue_version(workspace(), JudgingSetup.model_validate_json(setup_json))


ws = workspace()
settings = ws.settings.judging
st.title("Judge")
who = curator()
if not who:
    st.warning("Enter your name as **Curator** in the sidebar to judge: every judgment is stored under it.")
    st.stop()
session_id = st.session_state.setdefault("judge_session", uuid.uuid4().hex)
st.session_state.setdefault("judge_actions", 0)

# -- setup -------------------------------------------------------------------------------------------------------
with st.expander(
    "Setup: the query set and the two rankings to pool", expanded=not st.session_state.get("judge_queues")
):
    query_set = query_set_choice("judge_set")
    sources, a_key, b_key, k = ranking_choice(query_set, "judge", ("Ranking A", "Ranking B"))
    d = st.columns(3)
    blind = d[0].toggle("Blind pooled mode", key=keep("judge_blind", True), help="shuffled, retriever names hidden")
    kept_only = d[1].toggle("Only kept documents", key=keep("judge_kept", False))
    divisions = ["all", *(v for v in facet_counts("division") if v != "(none)")]
    division = d[2].selectbox("Division", divisions, key=keep("judge_division", "all", options=divisions))
    rebuild = st.button("Rebuild queue", icon=":material/refresh:", help="rank again (after re-embedding, say)")
setup = JudgingSetup(
    query_set=query_set,
    a=sources[a_key],
    b=sources[b_key],
    k=k,
    blind=blind,
    kept_only=kept_only,
    division=None if division == "all" else division,
)
# Queues are shared by every session under the version of what they rank from (a new run or new vectors make a
# new one); the position in each setup is the session's own.
setup_key = setup.model_dump_json()
if rebuild:
    current_version.clear()
queues = shared_queues()
shared_key = (str(ws.root), current_version(str(ws.root), setup_key))
built = queues.get(shared_key)
if rebuild or built is None:
    built = run_with_progress(
        lambda progress: build_queue(ws, setup, p=settings.rbo_p, progress=progress),
        (JudgingError, *RETRIEVAL_ERRORS, NoStoredRun),
        "Ranking queries: {done}/{total}",
    )
    queues[shared_key] = built
    for old in list(queues)[:-SHARED_QUEUES]:
        queues.pop(old, None)
    st.session_state.pop("judge_doc", None)
st.session_state["judge_queues"] = True  # the setup expander stays closed once a queue was shown
queue = built
order = queue.order
positions: dict[str, int] = st.session_state.setdefault("judge_positions", {})
if setup_key not in positions:  # a bookmark (?q=QUERY_ID) opens at its query
    wanted = st.query_params.get("q")
    positions[setup_key] = next((i for i, o in enumerate(order) if o.query_id == wanted), 0)


# -- judging: the current query, its document and the keys; its dozen reads share one database connection
@shared_reads
def judging() -> None:
    """The current query, its document and the keys; the queue's counts and this session's figures."""
    mine = current_judgments(ws, query_set, annotator=who)
    graded = mine[mine["kind"] != "skip"]
    done_by_query = graded.groupby("query_id")["doc_id"].agg(set).to_dict()
    pools = {o.query_id: [p.doc_id for p in queue.pool(o.query_id, who)] for o in order}

    # -- queue -----------------------------------------------------------------------------------------------------
    with st.expander(f"Queue: {len(order)} queries, most disagreement first", icon=":material/format_list_numbered:"):
        st.dataframe(
            pd.DataFrame(
                {
                    "position": range(1, len(order) + 1),
                    "query_id": [o.query_id for o in order],
                    "query": [o.text for o in order],
                    "RBO": [o.rbo for o in order],
                    f"Jaccard@{k}": [o.jaccard for o in order],
                    "judged by you": [
                        f"{len(done_by_query.get(o.query_id, set()) & set(pools[o.query_id]))}/{len(pools[o.query_id])}"
                        for o in order
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
            column_config={"RBO": st.column_config.NumberColumn(format="%.2f")},
            key="judge_queue_table",
        )

    def step(delta: int) -> None:
        positions[setup_key] = (positions.get(setup_key, 0) + delta) % len(order)
        st.session_state.pop("judge_doc", None)

    position = positions.get(setup_key, 0) % len(order)
    current = order[position]
    st.query_params["q"] = current.query_id
    pool = queue.pool(current.query_id, who)
    rows = mine[mine["query_id"] == current.query_id]
    verdicts = {r.doc_id: label(r.kind, r.grade) for r in rows.itertuples() if r.kind != "skip"}
    skipped = {r.doc_id for r in rows.itertuples() if r.kind == "skip"}

    total_pairs = sum(len(p) for p in pools.values())
    judged_pairs = sum(len(done_by_query.get(q, set()) & set(p)) for q, p in pools.items())
    st.progress(
        judged_pairs / max(total_pairs, 1),
        text=f"{judged_pairs:,} of {total_pairs:,} pairs of this setup judged by {who} (skips do not count)",
    )
    nav = st.columns([1, 6, 1], vertical_alignment="center")
    nav[0].button("Previous", on_click=step, args=(-1,), shortcut="P", icon=":material/arrow_back:", key="judge_prev")
    nav[1].caption(
        f"Query {position + 1} of {len(order)} · {current.query_id} · RBO {current.rbo:.2f} · "
        f"{len(verdicts)}/{len(pool)} judged by {who}" + (f" · {len(skipped)} skipped" if skipped else "")
    )
    nav[2].button("Next", on_click=step, args=(1,), shortcut="N", icon=":material/arrow_forward:", key="judge_next")
    st.text(current.text)
    with st.expander("Your note on this query", icon=":material/edit_note:"):
        notes = query_notes_of(ws, query_set, current.query_id)
        own = notes[notes["annotator"] == who]
        note_key = f"judge_note_{query_set}_{current.query_id}"
        written = st.text_area(
            "Note",
            value=str(own["note"].iloc[0]) if not own.empty else "",
            key=note_key,
            placeholder="what this query asks for, what counts as relevant",
            label_visibility="collapsed",
        )
        if st.button("Save note", key="judge_note_save", icon=":material/save:"):
            save_query_note(ws, query_set, current.query_id, who, written)
            notify("Note saved")
            st.rerun()
        for row in notes[notes["annotator"] != who].itertuples():
            st.caption(f"{row.annotator}:")
            st.text(row.note)

    if not pool:
        st.info("Neither ranking returned documents for this query (see the kept / division restrictions).")
        return
    ids = [p.doc_id for p in pool]
    documents = {d["doc_id"]: d for d in get_documents(ws, ids)}  # one read for the document and the pool's titles
    chosen = st.session_state.get("judge_doc")
    doc_id = chosen if chosen in ids else next((d for d in ids if d not in verdicts and d not in skipped), None)

    def act(kind: str, grade: int | None, query_id: str, doc: str) -> None:
        """One key press, one stored row; the page then moves on to the next unjudged document."""
        judgment = Judgment(
            query_set=query_set, query_id=query_id, doc_id=doc, kind=kind, grade=grade,  # type: ignore[arg-type]
            annotator=who, session_id=session_id, source=setup.source,
        )  # fmt: skip
        record(ws, judgment)
        st.session_state["judge_actions"] += 1
        st.session_state.pop("judge_doc", None)

    def take_back() -> None:
        undone = undo(ws, query_set, who, session_id)
        st.session_state["judge_actions"] += 1
        if undone is None:
            st.toast("Nothing to undo in this set.")
            return
        ids_in_order = [o.query_id for o in order]
        if undone.query_id in ids_in_order:  # back to the undone judgment, to judge it again
            positions[setup_key] = ids_in_order.index(undone.query_id)
            st.session_state["judge_doc"] = undone.doc_id
        st.toast(f"Undid your judgment of {undone.doc_id}")

    if doc_id is None:
        left_over = f" ({len(skipped)} skipped: pick one in the pool below to judge it)" if skipped else ""
        st.success(f"All {len(pool)} documents of this query are judged or skipped{left_over}. Next query: **N**.")
    else:
        item = pool[ids.index(doc_id)]
        document = documents.get(doc_id, {})
        with st.container(border=True):
            st.caption(
                f"Document {ids.index(doc_id) + 1} of {len(pool)}"
                + (f" · yours: {verdicts[doc_id]}" if doc_id in verdicts else "")
            )
            st.text(document.get("title") or doc_id)
            st.text(document.get("url") or doc_id)
            if not blind:
                st.caption(f"{a_key}: rank {item.rank_a or '-'} · {b_key}: rank {item.rank_b or '-'}")
            with st.container(height=260):
                # where the query's words are densest in the whole document, not the chunk a retriever happened to score
                passage = snippet(str(document.get("text") or item.passage), current.text, width=900)
                st.html(f'<div style="white-space: pre-wrap">{highlight(passage, current.text)}</div>')
            with st.expander("Whole document"):
                st.text(document.get("text") or "")
        buttons = st.columns(4)
        for grade in (0, 1, 2, 3):
            buttons[grade].button(
                f"{grade} {GRADE_NAMES[grade]}",
                on_click=act,
                args=("grade", grade, current.query_id, doc_id),
                shortcut=str(grade),
                key=f"judge_grade_{grade}",
                width="stretch",
            )
    others = st.columns(4)
    if doc_id is not None:
        for column, (kind, text, shortcut, key, tip) in zip(
            others,
            [
                ("cant_tell", "Can't tell", "T", "judge_cant", None),
                ("skip", "Skip", "S", "judge_skip", "come back to it later; a skip is not a judgment"),
            ],
            strict=False,
        ):
            column.button(
                text,
                on_click=act,
                args=(kind, None, current.query_id, doc_id),
                shortcut=shortcut,
                key=key,
                width="stretch",
                help=tip,
            )
    others[2].button(
        "Undo",
        on_click=take_back,
        shortcut="U",
        icon=":material/undo:",
        key="judge_undo",
        help="your last judgment",
        width="stretch",
    )
    st.caption("Keys: **0-3** grade · **T** can't tell · **S** skip · **U** undo · **N**/**P** next/previous query.")

    st.caption("The pool: pick a row to judge that document again (a change is a new row; your latest counts).")
    pool_table = pd.DataFrame(
        {
            "#": range(1, len(pool) + 1),
            "title": [documents.get(d, {}).get("title", d) for d in ids],
            "yours": [verdicts.get(d, "skipped" if d in skipped else "") for d in ids],
        }
    )
    if not blind:
        pool_table[a_key] = [p.rank_a for p in pool]
        pool_table[b_key] = [p.rank_b for p in pool]
    picked = st.dataframe(
        pool_table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"judge_pool_{current.query_id}_{st.session_state['judge_actions']}",
    )
    if picked.selection.rows and ids[picked.selection.rows[0]] != doc_id:
        st.session_state["judge_doc"] = ids[picked.selection.rows[0]]
        st.rerun()

    st.subheader("This session", anchor=False)
    summary = next(iter(s for s in sessions(ws, session_id, who) if s.query_set == query_set), None)
    s = st.columns(3)
    s[0].metric("Pairs judged", summary.pairs_judged if summary else 0)
    s[1].metric("Actions", summary.actions if summary else 0, help="judgments, changes and undos")
    minutes, seconds = divmod(int(summary.seconds if summary else 0), 60)
    s[2].metric("Time judging", f"{minutes}:{seconds:02d}", help=f"pauses count up to {settings.idle_seconds:.0f} s")
    with st.expander("History of this query (nothing is deleted: changes and undos are rows too)"):
        rows = history(ws, query_set, current.query_id)
        st.dataframe(
            rows.drop(columns=["source"]) if blind else rows, hide_index=True, width="stretch", key="judge_history"
        )


judging()

# -- every session, and agreement between annotators -----------------------------------------------------------
with st.expander("All sessions"):
    st.dataframe(pd.DataFrame([x.model_dump() for x in sessions(ws)]), hide_index=True, width="stretch")

st.subheader("Agreement between annotators", anchor=False)
weights = st.radio("Weighted kappa", ["quadratic", "linear"], horizontal=True, key=keep("judge_weights", "quadratic"))


@st.cache_data(ttl=AGREEMENT_TTL, show_spinner=False)
def agreement_table(root: str, query_set: str, weights: str) -> pd.DataFrame:
    """Kappa over every judgment of the set takes a while on large sets: not redone on every key press."""
    return pd.DataFrame([a.model_dump() for a in agreement(ws, query_set, weights=weights)])  # type: ignore[arg-type]


agreed = agreement_table(str(ws.root), query_set, weights)
if not agreed.empty:
    st.dataframe(agreed, hide_index=True, width="stretch")
    st.caption(
        "Cohen's kappa on pairs both annotators graded: 1 is full agreement, 0 what chance would give "
        f"(refreshed every {AGREEMENT_TTL} s)."
    )
else:
    st.caption("No pair of this set is graded by two annotators yet.")
