"""Settings of background jobs (`[jobs]` in workbench.toml), apart from the runner so reading them is cheap."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JobSettings(BaseModel):
    """How background jobs report and which ingests the app hands to one."""

    progress_interval: float = Field(0.5, gt=0, description="seconds between a job's progress reports")
    log_lines: int = Field(40, ge=1, description="last lines of a job's log kept with it and shown in the app")
    background_ingest_mb: float = Field(
        20.0, ge=0, description="the Load page ingests files larger than this (MB) as a background job"
    )
