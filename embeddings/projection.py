"""2-D maps of embedding spaces: UMAP (cosine) fitted once and kept, and Procrustes alignment of two maps.

umap-learn (and numba with it) is imported on first use: it takes seconds, and most commands never map.
A fitted reducer is saved with pickle, the format umap-learn supports; it is read back only from the
workspace's own `maps/` folder, which the workbench wrote.
"""

from __future__ import annotations

import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from umap import UMAP

MIN_POINTS = 5  # fewer points leave UMAP nothing to lay out


def fit_reducer(vectors: np.ndarray, *, n_neighbors: int, min_dist: float) -> tuple[UMAP, np.ndarray]:
    """A UMAP reducer fitted on `vectors` (cosine), and their 2-D coordinates.

    No random_state: a seeded UMAP runs on one thread, and maps are kept, not recomputed.
    """
    if len(vectors) < MIN_POINTS:
        raise ValueError(f"a map needs at least {MIN_POINTS} documents with vectors, got {len(vectors)}")
    from umap import UMAP

    reducer = UMAP(
        n_components=2,
        metric="cosine",
        n_neighbors=max(2, min(n_neighbors, len(vectors) - 1)),
        min_dist=min_dist,
        low_memory=True,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="umap")  # advice about n_jobs and spectral init on tiny sets
        coordinates = reducer.fit_transform(vectors)
    return reducer, np.asarray(coordinates, dtype=np.float32)


def transform(reducer: UMAP, vectors: np.ndarray) -> np.ndarray:
    """Place new vectors on a fitted map without refitting it."""
    if len(vectors) == 0:
        return np.zeros((0, 2), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="umap")
        return np.asarray(reducer.transform(vectors), dtype=np.float32)


def save_reducer(reducer: UMAP, path: Path) -> None:
    """Write a fitted reducer atomically (a crash leaves the old file or none, never half a file)."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        pickle.dump(reducer, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)


def load_reducer(path: Path) -> UMAP:
    import umap  # noqa: F401  (the unpickled reducer's classes live there)

    with path.open("rb") as handle:
        return pickle.load(handle)  # noqa: S301  (our own file, see the module docstring)


@dataclass(frozen=True)
class Similarity:
    """A rotation (or reflection), a uniform scale and a shift of the plane."""

    rotation: np.ndarray
    scale: float
    source_mean: np.ndarray
    target_mean: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return ((points - self.source_mean) @ self.rotation) * self.scale + self.target_mean


def procrustes(source: np.ndarray, target: np.ndarray) -> Similarity:
    """The similarity that brings paired `source` points closest to `target` (least squares).

    UMAP maps are free up to rotation, reflection, scale and position: aligning one map to another on
    the documents they share lets the two be compared by eye.
    """
    from scipy.linalg import orthogonal_procrustes

    if len(source) != len(target) or len(source) < 3:
        raise ValueError("alignment needs at least 3 paired points")
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    centred_source, centred_target = source - source_mean, target - target_mean
    rotation, singular_sum = orthogonal_procrustes(centred_source, centred_target)
    norm = float((centred_source**2).sum())
    scale = float(singular_sum / norm) if norm > 0 else 1.0
    return Similarity(rotation, scale, source_mean, target_mean)
