"""Token-aware chunking: a long document becomes overlapping passages that each fit the model.

Passages are cut at token boundaries but taken from the original text (via the tokenizer's character
offsets), so what is shown and highlighted is what the curator wrote, not a decoded approximation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

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
        if self.tokenizer is None:  # words: window edges found with numpy, no object per word (bm25 at scale)
            return [[text[start:end] for start, end in self.word_windows(text)] for text in texts]
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

    def word_windows(self, text: str) -> list[Span]:
        """The same ranges as `windows(spans)` over whitespace-separated words, computed on the code points."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        space = _space_table()
        word = np.concatenate(([False], ~space[np.minimum(codes, space.size - 1)], [False]))
        edges = np.flatnonzero(word[1:] != word[:-1])
        starts, ends = edges[0::2], edges[1::2]
        if not starts.size:
            return [(0, 0)]
        firsts = np.arange(0, starts.size, self.size - self.overlap)
        last = int(np.argmax(firsts + self.size >= starts.size))  # the first window that reaches the end
        firsts = firsts[: 1 if self.first_only else last + 1]
        lasts = np.minimum(firsts + self.size, starts.size) - 1
        return list(zip(starts[firsts].tolist(), ends[lasts].tolist(), strict=True))

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


@functools.cache
def _space_table() -> np.ndarray:
    """Whether `\\s` matches each code point up to U+3000, the last space (those `str.isspace` calls whitespace),
    then one False that stands for every code point above."""
    return np.array([chr(c).isspace() for c in range(0x3001)] + [False])
