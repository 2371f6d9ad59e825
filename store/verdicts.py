"""Relevancy verdicts, curator decisions and suggestion reviews in DuckDB.

Machine verdicts carry the content hash they judged, so a changed page simply has no current
verdict (the views ignore stale rows). Curator decisions and suggestion reviews are append-only;
the newest one counts. `verdicts_in_force` (see the migration) is what every other feature reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from store.database import Database

VERDICT_COLUMNS = (
    "doc_id",
    "judge",
    "model",
    "prompt_version",
    "content_hash",
    "ok",
    "kept",
    "quality",
    "rule",
    "reasons",
    "division",
    "document_type",
    "confidence",
    "error",
    "attempts",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "judged_at",
)
SUGGESTION_FIELDS = ("division", "document_type")


def llm_candidates(db: Database, model: str, prompt_version: str) -> tuple[list[tuple[str, str]], int]:
    """Documents the LLM should judge with this model and prompt, and how many it already has.

    Candidates are documents no current rules verdict drops and no curator has decided. Returns the
    (doc_id, content_hash) pairs still without a successful verdict (never judged, or failed before),
    and the number of candidates whose verdict is cached.
    """
    with db.read() as con:
        rows = con.execute(
            """
            SELECT d.doc_id, d.content_hash, v.doc_id IS NOT NULL AS cached
            FROM documents d
            LEFT JOIN verdicts v ON v.doc_id = d.doc_id AND v.judge = 'llm' AND v.ok AND v.model = $model
                 AND v.prompt_version = $prompt_version AND v.content_hash = d.content_hash
            WHERE NOT EXISTS (SELECT 1 FROM current_machine_verdicts r
                              WHERE r.doc_id = d.doc_id AND r.judge = 'rules' AND NOT r.kept)
              AND NOT EXISTS (SELECT 1 FROM decisions c WHERE c.doc_id = d.doc_id)
            ORDER BY d.doc_id
            """,
            {"model": model, "prompt_version": prompt_version},
        ).fetchall()
    pending = [(str(doc_id), str(content)) for doc_id, content, cached in rows if not cached]
    return pending, len(rows) - len(pending)


def save_verdicts(db: Database, rows: Sequence[dict[str, Any]]) -> int:
    """Store machine verdicts (successes or failures); a row replaces the one with the same cache key."""
    if not rows:
        return 0
    frame = pd.DataFrame([{c: r.get(c) for c in VERDICT_COLUMNS} for r in rows], columns=list(VERDICT_COLUMNS))
    with db.write() as con:
        con.register("incoming_verdicts", frame)
        con.execute(f"INSERT OR REPLACE INTO verdicts ({', '.join(VERDICT_COLUMNS)}) SELECT * FROM incoming_verdicts")
        con.unregister("incoming_verdicts")
    return len(frame)


def record_decisions(db: Database, doc_ids: Sequence[str], *, kept: bool, decided_by: str, note: str | None) -> int:
    """A curator keeps or drops documents; the newest decision per document wins over machine verdicts."""
    if not doc_ids:
        return 0
    with db.write() as con:
        con.execute(
            """
            INSERT INTO decisions (doc_id, kept, note, decided_by)
            SELECT unnest($ids), $kept, $note, $decided_by
            """,
            {"ids": list(doc_ids), "kept": kept, "note": note, "decided_by": decided_by},
        )
    return len(doc_ids)


def review_suggestions(db: Database, items: Sequence[tuple[str, str, str]], *, accepted: bool, decided_by: str) -> int:
    """Accept or reject (doc_id, field, value) suggestions; an accepted value becomes the document's.

    The review keeps the value it replaced, and `curated_labels` makes a re-ingest keep the accepted
    value over whatever the source says. The value is canonical taxonomy, so the field's flag goes.
    """
    if not items:
        return 0
    bad = {field for _, field, _ in items} - set(SUGGESTION_FIELDS)
    if bad:
        raise ValueError(f"cannot review suggestions for {', '.join(sorted(bad))}")
    frame = pd.DataFrame(items, columns=["doc_id", "field", "value"])
    with db.write() as con:
        con.register("incoming_reviews", frame)
        con.execute(
            """
            INSERT INTO suggestion_reviews (doc_id, field, value, accepted, previous, decided_by)
            SELECT i.doc_id, i.field, i.value, $accepted,
                   CASE i.field WHEN 'division' THEN d.division ELSE d.document_type END, $decided_by
            FROM incoming_reviews i JOIN documents d ON d.doc_id = i.doc_id
            """,
            {"accepted": accepted, "decided_by": decided_by},
        )
        if accepted:
            for field in SUGGESTION_FIELDS:
                con.execute(
                    f"""
                    UPDATE documents SET {field} = i.value,
                        taxonomy_flags = list_filter(taxonomy_flags, lambda f: NOT starts_with(f, '{field}:'))
                    FROM incoming_reviews i WHERE documents.doc_id = i.doc_id AND i.field = '{field}'
                    """
                )
        con.unregister("incoming_reviews")
    return len(items)


_MATCHES = """
            FROM verdicts_in_force f JOIN documents d USING (doc_id)
            LEFT JOIN current_machine_verdicts l ON l.doc_id = f.doc_id AND l.judge = 'llm'
            WHERE ($kept IS NULL OR f.kept = $kept) AND ($judge IS NULL OR f.judge = $judge)
              AND ($quality IS NULL OR coalesce(f.quality, l.quality) = $quality)
              AND ($rule IS NULL OR f.rule = $rule) AND ($division IS NULL OR d.division = $division)
              AND ($collection IS NULL OR d.collection = $collection)
              AND ($min_confidence IS NULL OR l.confidence >= $min_confidence)
"""


def _filter_params(
    *,
    kept: bool | None = None,
    judge: str | None = None,
    quality: str | None = None,
    rule: str | None = None,
    division: str | None = None,
    collection: str | None = None,
    min_confidence: float | None = None,
) -> dict[str, Any]:
    """The parameters of `_MATCHES` (None: no restriction); an unknown filter is a TypeError."""
    return {"kept": kept, "judge": judge, "quality": quality, "rule": rule, "division": division,
            "collection": collection, "min_confidence": min_confidence}  # fmt: skip


def verdict_table(db: Database, *, limit: int | None = None, offset: int = 0, **filters: Any) -> pd.DataFrame:
    """The verdict in force per document with what a reviewer needs next to it, filtered (kept, judge, quality,
    rule, division, collection, min_confidence), by doc_id; `limit` rows from `offset` make one page of it (the
    database pages, not the app).

    Besides `verdicts_in_force`'s columns: url, title, collection, the document's division and type,
    and the current LLM verdict's confidence and suggestions (also under a curator's decision).
    """
    with db.read() as con:
        return con.execute(
            f"""
            SELECT f.doc_id, d.url, d.title, d.collection, d.division, d.document_type, f.kept, f.judge,
                   f.quality, f.rule, f.reasons, f.decided_by, f.decided_at, l.quality AS llm_quality,
                   l.confidence, l.division AS suggested_division, l.document_type AS suggested_document_type
            {_MATCHES}
            ORDER BY f.doc_id
            LIMIT coalesce($limit, 9223372036854775807) OFFSET $offset
            """,
            {**_filter_params(**filters), "limit": limit, "offset": offset},
        ).df()


def verdict_matches(db: Database, **filters: Any) -> int:
    """How many rows `verdict_table` has under the same filters (for its pages)."""
    with db.read() as con:
        row = con.execute(f"SELECT count(*) {_MATCHES}", _filter_params(**filters)).fetchone()
    return int(row[0]) if row else 0


def verdict_counts(db: Database) -> dict[str, dict[str, int]]:
    """Documents by verdict in force (kept/dropped/unjudged), by judge, by rule, and failed LLM calls."""
    with db.read() as con:
        by_verdict = con.execute(
            """
            SELECT CASE WHEN f.kept THEN 'kept' WHEN NOT f.kept THEN 'dropped' ELSE 'unjudged' END AS v, count(*)
            FROM documents d LEFT JOIN verdicts_in_force f USING (doc_id) GROUP BY v
            """
        ).fetchall()
        by_judge = con.execute(
            "SELECT judge || CASE WHEN kept THEN ' kept' ELSE ' dropped' END, count(*) FROM verdicts_in_force "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        by_rule = con.execute(
            "SELECT rule, count(*) FROM verdicts_in_force WHERE rule IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        by_quality = con.execute(
            "SELECT quality, count(*) FROM current_machine_verdicts WHERE judge = 'llm' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        errors = con.execute(
            """
            SELECT count(DISTINCT v.doc_id) FROM verdicts v JOIN documents d USING (doc_id)
            WHERE v.judge = 'llm' AND NOT v.ok AND v.content_hash = d.content_hash
              AND NOT EXISTS (SELECT 1 FROM current_machine_verdicts c WHERE c.doc_id = v.doc_id AND c.judge = 'llm')
            """
        ).fetchone()
    return {
        "by_verdict": {str(k): int(n) for k, n in by_verdict},
        "by_judge": {str(k): int(n) for k, n in by_judge},
        "by_rule": {str(k): int(n) for k, n in by_rule},
        "by_quality": {str(k): int(n) for k, n in by_quality},
        "llm_errors": {"documents": int(errors[0]) if errors else 0},
    }


def llm_errors(db: Database, limit: int = 200) -> pd.DataFrame:
    """The latest failure per document the LLM has not judged yet, with its reason."""
    with db.read() as con:
        return con.execute(
            """
            SELECT v.doc_id, d.url, v.model, v.error, v.attempts, v.judged_at
            FROM verdicts v JOIN documents d USING (doc_id)
            WHERE v.judge = 'llm' AND NOT v.ok AND v.content_hash = d.content_hash
              AND NOT EXISTS (SELECT 1 FROM current_machine_verdicts c WHERE c.doc_id = v.doc_id AND c.judge = 'llm')
            QUALIFY row_number() OVER (PARTITION BY v.doc_id ORDER BY v.judged_at DESC) = 1
            ORDER BY v.judged_at DESC LIMIT ?
            """,
            [limit],
        ).df()


def pending_suggestions(db: Database, *, min_confidence: float = 0.0) -> pd.DataFrame:
    """Division / document-type suggestions of current LLM verdicts that differ and are not reviewed yet."""
    with db.read() as con:
        return con.execute(
            """
            WITH suggested AS (
                SELECT l.doc_id, f.field, f.value, l.confidence,
                       CASE f.field WHEN 'division' THEN d.division ELSE d.document_type END AS current,
                       d.title, d.url
                FROM current_machine_verdicts l JOIN documents d USING (doc_id),
                     LATERAL (VALUES ('division', l.division), ('document_type', l.document_type)) f(field, value)
                WHERE l.judge = 'llm' AND f.value IS NOT NULL AND l.confidence >= $min_confidence
            )
            SELECT doc_id, title, url, field, current, value AS suggested, confidence FROM suggested s
            WHERE current IS DISTINCT FROM value
              AND NOT EXISTS (SELECT 1 FROM suggestion_reviews r
                              WHERE r.doc_id = s.doc_id AND r.field = s.field AND r.value = s.value)
            ORDER BY confidence DESC, doc_id, field
            """,
            {"min_confidence": min_confidence},
        ).df()


def kept_doc_ids(db: Database) -> set[str]:
    """Documents whose verdict in force keeps them: pass this to restrict search, maps, comparison, export.

    Documents no judge has seen are not included: run `filter` first (the rules take seconds).
    """
    with db.read() as con:
        return {str(r[0]) for r in con.execute("SELECT doc_id FROM verdicts_in_force WHERE kept").fetchall()}
