"""`[judging]` settings: how rankings are compared and pooled, how queries are generated, how sessions are timed.

Kept apart from `comparison.py`, `judgments.py` and `queries.py` so that reading settings imports none of them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class JudgingSettings(BaseModel):
    """Defaults of the Compare and Judge pages and of `queries generate`."""

    k: int = Field(10, ge=1, le=100, description="documents of each retriever compared and pooled per query")
    rbo_p: float = Field(
        0.9, gt=0, lt=1, description="rank-biased overlap persistence: about 86% of the weight on the top 10 at 0.9"
    )
    queries_per_document: int = Field(3, ge=1, le=10, description="queries the LLM writes per selected document")
    seed: int = Field(42, description="seed of the document sample queries are generated for")
    idle_seconds: float = Field(
        300.0, gt=0, description="a pause between two judgments counts as at most this long in session time"
    )
