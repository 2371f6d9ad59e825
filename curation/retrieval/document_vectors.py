"""One vector per document (its passages' mean direction): what maps are drawn from."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np

from curation.retrieval.embed_job import table_name
from embeddings.quantization import unpack_signs
from embeddings.registry import get_spec
from store import vectors

if TYPE_CHECKING:
    from curation.core import Workspace


def document_vectors(
    ws: Workspace, retriever: str, *, doc_ids: Collection[str] | None = None, batch_rows: int = 65_536
) -> tuple[list[str], np.ndarray]:
    """One unit vector per document: its passages' mean direction (sign vectors for binary ones).

    `doc_ids` limits the result to those documents (a few are read through the doc_id index, many by
    a scan). Streamed from LanceDB in batches, so memory holds the result and one batch, not every passage.
    """
    spec = get_spec(ws.settings.retrievers, retriever)
    if spec.kind == "bm25":
        raise ValueError(f"retriever {retriever!r} is full-text only and has no vectors")
    name = table_name(retriever)
    present = vectors.present_documents(ws.vectors_uri, name)["doc_id"].to_pylist()
    wanted = None if doc_ids is None else set(doc_ids)
    ids = present if wanted is None else [d for d in present if d in wanted]
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    few = wanted is not None and 0 < len(ids) <= ws.settings.vectors.prefilter_max_ids
    batches = vectors.scan_vectors(
        ws.vectors_uri, name, batch_rows=batch_rows, where=vectors.in_list("doc_id", ids) if few else None
    )
    sums: np.ndarray | None = None
    for batch in batches if ids else ():
        column = batch.column("vector")
        width = column.type.list_size
        matrix = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        matrix = unpack_signs(matrix, width * 8) if spec.precision == "binary" else matrix.astype(np.float32)
        if sums is None:
            sums = np.zeros((len(ids), matrix.shape[1]), dtype=np.float32)
        rows = np.fromiter((position.get(d, -1) for d in batch.column("doc_id").to_pylist()), dtype=np.int64)
        np.add.at(sums, rows[rows >= 0], matrix[rows >= 0])
    if sums is None:
        return [], np.zeros((0, 0), dtype=np.float32)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return ids, sums / np.where(norms == 0, 1.0, norms)
