"""Token-aware chunking: a long document becomes overlapping passages that each fit the model.

Passages are cut at token boundaries but taken from the original text (via the tokenizer's character
offsets), so what is shown and highlighted is what the curator wrote, not a decoded approximation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

Span = tuple[int, int]
_WORD = re.compile(r"\S+")


class Chunker:
    """Splits texts into windows of `size` tokens sharing `overlap` tokens with the previous window.

    With a fast Hugging Face tokenizer the windows count model tokens; without one (bm25) they count
    whitespace-separated words. With `first_only`, a text is truncated to its first window: the passage
    is what the model reads of the document, while the whole text is what gets encoded (the model's own
    truncation then cuts it at the same token, as MTEB and sentence-transformers' evaluators do).
    """

    def __init__(self, size: int, overlap: int, tokenizer: Any | None = None, *, first_only: bool = False) -> None:
        if size < 1:
            raise ValueError(f"passages need at least one token, got {size}")
        self.size = size
        self.overlap = min(overlap, size - 1)
        self.tokenizer = tokenizer if getattr(tokenizer, "is_fast", False) else None
        self.first_only = first_only

    def split(self, texts: Sequence[str]) -> list[list[str]]:
        """The passages of each text; an empty text is one empty passage, so every document gets one."""
        return [
            [text[start:end] for start, end in self.windows(spans)]
            for text, spans in zip(texts, self.spans(texts), strict=True)
        ]

    def spans(self, texts: Sequence[str]) -> list[list[Span]]:
        """Character span of every token of each text."""
        if self.tokenizer is None:
            return [[m.span() for m in _WORD.finditer(text)] for text in texts]
        encoded = self.tokenizer(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        return [[(a, b) for a, b in offsets if b > a] for offsets in encoded["offset_mapping"]]

    def windows(self, spans: list[Span]) -> list[Span]:
        """Character ranges of the consecutive token windows over one text's spans."""
        if not spans:
            return [(0, 0)]
        step = self.size - self.overlap
        ranges: list[Span] = []
        for start in range(0, len(spans), step):
            window = spans[start : start + self.size]
            ranges.append((window[0][0], window[-1][1]))
            if self.first_only or start + self.size >= len(spans):
                break
        return ranges
