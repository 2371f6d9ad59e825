"""Fine-tune: build a weighted training mix (with a replay source), train a dense retriever as a background job
with evaluation per checkpoint, then see its curves and checkpoints; the last and best models are registered."""

from pathlib import Path

import pandas as pd
import streamlit as st

from curation.evaluation import LEADERBOARD_METRICS, ExportOptions
from curation.jobs import finetune_job
from curation.judging import query_sets
from curation.training import export_pairs, list_trainings, training_checkpoints
from embeddings.device import pick_device
from pages.background import follow, start
from pages.common import curator, workspace
from pages.team import readable_path

OTHER = "Another folder..."
NONE = "(none)"

ws = workspace()
settings = ws.settings.finetune
st.title("Fine-tune")
st.caption(
    "MultipleNegativesRankingLoss (or its cached variant) with no-duplicates batches, drawn per source by weight "
    "(sentence-transformers). The last and the best checkpoint are saved under the workspace's models/ folder and "
    "registered as retrievers you can embed, search and evaluate."
)

dense = [name for name, spec in ws.settings.retrievers.items() if spec.kind == "dense"]
sets = [s["name"] for s in query_sets(ws)]

with st.expander("Export training pairs from a query set", icon=":material/output:"):
    cols = st.columns(3)
    from_set = cols[0].selectbox("Query set", sets, key="finetune_export_set")
    miner = cols[1].selectbox("Mine negatives with", [NONE, *dense], key="finetune_miner")
    count = cols[2].number_input("Negatives per pair", 1, 32, 1, key="finetune_negatives")
    if st.button("Export pairs", disabled=not from_set):
        options = ExportOptions(
            query_set=from_set,
            negatives_from=None if miner == NONE else miner,
            negatives=None if miner == NONE else int(count),
        )
        with st.spinner("Exporting pairs..."):
            exported = export_pairs(ws, options)
        st.success(f"Wrote {exported.rows.get('train', 0):,} training pairs to {exported.out}.")

exports = sorted(str(p) for p in ws.exports_dir.iterdir() if (p / "dataset").is_dir())
if not exports:
    st.info("No training pairs yet: export them above or with `sde-workbench export pairs --set NAME`.")

base = st.selectbox("Base retriever", dense, key="finetune_base")
st.subheader("Training mix")
cols = st.columns([3, 1])
choice = cols[0].selectbox("Training pairs", [*exports, OTHER], key="finetune_pairs")
weight = cols[1].number_input("Weight", 0.05, 100.0, 1.0, key="finetune_weight")
typed = st.text_input("Pairs folder", placeholder="/path/to/pairs-export") if choice == OTHER else choice
if typed and choice == OTHER and readable_path(ws, Path(typed).expanduser()) is None:  # a team's app
    typed = ""
more = st.multiselect("More sources (weight 1 each)", [e for e in exports if e != choice], key="finetune_more")
cols = st.columns([3, 1])
replay = cols[0].selectbox(
    "Replay source",
    [NONE, *exports],
    key="finetune_replay",
    help="General pairs mixed back in so the model keeps what it knew (INDUS-SDE-ST's anti-forgetting mix).",
)
replay_weight = cols[1].number_input("Replay weight", 0.05, 100.0, 1.0, key="finetune_replay_weight")

st.subheader("Training")
name = st.text_input("New retriever name", placeholder=f"{base}-ft", key="finetune_name") or f"{base}-ft"
cols = st.columns(4)
epochs = cols[0].number_input("Epochs", 1, 100, settings.epochs)
batch_size = cols[1].number_input("Batch size", 2, 4096, settings.batch_size)
loss = cols[2].selectbox("Loss", ["mnrl", "cached-mnrl"], index=["mnrl", "cached-mnrl"].index(settings.loss))
overwrite = cols[3].checkbox("Replace a retriever of that name", help="Only fine-tuned retrievers can be replaced.")
cols = st.columns(3)
evals = cols[0].multiselect("Evaluate on", sets, key="finetune_eval")
metric = cols[1].selectbox("Keep the best by", LEADERBOARD_METRICS, index=3, disabled=not evals)
eval_steps = cols[2].number_input("Every (steps)", 1, 100_000, settings.eval_steps, disabled=not evals)
st.caption(f"Training runs on: {pick_device(ws.settings.embedding.device)}")

mix = [f"{m}:1" for m in more] + ([f"{replay}:{replay_weight:g}"] if replay != NONE else [])
if st.button("Fine-tune", type="primary", icon=":material/model_training:", disabled=not typed):
    first = Path(typed).expanduser().resolve()
    spec = finetune_job(
        base,
        None,
        name.strip(),
        mix=[f"{first}:{weight:g}", *mix],
        epochs=int(epochs),
        batch_size=int(batch_size),
        loss=loss if loss != settings.loss else None,
        eval=evals,
        eval_steps=int(eval_steps) if evals else None,
        select=f"{metric}@{evals[0]}" if evals else None,
        overwrite=overwrite,
    )
    start(ws, spec, curator())


def trained(last: dict) -> str:
    loss = f"{last['loss']:.4f}" if last["loss"] is not None else "-"
    best = f" and {last['best_retriever']!r} (best, step {last['best_step']})" if last.get("best_retriever") else ""
    return (
        f"Registered retriever {last['retriever']!r}{best} ({last['pairs']:,} pairs, {last['steps']:,} steps, final "
        f"loss {loss}, on {last['device']}); its model is in {last['model_dir']}. Embed it on the **Embed** page."
    )


follow(ws, "finetune", name.strip(), trained, key="finetune")

records = [r for r in list_trainings(ws) if r.retriever == name.strip()]
if records:
    record = records[0]
    st.subheader(f"Training {record.training_id}")
    if record.losses:
        st.caption("Training loss")
        st.line_chart(pd.DataFrame(record.losses, columns=["step", "loss"]).set_index("step"))
    rows = pd.DataFrame(training_checkpoints(ws, record.training_id))
    if not rows.empty:
        rows["column"] = rows["benchmark"] + " " + rows["metric"]
        table = rows.pivot_table(index="step", columns="column", values="value")
        st.caption("Metrics per checkpoint (step 0 is the base model)")
        st.line_chart(table)
        st.dataframe(table.style.highlight_max(axis=0), width="stretch")
    st.caption(
        "The checkpoint table with each model's 1-bit row: embed the registered models, then "
        f"`sde-workbench trainings --table {record.retriever} --benchmarks SET` or the Compare page's leaderboard."
    )
