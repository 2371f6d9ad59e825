"""The LLM judge through pydantic-ai's TestModel and FunctionModel: prompts, caching, retries, budget, cancel."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel

from curation.core import Workspace
from curation.llm import TRIM_MARK, LLMError, LLMSettings, PromptResult, run_prompts, trim_text
from curation.relevancy import JudgeVerdict, judge_documents, run_rules
from curation.relevancy.llm_judge import judge_agent
from store import verdicts as verdict_store

SITE = "https://science.nasa.gov"
BODY = " ".join(f"fact{i}" for i in range(200))
SETTINGS = LLMSettings(provider="openai-compatible", model="stub", base_url="http://127.0.0.1:9/v1", backoff_seconds=0)
VERDICT = {
    "quality": "GOOD",
    "reasons": ["dense"],
    "division": "Earth Science",
    "document_type": "Data",
    "confidence": 0.8,
}


def _prompt(messages: list[ModelMessage]) -> str:
    parts = [p for m in messages for p in getattr(m, "parts", []) if isinstance(p, UserPromptPart)]
    return str(parts[-1].content)


class Scripted:
    """A FunctionModel whose answer depends on the prompt and on how often that page was asked about."""

    def __init__(self, answer: Callable[[str, int], dict[str, Any] | str]) -> None:
        self.answer = answer
        self.calls: Counter[str] = Counter()
        self.prompts: list[str] = []
        self.instructions: list[str | None] = []
        self.model = FunctionModel(self._respond)

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = _prompt(messages)
        url = prompt.splitlines()[0].removeprefix("URL: ")
        self.calls[url] += 1
        self.prompts.append(prompt)
        self.instructions.append(info.instructions)
        args = self.answer(prompt, self.calls[url])
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])


def poor_if_junk(prompt: str, attempt: int) -> dict[str, Any]:
    return {**VERDICT, "quality": "POOR" if "junk" in prompt.split("Page text:")[1] else "GOOD"}


@pytest.fixture
def pages(ws: Workspace, add_documents: Callable[..., None]) -> Workspace:
    add_documents(
        [
            {"url": f"{SITE}/mission/{i}", "title": f"Mission {i}", "text": BODY, "division": "Heliophysics"}
            for i in range(4)
        ]
        + [{"url": f"{SITE}/index/junk", "title": "Index", "text": "junk links " + BODY}]
        + [{"url": f"{SITE}/gallery/moon", "title": "Gallery", "text": BODY}],
        collection="demo",
    )
    run_rules(ws)
    return ws


def test_test_model_verdicts_are_stored_with_model_usage_and_suggestions(pages: Workspace) -> None:
    result = judge_documents(pages, SETTINGS, model=TestModel(custom_output_args=VERDICT))

    assert (result.judged, result.kept, result.dropped, result.errors) == (5, 5, 0, 0)  # the gallery: rules
    assert result.calls == 5 and result.tokens > 0
    table = verdict_store.verdict_table(pages.db, judge="llm")
    assert len(table) == 5
    row = table.iloc[0]
    assert (row.quality, list(row.reasons), row.decided_by) == ("GOOD", ["dense"], "openai-compatible:stub")
    assert (row.suggested_division, row.suggested_document_type, row.confidence) == ("Earth Science", "Data", 0.8)
    with pages.db.read() as con:
        tokens, latency = con.execute(
            "SELECT min(input_tokens), min(latency_ms) FROM verdicts WHERE judge = 'llm'"
        ).fetchone()
    assert tokens > 0 and latency > 0


def test_function_model_sees_rubric_and_trimmed_text_and_drops_poor_pages(pages: Workspace) -> None:
    scripted = Scripted(poor_if_junk)
    settings = SETTINGS.model_copy(update={"max_input_tokens": 100})

    result = judge_documents(pages, settings, model=scripted.model)

    assert (result.judged, result.kept, result.dropped) == (5, 4, 1)
    assert all("MAIN BODY" in (i or "") and "boilerplate" in (i or "") for i in scripted.instructions)
    assert all(TRIM_MARK in p and len(p.split("Page text:\n")[1]) <= 100 * 4 + len(TRIM_MARK) for p in scripted.prompts)
    assert not any("gallery" in p for p in scripted.prompts)  # dropped by the rules, never sent
    assert verdict_store.verdict_table(pages.db, kept=False, judge="llm")["doc_id"].tolist() == [f"{SITE}/index/junk"]


def test_a_rerun_makes_no_call_for_judged_pages_and_a_changed_page_is_judged_again(
    pages: Workspace, add_documents: Callable[..., None]
) -> None:
    scripted = Scripted(poor_if_junk)
    judge_documents(pages, SETTINGS, model=scripted.model)
    first = sum(scripted.calls.values())

    again = judge_documents(pages, SETTINGS, model=scripted.model)
    assert (again.calls, again.judged, again.cached) == (0, 0, 5)
    assert sum(scripted.calls.values()) == first

    add_documents([{"url": f"{SITE}/mission/0", "title": "Mission 0", "text": BODY + " new"}])
    run_rules(pages)
    changed = judge_documents(pages, SETTINGS, model=scripted.model)
    assert (changed.judged, changed.cached) == (1, 4)

    other_prompt = judge_documents(pages, SETTINGS.model_copy(update={"max_input_tokens": 500}), model=scripted.model)
    assert other_prompt.judged == 5  # a new prompt version is a new cache key


def test_invalid_output_is_retried_then_recorded_per_document(pages: Workspace) -> None:
    def answer(prompt: str, attempt: int) -> dict[str, Any]:
        if "mission/1" in prompt or ("mission/2" in prompt and attempt == 1):
            return {"quality": "EXCELLENT", "reasons": []}
        return VERDICT

    scripted = Scripted(answer)
    result = judge_documents(pages, SETTINGS.model_copy(update={"retries": 2}), model=scripted.model)

    assert (result.judged, result.errors) == (4, 1)
    assert scripted.calls[f"{SITE}/mission/1"] == 3 and scripted.calls[f"{SITE}/mission/2"] == 2
    errors = verdict_store.llm_errors(pages.db)
    assert errors["doc_id"].tolist() == [f"{SITE}/mission/1"]
    assert errors["error"][0].startswith("invalid output") and errors["attempts"][0] == 3

    retry = judge_documents(pages, SETTINGS, model=TestModel(custom_output_args=VERDICT))
    assert (retry.judged, retry.cached, retry.errors) == (1, 4, 0)
    assert verdict_store.llm_errors(pages.db).empty


def test_budget_stops_a_run_and_the_next_run_continues(pages: Workspace) -> None:
    first = judge_documents(
        pages,
        SETTINGS.model_copy(update={"max_items_per_run": 2, "concurrency": 1}),
        model=TestModel(custom_output_args=VERDICT),
    )
    assert (first.judged, first.stopped) == (2, "budget")
    rest = judge_documents(pages, SETTINGS, model=TestModel(custom_output_args=VERDICT))
    assert (rest.judged, rest.cached, rest.stopped) == (3, 2, None)


def test_token_budget_stops_starting_new_documents(pages: Workspace) -> None:
    result = judge_documents(
        pages,
        SETTINGS.model_copy(update={"max_tokens_per_run": 1, "concurrency": 1}),
        model=TestModel(custom_output_args=VERDICT),
    )
    assert (result.judged, result.stopped) == (1, "budget")


def test_cancel_stops_at_once_and_leaves_the_rest_for_the_next_run(pages: Workspace) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 1:
            cancel.set()

    result = judge_documents(
        pages,
        SETTINGS.model_copy(update={"concurrency": 1}),
        model=TestModel(custom_output_args=VERDICT),
        progress=progress,
        cancel=cancel,
    )
    assert result.stopped == "cancelled" and 1 <= result.judged < 5
    assert verdict_store.llm_errors(pages.db).empty  # cancelled pages are not failures
    rest = judge_documents(pages, SETTINGS, model=TestModel(custom_output_args=VERDICT))
    assert rest.judged == 5 - result.judged


def test_rejected_credentials_stop_the_run_without_blaming_documents(pages: Workspace) -> None:
    def refuse(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ModelHTTPError(401, "stub", body={"error": "bad key"})

    with pytest.raises(LLMError, match="401"):
        judge_documents(pages, SETTINGS, model=FunctionModel(refuse))
    assert verdict_store.llm_errors(pages.db).empty


def test_curator_decided_and_rule_dropped_pages_are_not_sent(pages: Workspace) -> None:
    verdict_store.record_decisions(pages.db, [f"{SITE}/mission/3"], kept=True, decided_by="ana", note=None)
    scripted = Scripted(poor_if_junk)
    judge_documents(pages, SETTINGS, model=scripted.model)
    assert set(scripted.calls) == {f"{SITE}/mission/{i}" for i in range(3)} | {f"{SITE}/index/junk"}


def test_verdict_schema_canonicalizes_taxonomy_spellings() -> None:
    verdict = JudgeVerdict.model_validate({**VERDICT, "division": "earth_science", "document_type": "dataset"})
    assert (verdict.division, verdict.document_type) == ("Earth Science", "Data")
    with pytest.raises(ValueError):
        JudgeVerdict.model_validate({**VERDICT, "division": "Oceanography"})


def test_trim_cuts_at_a_word_and_says_so() -> None:
    assert trim_text("short text", 100) == "short text"
    trimmed = trim_text("alpha " * 100, 10)
    assert trimmed.endswith(TRIM_MARK) and len(trimmed) <= 40 + len(TRIM_MARK)
    assert trimmed.removesuffix(TRIM_MARK).split() == ["alpha"] * 6


def test_a_crash_while_saving_stops_every_worker() -> None:
    agent = judge_agent(SETTINGS)
    model = TestModel(custom_output_args=VERDICT)
    seen: list[str] = []

    def save(result: PromptResult[JudgeVerdict]) -> None:
        seen.append(result.key)
        if len(seen) == 3:
            raise OSError("disk full")

    prompts = ((f"k{i}", f"URL: k{i}\nPage text:\n{BODY}") for i in range(200))
    with pytest.raises(OSError, match="disk full"):
        run_prompts(agent, prompts, SETTINGS.model_copy(update={"concurrency": 4}), save, model=model)
    assert len(seen) < 10
