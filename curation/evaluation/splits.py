"""Query splits for export: by query, deterministic, and guarded so no evaluation query is trained on.

Queries with the same text (ignoring case and spacing) always land in the same split, so a duplicate
under another id cannot leak either. A split is a seeded permutation of those texts cut at the asked
fractions: the same set, fractions and seed give the same split in every export format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

TRAIN = "train"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class SplitError(ValueError):
    """A split specification that cannot be used (the message says why)."""


class LeakError(RuntimeError):
    """Training pairs would contain a query of an evaluation split."""


def parse_split(text: str) -> dict[str, float]:
    """`train=0.8,dev=0.1,test=0.1` as {name: fraction}; fractions must be positive and sum to 1."""
    fractions: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        name = name.strip()
        try:
            fraction = float(value)
        except ValueError:
            fraction = float("nan")
        if not sep or not _NAME.match(name) or not fraction > 0:
            raise SplitError(f"split part {part.strip()!r}: expected NAME=FRACTION, e.g. train=0.8,test=0.2")
        if name in fractions:
            raise SplitError(f"split {name!r} is named twice")
        fractions[name] = fraction
    if abs(sum(fractions.values()) - 1.0) > 1e-6:
        raise SplitError(f"split fractions sum to {sum(fractions.values()):g}, not 1")
    return fractions


def query_key(text: str) -> str:
    """What makes two queries the same question: their text, ignoring case and spacing."""
    return " ".join(text.lower().split())


def assign_splits(queries: dict[str, str], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """{query_id: split} for queries {query_id: text}; split sizes follow the fractions (largest remainder)."""
    keys = sorted({query_key(text) for text in queries.values()})
    order = np.random.default_rng(seed).permutation(len(keys))
    exact = np.array(list(fractions.values())) * len(keys)
    sizes = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - sizes), kind="stable")[: len(keys) - sizes.sum()]:
        sizes[index] += 1
    bounds = np.cumsum(sizes)
    split_of_key = {
        keys[k]: list(fractions)[int(np.searchsorted(bounds, i, side="right"))] for i, k in enumerate(order)
    }
    return {query_id: split_of_key[query_key(text)] for query_id, text in queries.items()}


def check_no_leak(train_anchors: Iterable[str], held_out: dict[str, Iterable[str]]) -> None:
    """Refuse training anchors that are (the text of) a query of any other split."""
    anchors = {query_key(a) for a in train_anchors}
    for split, texts in held_out.items():
        leaked = sorted(anchors & {query_key(t) for t in texts})
        if leaked:
            raise LeakError(f"{len(leaked)} training anchors are queries of the {split!r} split, e.g. {leaked[0]!r}")
