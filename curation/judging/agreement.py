"""Agreement between annotators: Cohen's kappa on the pairs both graded, unweighted and weighted."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, Field

from curation.judging.judgments import GRADES
from store import judgments as judgment_store

if TYPE_CHECKING:
    from curation.core import Workspace

Weights = Literal["linear", "quadratic"]


class Agreement(BaseModel):
    """Cohen's kappa of two annotators on the pairs both graded."""

    a: str
    b: str
    pairs: int
    kappa: float | None = Field(description="unweighted; None when undefined (both gave one same grade throughout)")
    weighted_kappa: float | None
    weights: Weights


def agreement(ws: Workspace, query_set: str, *, weights: Weights = "quadratic") -> list[Agreement]:
    """Cohen's kappa (scikit-learn) for every pair of annotators with pairs graded by both.

    Only grades count ("can't tell" and "skip" say nothing about relevance). The weighted kappa counts a
    disagreement of 0 against 3 as worse than 2 against 3 (`linear` or `quadratic` weights).
    """
    from sklearn.metrics import cohen_kappa_score

    counts = judgment_store.grade_pairs(ws.db, query_set)
    result = []
    for (a, b), part in counts.groupby(["a", "b"], sort=True):
        # One row per combination of grades, weighted by how many pairs got it: the same kappa as one row per pair.
        left, right, n = part["grade_a"].astype(int), part["grade_b"].astype(int), part["pairs"].to_numpy()

        def kappa(
            weighting: Weights | None, left: pd.Series = left, right: pd.Series = right, n: object = n
        ) -> float | None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 when both used a single grade
                value = float(cohen_kappa_score(left, right, labels=list(GRADES), weights=weighting, sample_weight=n))
            return None if pd.isna(value) else value

        result.append(
            Agreement(
                a=str(a),
                b=str(b),
                pairs=int(n.sum()),
                kappa=kappa(None),
                weighted_kappa=kappa(weights),
                weights=weights,
            )  # fmt: skip
        )
    return result
