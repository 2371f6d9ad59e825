"""A page as every LLM task reads it (the relevancy judge, query generation, pattern suggestions):
where it lives, its title, and its text trimmed to a token budget."""

from __future__ import annotations

from typing import Any

CHARS_PER_TOKEN = 4  # a provider-neutral estimate; each provider tokenizes differently
TRIM_MARK = "\n[... trimmed]"


def trim_text(text: str, max_tokens: int) -> str:
    """Cut `text` at a word boundary to about `max_tokens` tokens, saying that it was cut."""
    limit = max_tokens * CHARS_PER_TOKEN
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit] + TRIM_MARK


def page_prompt(document: dict[str, Any], max_tokens: int) -> str:
    """The user message for one document: where it lives, its title, and its (trimmed) text."""
    return "\n".join(
        [
            f"URL: {document.get('url') or '(none)'}",
            f"Title: {document.get('title') or '(none)'}",
            f"Collection: {document.get('collection') or '(none)'}",
            "Page text:",
            trim_text(document.get("text") or "", max_tokens),
        ]
    )
