"""Settings of evaluation and export (`[evaluation]`, `[export]` in workbench.toml).

Kept apart from the modules that use them so that loading settings (every command does) imports no ranx.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

StatTest = Literal["student", "fisher"]
TEST_NAMES: dict[str, str] = {"student": "paired t-test", "fisher": "Fisher randomization test"}
DEFAULT_METRICS = ("mrr@1", "mrr@5", "ndcg@1", "ndcg@5", "ndcg@10", "recall@100")


class EvaluationSettings(BaseModel):
    """Defaults of `eval` and the Evaluate page."""

    metrics: list[str] = Field(
        default_factory=lambda: list(DEFAULT_METRICS), description="metrics reported when none are asked for"
    )
    threshold: int = Field(1, ge=1, le=3, description="lowest grade that counts as relevant in binary metrics")
    test: StatTest = Field("student", description="paired significance test: student (paired t-test) or fisher")
    max_p: float = Field(0.05, gt=0, lt=1, description="p-value under which a difference is marked significant")
    permutations: int = Field(1000, ge=100, description="permutations of the Fisher randomization test")
    min_test_queries: int = Field(
        10, ge=2, description="evaluated queries a significance test needs; with fewer it is reported n/a"
    )


class ExportSettings(BaseModel):
    """Defaults of `export`."""

    seed: int = Field(42, description="seed of the query split; the same seed gives the same split")
    max_passage_chars: int = Field(4000, gt=0, description="title + text of a training passage is cut here")
    ranked_negatives_depth: int = Field(30, gt=0, description="top ranks of a run searched for hard negatives")
