"""The verdict in force (curator > current LLM > current rules), kept_doc_ids, and suggestion reviews."""

from __future__ import annotations

from collections.abc import Callable

from pydantic_ai.models.test import TestModel

from curation.core import Workspace, workspace_status
from curation.llm import LLMSettings
from curation.relevancy import judge_documents, run_rules
from store import verdicts as verdict_store
from store.judgments import replace_annotator_judgments

SITE = "https://science.nasa.gov"
BODY = " ".join(f"fact{i}" for i in range(200))
SETTINGS = LLMSettings(provider="openai-compatible", model="stub", base_url="http://127.0.0.1:9/v1")
POOR = {"quality": "POOR", "reasons": ["list of links"], "division": "Planetary Science", "confidence": 0.7}


def _in_force(ws: Workspace) -> dict[str, tuple[bool, str]]:
    with ws.db.read() as con:
        rows = con.execute("SELECT doc_id, kept, judge FROM verdicts_in_force").fetchall()
    return {doc_id: (kept, judge) for doc_id, kept, judge in rows}


def test_curator_beats_llm_beats_rules_and_stale_machine_verdicts_drop_out(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    a, b, c = (f"{SITE}/p/{name}" for name in "abc")
    add_documents([{"url": u, "title": "t", "text": BODY} for u in (a, b, c)])
    run_rules(ws)
    assert _in_force(ws) == {a: (True, "rules"), b: (True, "rules"), c: (True, "rules")}

    judge_documents(ws, SETTINGS, model=TestModel(custom_output_args=POOR))
    assert _in_force(ws) == {a: (False, "llm"), b: (False, "llm"), c: (False, "llm")}

    verdict_store.record_decisions(ws.db, [a], kept=True, decided_by="ana", note="real mission page")
    verdict_store.record_decisions(ws.db, [b], kept=True, decided_by="ana", note=None)
    verdict_store.record_decisions(ws.db, [b], kept=False, decided_by="ben", note="changed my mind")
    assert _in_force(ws) == {a: (True, "curator"), b: (False, "curator"), c: (False, "llm")}
    assert verdict_store.kept_doc_ids(ws.db) == {a}
    row = verdict_store.verdict_table(ws.db, judge="curator", kept=False).iloc[0]
    assert (row.decided_by, list(row.reasons), row.llm_quality) == ("ben", ["changed my mind"], "POOR")

    add_documents([{"url": c, "title": "t", "text": BODY + " updated"}])
    assert c not in _in_force(ws)  # both machine verdicts judged the old text
    run_rules(ws)
    assert _in_force(ws)[c] == (True, "rules")

    add_documents([{"url": a, "title": "t", "text": BODY + " updated"}])
    assert _in_force(ws)[a] == (True, "curator")  # a curator's decision is not a machine verdict


def test_counts_by_verdict_judge_rule_and_quality(ws: Workspace, add_documents: Callable[..., None]) -> None:
    add_documents(
        [{"url": f"{SITE}/p/{i}", "title": "t", "text": BODY} for i in range(3)]
        + [
            {"url": f"{SITE}/gallery/x", "title": "t", "text": BODY},
            {"url": f"{SITE}/p/new", "title": "t", "text": BODY},
        ]
    )
    run_rules(ws, limit=4)
    judge_documents(ws, SETTINGS, model=TestModel(custom_output_args=POOR), limit=1)

    counts = verdict_store.verdict_counts(ws.db)

    assert counts["by_verdict"] == {"kept": 2, "dropped": 2, "unjudged": 1}
    assert counts["by_judge"] == {"llm dropped": 1, "rules dropped": 1, "rules kept": 2}
    assert counts["by_rule"] == {"path_word:gallery": 1}
    assert counts["by_quality"] == {"POOR": 1}


def test_accepted_suggestions_update_the_document_and_survive_reingest(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    a, b = f"{SITE}/p/a", f"{SITE}/p/b"
    add_documents([{"url": u, "title": "t", "text": BODY, "division": "General"} for u in (a, b)])
    run_rules(ws)
    judge_documents(ws, SETTINGS, model=TestModel(custom_output_args={**POOR, "document_type": "Data"}))
    pending = verdict_store.pending_suggestions(ws.db)
    assert sorted(zip(pending.doc_id, pending.field, pending.suggested, strict=True)) == [
        (a, "division", "Planetary Science"),
        (a, "document_type", "Data"),
        (b, "division", "Planetary Science"),
        (b, "document_type", "Data"),
    ]
    assert workspace_status(ws).taxonomy_flags == {"division:general": 2}

    verdict_store.review_suggestions(ws.db, [(a, "division", "Planetary Science")], accepted=True, decided_by="ana")
    verdict_store.review_suggestions(ws.db, [(b, "division", "Planetary Science")], accepted=False, decided_by="ana")

    status = workspace_status(ws)
    assert status.by_division == {"General": 1, "Planetary Science": 1}
    assert status.taxonomy_flags == {"division:general": 1}
    assert sorted(verdict_store.pending_suggestions(ws.db).field) == ["document_type", "document_type"]

    add_documents([{"url": u, "title": "t", "text": BODY, "division": "Heliophysics"} for u in (a, b)])
    assert workspace_status(ws).by_division == {"Heliophysics": 1, "Planetary Science": 1}
    with ws.db.read() as con:
        assert con.execute("SELECT previous FROM suggestion_reviews WHERE accepted").fetchone() == ("General",)


def test_pages_of_verdicts_are_the_table_in_order_and_the_data_version_follows_writes(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    """The Filter & review page reads verdicts a page at a time and caches counts under `data_version`."""
    start = ws.data_version()
    add_documents([{"url": f"{SITE}/p/{i}", "title": "t", "text": BODY} for i in range(7)])
    ingested = ws.data_version()
    assert ingested != start
    run_rules(ws)
    ruled = ws.data_version()
    assert ruled != ingested
    whole = verdict_store.verdict_table(ws.db)
    pages = [verdict_store.verdict_table(ws.db, limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum((p["doc_id"].tolist() for p in pages), []) == whole["doc_id"].tolist()
    assert verdict_store.verdict_matches(ws.db) == len(whole) == 7
    assert verdict_store.verdict_matches(ws.db, kept=False) == 0
    assert ws.data_version() == ruled  # reading moves nothing
    verdict_store.record_decisions(ws.db, [whole["doc_id"].iat[0]], kept=False, decided_by="ana", note=None)
    assert ws.data_version() != ruled
    assert verdict_store.verdict_matches(ws.db, kept=False) == 1
    judged = ws.data_version()
    replace_annotator_judgments(ws.db, "set", "ana", [{"query_id": "q1", "doc_id": whole["doc_id"].iat[1], "grade": 2}])
    assert ws.data_version() != judged
