"""`[ingest]` settings: limits applied to every row a loader reads."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IngestSettings(BaseModel):
    """Limits applied to every row a loader reads."""

    max_text_bytes: int = Field(2_000_000, gt=0, description="longer texts are rejected, not truncated")
    workers: int = Field(0, ge=0, description="processes parsing large JSONL inputs; 0 = one per CPU core")
