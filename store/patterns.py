"""Curation patterns and the rules' view of documents in DuckDB.

Patterns are append-only (`patterns`, migration 10): a change is a new row and `current_patterns` is the
newest row per pattern. The rules are one query (`_rules_query`): every pattern's RE2 regex, the path words and
the word count against the document's collection median are evaluated in one scan, and the first case that holds
decides, in the order the curation layer gives (include over exclude, most specific first). `evaluate_rules`
returns the verdicts (previews), `apply_rules` stores them in one transaction without leaving DuckDB.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
from pydantic import BaseModel

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
_WORD_COUNT = "length(regexp_replace(text, '\\s*\\S+\\s*', 'x', 'g'))"  # one x per word: faster than a list of words
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


Matcher = tuple[str, str, str | None]  # (RE2 regex, target `rest` or `host_path`, collection scope or None)
TEMPLATE_FIELDS = ("title", "url", "collection", "division", "document_type")


class RuleSpec(BaseModel):
    """What the rules apply, already ordered: includes and excludes most specific first, each with the label and
    reason its verdict records; value patterns (division, document_type, title) most specific first, a value as
    template parts (literal text, or a field name prefixed by `{`)."""

    includes: list[tuple[Matcher, str, str]] = []
    excludes: list[tuple[Matcher, str, str]] = []
    values: dict[str, list[tuple[Matcher, list[str]]]] = {}
    path_words: list[str] = []
    fraction: float = 0.0
    floor: int = 0
    candidate: Matcher | None = None
    limit: int | None = None


def _matches(matcher: Matcher, name: str, params: dict[str, Any]) -> str:
    regex, target, scope = matcher
    if target not in ("rest", "host_path"):
        raise ValueError(f"unknown match target {target!r}")
    params[f"{name}_re"], params[f"{name}_scope"] = regex, scope
    return f"((${name}_scope IS NULL OR collection = ${name}_scope) AND regexp_matches({target}, ${name}_re))"


def _value(parts: list[str], name: str, params: dict[str, Any]) -> str:
    pieces = []
    for j, part in enumerate(parts):
        if part.startswith("{") and part[1:] in TEMPLATE_FIELDS:
            pieces.append(f"coalesce({part[1:]}::VARCHAR, '')")
        else:
            params[f"{name}_{j}"] = part
            pieces.append(f"${name}_{j}")
    return f"concat({', '.join(pieces)})" if pieces else "''"


def _rules_query(spec: RuleSpec, params: dict[str, Any]) -> str:
    """The verdict per document, resolved by DuckDB: the first case that holds decides (includes, excludes,
    path words, the floor, the collection's median), each value from its most specific pattern."""
    params.update(path_words=[w.lower() for w in spec.path_words], fraction=spec.fraction, floor=spec.floor)
    params["limit"] = spec.limit
    cases = []
    for kind, kept, rules in (("inc", "true", spec.includes), ("exc", "false", spec.excludes)):
        for i, (matcher, label, reason) in enumerate(rules):
            params[f"{kind}{i}_label"], params[f"{kind}{i}_reason"] = label, reason
            cases.append(
                f"WHEN {_matches(matcher, f'{kind}{i}', params)} "
                f"THEN {{'kept': {kept}, 'rule': ${kind}{i}_label, 'reason': ${kind}{i}_reason}}"
            )
    cases.append(
        "WHEN len(hits) > 0 THEN {'kept': false, 'rule': 'path_word:' || hits[1], "
        "'reason': 'URL path contains the word \"' || hits[1] || '\"'}"
    )
    cases.append(
        "WHEN words < $floor THEN {'kept': false, 'rule': 'min_words', "
        "'reason': format('{} words, under the floor of {} words', words, $floor)}"
    )
    cases.append(
        "WHEN words < $fraction * median THEN {'kept': false, 'rule': 'min_words', "
        "'reason': format('{} words, under {} x the median of {} words of {}', words, $fraction, "
        "round(median)::BIGINT, coalesce('collection ' || collection, 'the workspace'))}"
    )
    values = []
    for field in ("division", "document_type", "title"):
        whens = [
            f"WHEN {_matches(matcher, f'{field}{i}', params)} THEN {_value(parts, f'{field}{i}v', params)}"
            for i, (matcher, parts) in enumerate(spec.values.get(field, []))
        ]
        values.append(f"CASE {' '.join(whens)} END AS set_{field}" if whens else f"NULL::VARCHAR AS set_{field}")
    candidate = _matches(spec.candidate, "cand", params) if spec.candidate else "false"
    return f"""
        WITH located AS (
            SELECT doc_id, content_hash, url, title, division, document_type, collection,
                   {_URL_REST} AS rest, {_URL_HOST_PATH} AS host_path, {_WORD_COUNT} AS words
            FROM documents
        ),
        counted AS (
            SELECT *, CASE WHEN collection IS NULL THEN median(words) OVER ()
                           ELSE median(words) OVER (PARTITION BY collection) END AS median,
                   list_intersect(regexp_extract_all(split_part(rest, '?', 1), '[a-z0-9]+'), $path_words) AS hits
            FROM located
        ),
        picked AS (SELECT * FROM counted ORDER BY doc_id LIMIT coalesce($limit, 9223372036854775807)),
        decided AS (
            SELECT *, CASE {" ".join(cases)} END AS fired, {", ".join(values)}, {candidate} AS candidate
            FROM picked
        )
        SELECT doc_id, content_hash, coalesce(fired.kept, true) AS kept, fired.rule AS rule,
               fired.reason AS reason, set_division AS division, set_document_type AS document_type,
               set_title AS title, url, collection, words, title AS page_title, candidate
        FROM decided
    """


def evaluate_rules(db: Database, spec: RuleSpec) -> pd.DataFrame:
    """What `spec` decides for every document (nothing stored): doc_id, content_hash, kept, rule, reason,
    division, document_type, title (what value patterns give), url, collection, words, page_title, candidate."""
    params: dict[str, Any] = {}
    query = _rules_query(spec, params)
    with db.read() as con:
        return con.execute(query + " ORDER BY doc_id", params).df()


def apply_rules(db: Database, spec: RuleSpec, *, prompt_version: str, now: datetime) -> dict[str, Any]:
    """Decide every document by `spec` and replace their rules verdicts, in one transaction; returns counts."""
    params: dict[str, Any] = {}
    query = _rules_query(spec, params)
    with db.write() as con:
        con.execute(f"CREATE TEMP TABLE ruled AS {query}", params)
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
        row = con.execute("SELECT count(*), count(*) FILTER (kept), coalesce(median(words), 0) FROM ruled").fetchone()
        by_rule = con.execute(
            "SELECT rule, count(*) FROM ruled WHERE NOT kept GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        con.execute("DROP TABLE ruled")
    assert row is not None
    return {
        "judged": int(row[0]),
        "kept": int(row[1]),
        "dropped": int(row[0]) - int(row[1]),
        "median_words": float(row[2]),
        "by_rule": {str(r): int(n) for r, n in by_rule},
    }


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
