"""`[llm]` settings: which model the relevancy judge and query generation call, and how hard to try.

Kept apart from `curation.llm` so reading workspace settings does not import pydantic-ai.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from pydantic_ai.settings import ModelSettings

ProviderName = Literal["openai", "anthropic", "ollama", "openai-compatible"]
PROVIDERS: tuple[ProviderName, ...] = ("openai", "anthropic", "ollama", "openai-compatible")
KEY_ENV: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class LLMError(RuntimeError):
    """A run cannot go on (bad configuration, missing key, rejected credentials, unknown model)."""


class LLMSettings(BaseModel):
    """`[llm]`: which model to call and how hard to try. API keys are read from the environment only."""

    provider: ProviderName = Field("ollama", description="openai, anthropic, ollama or openai-compatible")
    model: str = Field("qwen3:4b", description="model name as the provider knows it")
    base_url: str | None = Field(None, description="server URL (Ollama, vLLM, llama.cpp, a proxy)")
    api_key_env: str | None = Field(
        None, description="environment variable holding the key (default OPENAI_API_KEY / ANTHROPIC_API_KEY)"
    )
    output_mode: Literal["tool", "native", "prompted"] = Field(
        "tool", description="structured output by tool call, JSON-schema response format, or prompt"
    )
    concurrency: int = Field(4, ge=1, le=256, description="requests in flight at once")
    retries: int = Field(4, ge=0, le=20, description="retries per item on 429, 5xx, timeouts and invalid output")
    backoff_seconds: float = Field(1.0, ge=0, description="first wait before a retry; doubles each time")
    backoff_max_seconds: float = Field(60.0, ge=0, description="longest wait between retries")
    timeout: float = Field(120.0, gt=0, description="seconds one request may take")
    temperature: float = Field(0.0, ge=0, le=2)
    max_input_tokens: int = Field(6000, ge=100, description="texts are trimmed to about this many tokens")
    max_items_per_run: int | None = Field(None, ge=1, description="stop a run after this many items")
    max_tokens_per_run: int | None = Field(None, ge=1, description="stop starting items once a run used this many")

    @property
    def model_id(self) -> str:
        """`provider:model`, the name results are cached and reported under."""
        return f"{self.provider}:{self.model}"

    def with_overrides(
        self, model: str | None = None, base_url: str | None = None, concurrency: int | None = None
    ) -> LLMSettings:
        """These settings with a `PROVIDER:MODEL`, base URL or concurrency given on the command line or page."""
        update: dict[str, Any] = {}
        if model:
            provider, sep, name = model.partition(":")
            if not sep or provider not in PROVIDERS or not name:
                raise LLMError(
                    f"--model {model!r}: expected PROVIDER:MODEL with PROVIDER one of {', '.join(PROVIDERS)}"
                )
            update |= {"provider": provider, "model": name}
        if base_url:
            update["base_url"] = base_url
        if concurrency:
            update["concurrency"] = concurrency
        return self.model_validate({**self.model_dump(), **update})

    def model_settings(self) -> ModelSettings:
        """Per-request settings: the SDK's own retries are off because `run_prompts` owns retrying."""
        from pydantic_ai.settings import ModelSettings

        return ModelSettings(max_retries=0, timeout=self.timeout, temperature=self.temperature)
