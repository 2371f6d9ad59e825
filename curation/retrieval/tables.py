"""Which LanceDB table serves a retriever: its own, when its vectors are current, and the 1-bit copy of a dense
float retriever's vectors (sign bits, searched by Hamming distance, as SDE serves a binary index), made from
them after training and remade whenever they change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from curation.retrieval.embed_job import current_fingerprint, table_name
from curation.retrieval.errors import SearchError
from embeddings.quantization import pack_signs
from embeddings.registry import get_spec
from store import vectors
from store.locks import job_lock

if TYPE_CHECKING:
    from curation.core import Workspace

SIGN_MODE = "binary"  # the mode of runs over the 1-bit copy
SIGN_SUFFIX = "__1bit"


def current_table(ws: Workspace, retriever: str) -> str:
    """The vector table of a retriever whose vectors exist and match its settings and model; SearchError
    saying what to run otherwise."""
    table = table_name(retriever)
    built = vectors.fingerprint(ws.vectors_uri, table)
    if built is None:
        raise SearchError(
            f"retriever {retriever!r} has no vectors yet; run `sde-workbench embed --retriever {retriever}` "
            "or use the Embed page"
        )
    if built != current_fingerprint(ws, retriever):
        raise SearchError(
            f"retriever {retriever!r} changed (its settings in workbench.toml or its model's weights) since its "
            f"vectors were made; run `sde-workbench embed --retriever {retriever}` to rebuild them"
        )
    return table


def searchable_retrievers(ws: Workspace) -> list[str]:
    """Retrievers whose vectors exist and match their current settings and model."""
    return [
        name
        for name in ws.settings.retrievers
        if vectors.fingerprint(ws.vectors_uri, table_name(name)) == current_fingerprint(ws, name)
    ]


def has_sign_variant(ws: Workspace, retriever: str) -> bool:
    """Whether a retriever can have a 1-bit copy: dense vectors stored as floats."""
    spec = get_spec(ws.settings.retrievers, retriever)
    return spec.kind == "dense" and spec.precision != "binary"


def sign_table(ws: Workspace, retriever: str) -> str:
    """The 1-bit copy of a dense float retriever's current vectors (bit = value >= 0, most significant bit
    first), made now when it is missing or older than the vectors."""
    if not has_sign_variant(ws, retriever):
        raise SearchError(f"{retriever!r} has no float vectors; a 1-bit variant is made from a dense float retriever")
    source = current_table(ws, retriever)
    target = source + SIGN_SUFFIX
    made_from = f"{current_fingerprint(ws, retriever)}@{vectors.version(ws.vectors_uri, source)}"
    if vectors.fingerprint(ws.vectors_uri, target) != made_from:
        busy = SearchError(f"the 1-bit copy of {retriever!r} is being made by another process; try again shortly")
        with job_lock(ws.vectors_dir / f"{target}.lock", busy):
            vectors.write_transformed_copy(
                ws.vectors_uri, source, target, pack_signs,
                table_fingerprint=made_from, settings=ws.settings.vectors, metric="hamming",
            )  # fmt: skip
    return target


def index_bytes(ws: Workspace, retriever: str, *, binary: bool = False) -> int:
    """Bytes of a retriever's vectors as an index holds them: passages x (dimension x 4 for float32,
    x 2 for float16, / 8 for sign bits); 0 for bm25."""
    spec = get_spec(ws.settings.retrievers, retriever)
    if spec.kind == "bm25":
        return 0
    table = table_name(retriever)
    width = vectors.vector_width(ws.vectors_uri, table)
    bits = {"float32": 32, "float16": 16, "binary": 1}[spec.precision]
    dimension = width if spec.precision != "binary" else width * 8
    per_vector = (dimension + 7) // 8 if binary or spec.precision == "binary" else dimension * bits // 8
    return vectors.passage_count(ws.vectors_uri, table) * per_vector
