"""Curation patterns as SDE curators use them in COSMOS: exclude and include URL patterns, title, division and
document-type patterns, global or for one collection.

A pattern matches a URL exactly, with `*` wildcards (COSMOS syntax, the whole URL without scheme), or as an
RE2 regex (searched in the lower-cased path and query, like SDE's default excludes). Every pattern becomes one
RE2 regex evaluated by DuckDB (`store.patterns`), so no regex engine runs in Python. The
defaults of `[rules] exclude_patterns` are patterns of provenance `default` under their own names; a curator
deactivates or rescopes one by writing a row with that id.
"""

from __future__ import annotations

import string
import uuid
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from curation.core import collection_key, collection_names, curator_name, document_counts
from store import patterns as pattern_store

if TYPE_CHECKING:
    from curation.core import Workspace

Kind = Literal["exclude", "include", "title", "division", "document_type"]
Match = Literal["exact", "wildcard", "regex"]
Provenance = Literal["default", "curator", "llm-suggested"]
KINDS: tuple[str, ...] = ("exclude", "include", "title", "division", "document_type")
VALUE_KINDS = {"title", "division", "document_type"}
TEMPLATE_FIELDS = {"title", "url", "collection", "division", "document_type"}
_RE2_SPECIAL = set("\\.+*?()|[]{}^$")
DEFAULT_AUTHOR = "sde-workbench"


class PatternError(ValueError):
    """A pattern that cannot be stored: unknown collection, bad regex or template, missing value."""


def re2_escape(text: str) -> str:
    """Escape RE2's metacharacters only (Python's re.escape also escapes characters RE2 rejects escaped)."""
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in text)


def _strip_scheme(url: str) -> str:
    head, sep, tail = url.partition("://")
    return tail if sep and head.isalpha() else url


class Pattern(BaseModel):
    """One pattern as it stands (the newest row of its history)."""

    pattern_id: str = Field(default_factory=lambda: "p" + uuid.uuid4().hex[:8])
    kind: Kind
    scope: str | None = None
    match: Match
    pattern: str
    value: str | None = None
    provenance: Provenance = "curator"
    active: bool = True
    reason: str | None = None
    author: str = DEFAULT_AUTHOR

    @field_validator("pattern")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a pattern cannot be empty")
        return v.strip()

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Pattern:
        if self.kind in VALUE_KINDS and not self.value:
            raise ValueError(f"a {self.kind} pattern needs --value")
        if self.kind == "title" and self.value:
            for _, field, spec, conversion in string.Formatter().parse(self.value):
                if field is not None and (field not in TEMPLATE_FIELDS or spec or conversion):
                    raise ValueError(f"title templates use {{{'}, {'.join(sorted(TEMPLATE_FIELDS))}}} only")
        return self

    def regex(self) -> str:
        """The RE2 regex DuckDB evaluates for this pattern."""
        if self.match == "regex":
            return self.pattern
        body = _strip_scheme(self.pattern.lower())
        if self.match == "exact":
            return "^" + re2_escape(body.rstrip("/")) + "/?$"
        return "^" + ".*".join(re2_escape(part) for part in body.split("*")) + "$"

    def target(self) -> str:
        """What the regex sees: path and query (`rest`) for regexes, host, path and query for the others."""
        return "rest" if self.match == "regex" else "host_path"

    def specificity(self) -> tuple[int, int, int]:
        """Exact URL over wildcard over regex, then the longer literal prefix, then collection over global."""
        if self.match == "exact":
            rank, prefix = 2, len(self.pattern)
        elif self.match == "wildcard":
            rank, prefix = 1, len(_strip_scheme(self.pattern).split("*", 1)[0])
        else:
            text = self.pattern.lstrip("^")
            rank, prefix = 0, next((i for i, c in enumerate(text) if c in _RE2_SPECIAL), len(text))
        return rank, prefix, int(self.scope is not None)

    def label(self) -> str:
        """How verdicts name the pattern that decided them: `exclude:search_results`, `include:p1a2b3c4`."""
        return f"{self.kind}:{self.pattern_id}"


def infer_match(pattern: str) -> Match:
    """COSMOS's rule: a pattern with `*` is a wildcard pattern, else one URL."""
    return "wildcard" if "*" in pattern else "exact"


def default_patterns(ws: Workspace) -> list[Pattern]:
    """`[rules] exclude_patterns` as global exclude patterns of provenance `default`."""
    return [
        Pattern(pattern_id=name, kind="exclude", match="regex", pattern=regex, provenance="default")
        for name, regex in ws.settings.rules.exclude_patterns.items()
    ]


def stored_patterns(ws: Workspace) -> list[Pattern]:
    """Patterns in the workspace (newest row each, removed ones left out)."""
    table = pattern_store.current_patterns(ws.db)
    fields = set(Pattern.model_fields)
    return [
        Pattern(**{k: (None if v != v else v) for k, v in row.items() if k in fields})  # NaN -> None
        for row in table.to_dict("records")
    ]


def effective_patterns(ws: Workspace) -> list[Pattern]:
    """The defaults, overlaid by stored rows with the same id, then the stored patterns (active or not)."""
    stored = stored_patterns(ws)
    by_id = {p.pattern_id: p for p in stored}
    removed = set(pattern_store.pattern_history(ws.db)["pattern_id"]) - set(by_id)
    defaults = [by_id.pop(p.pattern_id, p) for p in default_patterns(ws) if p.pattern_id not in removed]
    return defaults + list(by_id.values())


def resolve_scope(ws: Workspace, collection: str | None) -> str | None:
    """A collection as given at ingest (its name) or its key -> its key; PatternError when no document has it."""
    if collection is None:
        return None
    names = collection_names(ws)
    keys = set(names) | {k for k in document_counts(ws, "collection") if k is not None}
    if collection in keys:
        return collection
    by_name = {name: key for key, name in names.items()}
    if collection in by_name:
        return by_name[collection]
    if collection_key(collection) in keys:
        return collection_key(collection)
    raise PatternError(f"no collection {collection!r} in this workspace (known: {', '.join(sorted(keys)) or 'none'})")


def check_pattern(ws: Workspace, pattern: Pattern) -> Pattern:
    """PatternError when DuckDB's RE2 rejects the pattern's regex."""
    problem = pattern_store.regex_problem(ws.db, pattern.regex())
    if problem:
        raise PatternError(f"not an RE2 regex: {pattern.pattern!r} ({problem})")
    return pattern


def save_patterns(ws: Workspace, patterns: list[Pattern], who: str) -> list[Pattern]:
    """Store new patterns or new versions of patterns (each a new row, by `who`)."""
    name = curator_name(who, "changing patterns")
    saved = [check_pattern(ws, p).model_copy(update={"author": name}) for p in patterns]
    pattern_store.add_patterns(ws.db, [p.model_dump() for p in saved])
    return saved


def add_pattern(ws: Workspace, pattern: Pattern, who: str) -> Pattern:
    """Store a new pattern (PatternError when its regex or collection is wrong)."""
    return save_patterns(ws, [pattern], who)[0]


def find_pattern(ws: Workspace, pattern_id: str) -> Pattern:
    """The pattern with this id (a stored one or a default); PatternError when there is none."""
    for p in effective_patterns(ws):
        if p.pattern_id == pattern_id:
            return p
    raise PatternError(f"no pattern {pattern_id!r}; `sde-workbench rules list` shows them")


def set_active(ws: Workspace, pattern_id: str, active: bool, who: str, reason: str | None = None) -> Pattern:
    """Activate (accept a suggestion) or deactivate (reject it, or switch a default off): a new row."""
    changed = find_pattern(ws, pattern_id).model_copy(update={"active": active, "reason": reason})
    return save_patterns(ws, [changed], who)[0]


def remove_pattern(ws: Workspace, pattern_id: str, who: str, reason: str | None = None) -> Pattern:
    """Remove a pattern (its history stays); removing a default stops it until `rules import` brings it back."""
    gone = find_pattern(ws, pattern_id)
    name = curator_name(who, "changing patterns")
    pattern_store.add_patterns(
        ws.db, [{**gone.model_dump(), "active": False, "removed": True, "reason": reason, "author": name}]
    )
    return gone
