"""Workspace settings: `workbench.toml`, overridable by `SDE_WORKBENCH_*` environment variables.

Each stage owns its section's model (its `settings` module, which imports nothing heavy); this module only
assembles them. Secrets (LLM API keys)
are never settings: they are read from the provider's own environment variable when needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from curation.core.access import AccessSettings
from curation.evaluation.settings import EvaluationSettings, ExportSettings
from curation.ingest.settings import IngestSettings
from curation.jobs.settings import JobSettings
from curation.judging.settings import JudgingSettings
from curation.llm.settings import LLMSettings
from curation.maps.settings import MapSettings
from curation.relevancy.settings import DedupSettings, RulesSettings
from curation.training.settings import FinetuneSettings
from embeddings.registry import DEFAULT_RETRIEVERS, RetrieverSpec, with_default_retrievers
from embeddings.settings import EmbeddingSettings
from store.settings import StoreSettings, VectorSettings


class WorkbenchSettings(BaseSettings):
    """Everything configurable about one workspace."""

    model_config = SettingsConfigDict(
        env_prefix="SDE_WORKBENCH_", env_nested_delimiter="__", extra="ignore", toml_file=None
    )

    ingest: IngestSettings = Field(default_factory=IngestSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    retrievers: dict[str, RetrieverSpec] = Field(default_factory=lambda: dict(DEFAULT_RETRIEVERS))
    rules: RulesSettings = Field(default_factory=RulesSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    vectors: VectorSettings = Field(default_factory=VectorSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    export: ExportSettings = Field(default_factory=ExportSettings)
    finetune: FinetuneSettings = Field(default_factory=FinetuneSettings)
    judging: JudgingSettings = Field(default_factory=JudgingSettings)
    maps: MapSettings = Field(default_factory=MapSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)

    @field_validator("retrievers", mode="before")
    @classmethod
    def _keep_default_retrievers(cls, value: Any) -> Any:
        return with_default_retrievers(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(toml_path: Path) -> WorkbenchSettings:
    """Read one workspace's `workbench.toml` (a missing file means all defaults)."""
    bound = type(
        "WorkspaceSettings",
        (WorkbenchSettings,),
        {"model_config": SettingsConfigDict(**{**WorkbenchSettings.model_config, "toml_file": toml_path})},
    )
    return bound()
