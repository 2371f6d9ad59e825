"""Binary vectors: sign bits packed eight to a byte, compared by Hamming distance.

A component's bit is 1 when its value is >= 0, packed most significant bit first (`numpy.packbits`), as
SDE serves its binary index in production.

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
        return pack_signs(vectors)
    return vectors.astype(np.float16 if precision == "float16" else np.float32, copy=False)


def pack_signs(vectors: np.ndarray) -> np.ndarray:
    """Float vectors as sign bits (value >= 0 is 1), eight to a byte, most significant bit first."""
    return np.packbits(np.atleast_2d(vectors) >= 0, axis=1)


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
