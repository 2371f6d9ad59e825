"""Query terms marked in a passage as safe HTML, and the short part of a long text around them.

Terms match whole words (a plural -s/-es too): "sea" marks "sea" and "seas", never "seasonal" or "SeaWiFS".
"""

from __future__ import annotations

import html
import re

_STOPWORDS = {"the", "and", "for", "are", "was", "were", "with", "from", "that", "this", "these", "those", "what"}
_STOPWORDS |= {"which", "who", "how", "why", "when", "where", "into", "about", "does", "did", "has", "have", "not"}
_PROSE_WORDS = 5  # a shorter line without a full stop is navigation ("Home | Data | Contact"), not prose
_SEPARATORS = re.compile(r"[|›»·/]")


def query_terms(query: str) -> list[str]:
    """The words of a query worth marking: three letters or more, no stop words, longest first."""
    terms = {t.lower() for t in re.findall(r"\w+", query) if len(t) > 2 and t.lower() not in _STOPWORDS}
    return sorted(terms, key=lambda t: (-len(t), t))


def _pattern(terms: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(map(re.escape, terms)) + r")(?:e?s)?\b", re.I)


def highlight(text: str, query: str) -> str:
    """`text` as safe HTML with the query's words in <mark>.

    Every piece of the text is escaped, so document HTML is shown as text, never rendered.
    """
    terms = query_terms(query)
    if not terms:
        return html.escape(text)
    pieces: list[str] = []
    last = 0
    for match in _pattern(terms).finditer(text):
        pieces += [html.escape(text[last : match.start()]), f"<mark>{html.escape(match.group())}</mark>"]
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def snippet(text: str, query: str, width: int = 320) -> str:
    """About `width` characters of `text` around the densest run of query terms, menu lines left out.

    Ellipses mark where text was cut. Without a query term in the text, its first prose is returned.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    prose = " ".join(line for line in lines if _is_prose(line)) or " ".join(lines)
    prose = re.sub(r"\s+", " ", prose)
    if len(prose) <= width:
        return prose
    terms = query_terms(query)
    starts = [m.start() for m in _pattern(terms).finditer(prose)] if terms else []
    if not starts:
        return _cut(prose, 0, width)
    # the window (of `width` characters) that holds the most matches, started a little before its first one
    best = max(range(len(starts)), key=lambda i: sum(1 for s in starts[i:] if s < starts[i] + width * 0.8))
    return _cut(prose, max(0, starts[best] - width // 5), width)


def _is_prose(line: str) -> bool:
    words = len(re.findall(r"\w+", line))
    if len(_SEPARATORS.findall(line)) >= 2 and words < 3 * len(_SEPARATORS.findall(line)):
        return False  # "Home | Data | About | Contact | Search"
    return words >= _PROSE_WORDS or line.rstrip().endswith((".", "?", "!"))


def _cut(text: str, start: int, width: int) -> str:
    """text[start : start + width], moved to word boundaries, with ellipses where it was cut."""
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 30 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    return ("… " if start > 0 else "") + text[start:end].strip() + (" …" if end < len(text) else "")
