"""Settings of the maps (`[maps]` in workbench.toml), apart from `maps.py` so reading them imports no UMAP."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MapSettings(BaseModel):
    """How maps are fitted, extended and clustered (the `map` command and the Map page)."""

    sample_size: int = Field(50_000, ge=10, description="documents UMAP is fitted on; the rest are placed onto it")
    n_neighbors: int = Field(15, ge=2, description="UMAP neighbourhood: larger keeps more global structure")
    min_dist: float = Field(0.1, ge=0.0, le=1.0, description="UMAP: how tightly points may pack")
    transform_batch: int = Field(
        25_000, gt=0, description="documents placed (and saved) per step; UMAP optimizes steps over 10k less"
    )
    refit_growth: float = Field(
        2.0, gt=1.0, description="refit a map fitted on fewer than sample_size documents once it grows past this x"
    )
    clusters: int = Field(12, ge=2, description="clusters made by `map-clusters` and the Map page by default")
    seed: int = Field(42, description="seed of the fitting sample and of clustering")
    density_from: int = Field(
        50_000, ge=1, description="points above which the Map page draws a density raster and a 20k-point sample"
    )
