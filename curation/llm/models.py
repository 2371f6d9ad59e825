"""A pydantic-ai model from the `[llm]` settings: OpenAI, Anthropic, Ollama or any OpenAI-compatible server
(vLLM, llama.cpp). Keys are read from environment variables only and never stored."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from pydantic_ai.models import Model

from curation.llm.settings import KEY_ENV, LLMError, LLMSettings

OLLAMA_URL = "http://127.0.0.1:11434/v1"
OutputT = TypeVar("OutputT")


def api_key(settings: LLMSettings) -> str | None:
    """The key from the environment variable the settings name (or the provider's usual one)."""
    name = settings.api_key_env or KEY_ENV.get(settings.provider)
    key = os.environ.get(name) if name else None
    if not key and settings.provider in KEY_ENV:
        raise LLMError(f"{settings.provider} needs an API key: set {name} in the environment")
    return key


def build_model(settings: LLMSettings) -> Model:
    """A pydantic-ai model for the configured provider; raises LLMError when something is missing."""
    key = api_key(settings)
    if settings.provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(settings.model, provider=AnthropicProvider(api_key=key, base_url=settings.base_url))
    if settings.provider == "ollama":
        from pydantic_ai.models.ollama import OllamaModel
        from pydantic_ai.providers.ollama import OllamaProvider

        return OllamaModel(
            settings.model, provider=OllamaProvider(base_url=settings.base_url or OLLAMA_URL, api_key=key)
        )
    if settings.provider == "openai":
        from pydantic_ai.models.openai import OpenAIResponsesModel
        from pydantic_ai.providers.openai import OpenAIProvider

        return OpenAIResponsesModel(settings.model, provider=OpenAIProvider(base_url=settings.base_url, api_key=key))
    if not settings.base_url:
        raise LLMError("an openai-compatible provider needs a base URL (--base-url http://HOST:PORT/v1)")
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

    provider = OpenAICompatibleProvider("openai-compatible", base_url=settings.base_url, api_key=key)
    return OpenAIChatModel(settings.model, provider=provider)


def output_spec(output_type: type[OutputT], settings: LLMSettings) -> Any:
    """The agent's `output_type` in the configured structured-output mode."""
    from pydantic_ai import NativeOutput, PromptedOutput, ToolOutput

    wrapper = {"tool": ToolOutput, "native": NativeOutput, "prompted": PromptedOutput}[settings.output_mode]
    return wrapper(output_type)
