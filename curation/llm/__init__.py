"""LLM access for every stage that asks a model something (relevancy judge, query generation, pattern
suggestions): provider settings, a pydantic-ai model from them, a robust batch runner, and the page prompt.

Names are loaded on first use (lazy_loader), so reading settings never imports pydantic-ai.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["LLMSettings", "LLMError", "PROVIDERS", "ProviderName"],
        "models": ["build_model", "output_spec", "api_key"],
        "runner": ["run_prompts", "PromptResult", "RunStats", "describe_failure", "is_transient"],
        "page_prompt": ["page_prompt", "trim_text", "TRIM_MARK"],
    },
)
