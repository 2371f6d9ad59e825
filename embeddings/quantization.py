"""Binary vectors: sign bits packed eight to a byte, compared by Hamming distance.

A binary index is 32x smaller than float32. Its ranking can be sharpened by re-scoring the top
candidates with the float query against the candidates' sign vectors (the "rescoring" step of
sentence-transformers' embedding quantization), which needs no float document vectors at all.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Precision = Literal["float32", "float16", "binary"]


def to_storage(vectors: np.ndarray, precision: Precision) -> np.ndarray:
    """Float vectors in the form a retriever stores them: float32, float16 or packed sign bits (uint8)."""
    if precision == "binary":
        from sentence_transformers.util.quantization import quantize_embeddings  # torch: only when encoding

        return np.asarray(quantize_embeddings(vectors, precision="ubinary"), dtype=np.uint8)
    return vectors.astype(np.float16 if precision == "float16" else np.float32, copy=False)


def unpack_signs(packed: np.ndarray, dimension: int) -> np.ndarray:
    """Packed sign bits back to +1/-1 float vectors of `dimension` components."""
    bits = np.unpackbits(np.atleast_2d(packed).astype(np.uint8), axis=1)[:, :dimension]
    return bits.astype(np.float32) * 2.0 - 1.0


def hamming_similarity(distances: np.ndarray, bits: int) -> np.ndarray:
    """Hamming distances as a similarity in [-1, 1]: the cosine between the two sign vectors."""
    return 1.0 - 2.0 * np.asarray(distances, dtype=np.float32) / bits


def rescore(query: np.ndarray, packed: np.ndarray, dimension: int) -> np.ndarray:
    """Cosine between a float query and each candidate's sign vector, for re-ranking binary hits."""
    signs = unpack_signs(packed, dimension)
    norm = float(np.linalg.norm(query)) or 1.0
    return signs @ query.astype(np.float32) / (norm * np.sqrt(dimension))
