"""Rule sets as files and as tables: YAML export/import (share patterns between workspaces, review them in git),
and what each pattern decided per collection (the Rules page and `rules list`).

A YAML rule set names collections as typed at ingest where the workspace knows the name, so it reads the same in
another workspace; import resolves them again and writes a row only for a pattern that is new or changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml
from pydantic import BaseModel, ValidationError

from curation.core import collection_label, collection_names
from curation.relevancy.patterns import Pattern, PatternError, effective_patterns, resolve_scope, save_patterns
from store import patterns as pattern_store

if TYPE_CHECKING:
    from curation.core import Workspace

_FIELDS = ("pattern_id", "kind", "scope", "match", "pattern", "value", "provenance", "active", "reason")
# A collection that drops more than this share of its documents to one pattern is flagged on the Rules page.
MOST_OF_A_COLLECTION = 0.5


class ImportResult(BaseModel):
    added: int
    changed: int
    unchanged: int


def export_rules(ws: Workspace, path: Path) -> int:
    """Write every pattern in force (defaults included) to a YAML file; returns how many."""
    names = collection_names(ws)
    entries = []
    for p in effective_patterns(ws):
        entry = {k: v for k, v in p.model_dump(include=set(_FIELDS)).items() if v is not None}
        if p.scope is not None:
            entry["scope"] = collection_label(names, p.scope)
        entries.append(entry)
    path.write_text(yaml.safe_dump({"patterns": entries}, sort_keys=False, allow_unicode=True))
    return len(entries)


def import_rules(ws: Workspace, path: Path, who: str) -> ImportResult:
    """Read a YAML rule set: new patterns and changed ones become rows by `who`; identical ones are skipped."""
    try:
        data: Any = yaml.safe_load(path.read_text())
        entries = data["patterns"] if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise PatternError(f"{path} has no `patterns:` list")
        incoming = [Pattern(**{**e, "scope": resolve_scope(ws, e.get("scope"))}) for e in entries]
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise PatternError(f"{path} is not a rule set: {exc}") from exc
    current = {p.pattern_id: p for p in effective_patterns(ws)}
    new = [p for p in incoming if p.pattern_id not in current]
    changed = [
        p
        for p in incoming
        if p.pattern_id in current
        and p.model_dump(include=set(_FIELDS)) != current[p.pattern_id].model_dump(include=set(_FIELDS))
    ]
    save_patterns(ws, new + changed, who)
    return ImportResult(added=len(new), changed=len(changed), unchanged=len(incoming) - len(new) - len(changed))


def rule_matrix(ws: Workspace) -> pd.DataFrame:
    """Per rule and collection (by name) of the current rules verdicts: documents decided and the share of the
    collection that the rule drops (0 for include patterns, which keep); `most` flags a rule dropping most of
    a collection, the sign of a rule that does not fit a source."""
    table = pattern_store.rule_counts(ws.db)
    names = collection_names(ws)
    table["collection"] = [collection_label(names, c) if c is not None else "(none)" for c in table["collection"]]
    table["dropped_share"] = [
        0.0 if kept else round(n / size, 3)
        for kept, n, size in zip(table["kept"], table["documents"], table["collection_documents"], strict=True)
    ]
    table["most"] = table["dropped_share"] > MOST_OF_A_COLLECTION
    return table[["rule", "collection", "documents", "collection_documents", "dropped_share", "most"]]


def pattern_table(ws: Workspace) -> pd.DataFrame:
    """Every pattern in force with the number of documents it decides in the current rules verdicts."""
    decided = pattern_store.rule_counts(ws.db).groupby("rule")["documents"].sum()
    names = collection_names(ws)
    rows = []
    for p in effective_patterns(ws):
        row = p.model_dump(include=set(_FIELDS))
        row["scope"] = collection_label(names, p.scope) if p.scope else "global"
        row["decides"] = int(decided.get(p.label(), 0))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*_FIELDS, "decides"])
