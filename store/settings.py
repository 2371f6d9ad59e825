"""Settings of the stores (kept apart from them so reading settings does not import LanceDB)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

OBJECT_STORES = ("s3", "gs", "az")


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
    uri: str | None = Field(
        None,
        description="where the vector tables live: s3://bucket/prefix, gs://..., az://... (credentials and endpoint "
        "from the environment, e.g. AWS_ACCESS_KEY_ID, AWS_ENDPOINT; never here); unset: the workspace's vectors/",
    )

    @field_validator("uri")
    @classmethod
    def _object_store(cls, value: str | None) -> str | None:
        """Only object-store URIs, and none that carries credentials (they would be written to the workspace)."""
        if value is None or not value.strip():
            return None
        scheme, _, rest = value.strip().partition("://")
        if scheme not in OBJECT_STORES or not rest.strip("/"):
            raise ValueError(f"{value!r} is not an object-store URI ({', '.join(s + '://...' for s in OBJECT_STORES)})")
        if "@" in rest.split("/", 1)[0]:
            raise ValueError(
                "credentials do not belong in the URI: set them in the environment (AWS_ACCESS_KEY_ID ...)"
            )
        return value.strip().rstrip("/")
