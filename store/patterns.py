"""Curation patterns and the rules' view of documents in DuckDB.

Patterns are append-only (`patterns`, migration 10): a change is a new row and `current_patterns` is the
newest row per pattern. `rule_matches` evaluates every pattern's RE2 regex in one scan of the documents and
hands back, per document, the patterns it matched with its word count and its collection's median; the
curation layer resolves them (include over exclude, most specific wins) and `save_rules_verdicts` stores the
outcome in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from store.database import Database

PATTERN_COLUMNS = (
    "pattern_id",
    "kind",
    "scope",
    "match",
    "pattern",
    "value",
    "provenance",
    "active",
    "removed",
    "reason",
    "author",
)
# Words of a text; what regex patterns see (lower-cased path and query after the host, no fragment) and what
# exact and wildcard patterns see (lower-cased URL without scheme and fragment).
_WORD_COUNT = "len(regexp_extract_all(text, '\\S+'))"
_URL_REST = "coalesce(regexp_extract(lower(url), '^[a-z][a-z0-9+.-]*://[^/?#]*([^#]*)', 1), '')"
_URL_HOST_PATH = "coalesce(regexp_extract(lower(url), '^(?:[a-z][a-z0-9+.-]*://)?([^#]*)', 1), '')"


def add_patterns(db: Database, rows: Sequence[dict[str, Any]]) -> int:
    """Append pattern rows (a new pattern, an edit, a deactivation or a removal are all new rows)."""
    if not rows:
        return 0
    frame = pd.DataFrame([{c: r.get(c) for c in PATTERN_COLUMNS} for r in rows], columns=list(PATTERN_COLUMNS))
    frame["removed"] = frame["removed"].fillna(False).astype(bool)
    with db.write() as con:
        con.register("incoming_patterns", frame)
        con.execute(f"INSERT INTO patterns ({', '.join(PATTERN_COLUMNS)}) SELECT * FROM incoming_patterns")
        con.unregister("incoming_patterns")
    return len(frame)


def current_patterns(db: Database) -> pd.DataFrame:
    """The newest row of every pattern not removed, oldest pattern first."""
    with db.read() as con:
        return con.execute(
            f"""
            WITH first AS (SELECT pattern_id, min(row_id) AS first_row FROM patterns GROUP BY ALL)
            SELECT {", ".join(PATTERN_COLUMNS)}, created_at AS updated_at
            FROM current_patterns JOIN first USING (pattern_id)
            WHERE NOT removed ORDER BY first_row
            """
        ).df()


def pattern_history(db: Database, pattern_id: str | None = None) -> pd.DataFrame:
    """Every row of one pattern (or all), oldest first: who changed what, when and why."""
    with db.read() as con:
        return con.execute(
            f"SELECT row_id, {', '.join(PATTERN_COLUMNS)}, created_at FROM patterns "
            "WHERE $id IS NULL OR pattern_id = $id ORDER BY row_id",
            {"id": pattern_id},
        ).df()


def rule_matches(
    db: Database,
    matchers: Sequence[tuple[str, str, str | None]],
    *,
    path_words: Sequence[str],
    limit: int | None = None,
) -> pd.DataFrame:
    """Per document: its fields, word count, median words of its collection, path-word hits and matched patterns.

    `matchers` are (RE2 regex, target `rest` or `host_path`, collection scope or None); `matched` lists the
    indexes of those that match. `median` is the collection's median (the workspace median without one).
    """
    params: dict[str, Any] = {"path_words": [w.lower() for w in path_words], "limit": limit}
    checks: list[str] = []
    for i, (regex, target, scope) in enumerate(matchers):
        params[f"re_{i}"], params[f"scope_{i}"] = regex, scope
        checks.append(
            f"CASE WHEN ($scope_{i} IS NULL OR collection = $scope_{i}) AND regexp_matches({target}, $re_{i}) "
            f"THEN {i} END"
        )
    matched = f"list_filter([{', '.join(checks)}]::INTEGER[], lambda m: m IS NOT NULL)" if checks else "[]::INTEGER[]"
    with db.read() as con:
        return con.execute(
            f"""
            WITH located AS (
                SELECT doc_id, content_hash, url, title, division, document_type, collection,
                       {_URL_REST} AS rest, {_URL_HOST_PATH} AS host_path, {_WORD_COUNT} AS words
                FROM documents
            ),
            counted AS (
                SELECT *, coalesce(median(words) OVER (PARTITION BY collection), 0) AS collection_median,
                       coalesce(median(words) OVER (), 0) AS workspace_median
                FROM located
            ),
            picked AS (SELECT * FROM counted ORDER BY doc_id LIMIT coalesce($limit, 9223372036854775807))
            SELECT doc_id, content_hash, url, title, division, document_type, collection, words,
                   CASE WHEN collection IS NULL THEN workspace_median ELSE collection_median END AS median,
                   list_intersect(regexp_extract_all(split_part(rest, '?', 1), '[a-z0-9]+'), $path_words)
                       AS path_hits,
                   {matched} AS matched
            FROM picked ORDER BY doc_id
            """,
            params,
        ).df()


def save_rules_verdicts(db: Database, frame: pd.DataFrame, *, prompt_version: str, now: datetime) -> int:
    """Replace the rules verdicts of the documents in `frame` (doc_id, content_hash, kept, rule, reason,
    division, document_type, title) in one transaction."""
    with db.write() as con:
        con.register("ruled", frame)
        con.execute("DELETE FROM verdicts WHERE judge = 'rules' AND doc_id IN (SELECT doc_id FROM ruled)")
        con.execute(
            """
            INSERT INTO verdicts (doc_id, judge, model, prompt_version, content_hash, ok, kept, rule, reasons,
                                  division, document_type, title, judged_at)
            SELECT doc_id, 'rules', 'rules', $prompt_version, content_hash, true, kept, rule,
                   CASE WHEN reason IS NULL THEN [] ELSE [reason] END, division, document_type, title, $now
            FROM ruled
            """,
            {"prompt_version": prompt_version, "now": now},
        )
        con.unregister("ruled")
    return len(frame)


def regex_problem(db: Database, regex: str) -> str | None:
    """Why DuckDB's RE2 rejects a regex, or None when it compiles."""
    with db.read() as con:
        try:
            con.execute("SELECT regexp_matches('', $re)", {"re": regex}).fetchone()
        except duckdb.Error as exc:  # the message says what RE2 rejected
            return str(exc).splitlines()[0]
    return None


def judged_relevant(db: Database, doc_ids: Sequence[str], threshold: int) -> list[tuple[str, str, str, int]]:
    """(query_set, query_id, doc_id, grade) for every current grade at or above `threshold` of these documents."""
    if not doc_ids:
        return []
    with db.read() as con:
        rows = con.execute(
            """
            SELECT query_set, query_id, doc_id, max(grade) FROM current_judgments
            WHERE kind = 'grade' AND grade >= $threshold AND doc_id IN (SELECT unnest($ids))
            GROUP BY ALL ORDER BY doc_id, query_set, query_id
            """,
            {"threshold": threshold, "ids": list(doc_ids)},
        ).fetchall()
    return [(str(s), str(q), str(d), int(g)) for s, q, d, g in rows]


def rule_counts(db: Database) -> pd.DataFrame:
    """Per rule (the pattern or rule a current rules verdict names) and collection: documents it decided,
    whether it kept them, and the collection's size."""
    with db.read() as con:
        return con.execute(
            """
            WITH sized AS (SELECT collection, count(*) AS collection_documents FROM documents GROUP BY ALL)
            SELECT r.rule, d.collection, bool_and(r.kept) AS kept, count(*) AS documents,
                   any_value(s.collection_documents) AS collection_documents
            FROM current_machine_verdicts r JOIN documents d USING (doc_id)
            JOIN sized s ON s.collection IS NOT DISTINCT FROM d.collection
            WHERE r.judge = 'rules' AND r.rule IS NOT NULL
            GROUP BY ALL ORDER BY documents DESC, r.rule, d.collection
            """
        ).df()


def sample_pages(db: Database, collection: str, n: int) -> list[tuple[str, str]]:
    """(url, title) of up to `n` pages of a collection, spread over it (a fixed hash order, so reruns agree)."""
    with db.read() as con:
        rows = con.execute(
            "SELECT url, title FROM documents WHERE collection = $c AND url IS NOT NULL ORDER BY hash(doc_id) LIMIT $n",
            {"c": collection, "n": n},
        ).fetchall()
    return [(str(u), str(t)) for u, t in rows]
