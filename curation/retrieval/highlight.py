"""Query terms marked in a passage, as safe HTML."""

from __future__ import annotations

import html
import re

_STOPWORDS = {"the", "and", "for", "are", "was", "were", "with", "from", "that", "this", "these", "those", "what"}
_STOPWORDS |= {"which", "who", "how", "why", "when", "where", "into", "about", "does", "did", "has", "have", "not"}


def highlight(text: str, query: str) -> str:
    """`text` as safe HTML with the query's words (and words starting with them) in <mark>.

    Every piece of the text is escaped, so document HTML is shown as text, never rendered.
    """
    terms = {t.lower() for t in re.findall(r"\w+", query) if len(t) > 2 and t.lower() not in _STOPWORDS}
    if not terms:
        return html.escape(text)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(terms, key=len, reverse=True))) + r")\w*", re.I)
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        pieces += [html.escape(text[last : match.start()]), f"<mark>{html.escape(match.group())}</mark>"]
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)
