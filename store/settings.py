"""Settings of the stores (kept apart from them so reading settings does not import LanceDB)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class StoreSettings(BaseModel):
    """How long a process waits for another one holding the workspace."""

    lock_timeout: float = Field(600.0, gt=0, description="seconds to wait for the workspace lock")
    memory_limit: str = Field("1GB", description="DuckDB memory limit per process; larger work spills to disk")


class VectorSettings(BaseModel):
    """Indexes and search parameters of the vector tables."""

    ann_min_rows: int = Field(20_000, gt=0, description="passages from which an ANN index is built; exact below")
    ann_index: Literal["IVF_SQ", "IVF_PQ", "IVF_HNSW_SQ"] = Field("IVF_SQ", description="ANN index for float vectors")
    nprobes: int = Field(20, gt=0, description="IVF partitions searched per query")
    refine_factor: int = Field(5, ge=1, description="candidates re-ranked with exact distances, times k")
    prefilter_max_ids: int = Field(5_000, gt=0, description="restrictions up to this many documents are prefilters")
    query_batch: int = Field(512, gt=0, description="queries a run encodes and searches per call (one scan each)")
    binary_rescore: int = Field(4, ge=0, description="binary search re-scores this many times k hits (0: off)")
