"""Fine-tune: train a dense retriever on exported pairs (a background job) and register it as a new retriever."""

from pathlib import Path

import streamlit as st

from curation.jobs import finetune_job
from embeddings.device import pick_device
from pages.background import follow, start
from pages.common import curator, workspace
from pages.team import readable_path

OTHER = "Another folder..."

ws = workspace()
settings = ws.settings.finetune
st.title("Fine-tune")
st.caption(
    "MultipleNegativesRankingLoss with no-duplicates batches (sentence-transformers). The result is saved under "
    "the workspace's models/ folder and registered as a retriever you can embed, search and evaluate."
)

dense = [name for name, spec in ws.settings.retrievers.items() if spec.kind == "dense"]
exports = sorted(str(p) for p in ws.exports_dir.iterdir() if (p / "dataset").is_dir())
if not exports:
    st.info("No training pairs yet: export them with `sde-workbench export pairs --set NAME`.")

base = st.selectbox("Base retriever", dense, key="finetune_base")
choice = st.selectbox("Training pairs", [*exports, OTHER], key="finetune_pairs")
typed = st.text_input("Pairs folder", placeholder="/path/to/pairs-export") if choice == OTHER else choice
if typed and choice == OTHER and readable_path(ws, Path(typed).expanduser()) is None:  # a team's app
    typed = ""
name = st.text_input("New retriever name", placeholder=f"{base}-ft", key="finetune_name") or f"{base}-ft"
cols = st.columns(3)
epochs = cols[0].number_input("Epochs", 1, 100, settings.epochs)
batch_size = cols[1].number_input("Batch size", 2, 4096, settings.batch_size)
overwrite = cols[2].checkbox("Replace a retriever of that name", help="Only fine-tuned retrievers can be replaced.")
st.caption(f"Training runs on: {pick_device(ws.settings.embedding.device)}")

if st.button("Fine-tune", type="primary", icon=":material/model_training:", disabled=not typed):
    spec = finetune_job(
        base,
        Path(typed).expanduser().resolve(),
        name.strip(),
        epochs=int(epochs),
        batch_size=int(batch_size),
        overwrite=overwrite,
    )
    start(ws, spec, curator())


def trained(last: dict) -> str:
    loss = f"{last['loss']:.4f}" if last["loss"] is not None else "-"
    return (
        f"Registered retriever {last['retriever']!r} ({last['pairs']:,} pairs, {last['steps']:,} steps, final loss "
        f"{loss}, on {last['device']}); its model is in {last['model_dir']}. Embed it on the **Embed** page."
    )


follow(ws, "finetune", name.strip(), trained, key="finetune")
