"""A query placed on a map beside its top hits, and one map turned onto another so two retrievers line up."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel

from curation.maps.build import saved_reducer
from curation.maps.errors import MapError
from curation.retrieval import SearchHit, open_encoder, search
from embeddings import projection
from embeddings.quantization import to_storage, unpack_signs
from embeddings.registry import get_spec
from store import maps as map_store

if TYPE_CHECKING:
    from curation.core import Workspace


class QueryOverlay(BaseModel):
    """A query placed on a retriever's map, with that retriever's top hits."""

    retriever: str
    query: str
    x: float
    y: float
    hits: list[SearchHit]


def query_overlay(ws: Workspace, retriever: str, query: str, *, k: int = 10) -> QueryOverlay:
    """The top `k` hits of `query` by `retriever` and the query's own place on its map."""
    record = map_store.map_record(ws.db, retriever)
    if record is None:
        raise MapError(f"retriever {retriever!r} has no map yet; run `sde-workbench map --retriever {retriever}`")
    hits = search(ws, retriever, query, k=k)
    vector = open_encoder(ws, retriever).encode_queries([query])
    spec = get_spec(ws.settings.retrievers, retriever)
    if spec.precision == "binary":  # documents are mapped as sign vectors: place the query's signs
        vector = unpack_signs(to_storage(vector, "binary"), vector.shape[1])
    x, y = projection.transform(saved_reducer(ws.maps_dir / record["reducer"]), vector)[0]
    return QueryOverlay(retriever=retriever, query=query, x=float(x), y=float(y), hits=hits)


def align(reference: pd.DataFrame, moving: pd.DataFrame) -> tuple[pd.DataFrame, Callable[[np.ndarray], np.ndarray]]:
    """`moving` (a map table) turned onto `reference` by Procrustes on the documents both hold, and the
    transform (to place more points, a query say, the same way). Unchanged when they share under 3."""
    shared = reference[["doc_id", "x", "y"]].merge(moving[["doc_id", "x", "y"]], on="doc_id", suffixes=("_r", "_m"))
    if len(shared) < 3:
        return moving, lambda points: points
    similarity = projection.procrustes(shared[["x_m", "y_m"]].to_numpy(), shared[["x_r", "y_r"]].to_numpy())
    xy = similarity.apply(moving[["x", "y"]].to_numpy(dtype=np.float64))
    return moving.assign(x=xy[:, 0], y=xy[:, 1]), similarity.apply
