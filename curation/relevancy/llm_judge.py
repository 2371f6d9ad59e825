"""The LLM relevancy judge: SDE's rubric as a pydantic-ai agent with structured output.

Verdicts are cached by (document, content hash, model, prompt version): a re-run sends nothing for
documents already judged and retries only the ones that failed. Results are written in short
batches on a writer thread while the calls go on, so no call waits on DuckDB, no connection is
held for longer than one batch, and a crash or a cancel loses at most the batch in flight.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_ai import Agent
from pydantic_ai.models import Model

from curation.core import DIVISIONS, DOCUMENT_TYPES, ProgressCallback, normalize_division, normalize_document_type
from curation.llm import LLMSettings, PromptResult, build_model, output_spec, page_prompt, run_prompts
from store import documents as document_store
from store import verdicts as verdict_store

if TYPE_CHECKING:
    from curation.core import Workspace

FETCH_CHUNK = 200
FLUSH_ROWS = 50
FLUSH_SECONDS = 2.0


class Quality(StrEnum):
    VERY_GOOD = "VERY_GOOD"
    GOOD = "GOOD"
    POOR = "POOR"


class JudgeVerdict(BaseModel):
    """What the judge answers for one page."""

    quality: Quality = Field(description="VERY_GOOD, GOOD or POOR by the rubric")
    reasons: list[str] = Field(min_length=1, description="two to five short reasons, about the main body")
    division: Literal[DIVISIONS] | None = Field(None, description="the SDE division the page belongs to")  # type: ignore[valid-type]
    document_type: Literal[DOCUMENT_TYPES] | None = Field(None, description="the SDE document type of the page")  # type: ignore[valid-type]
    confidence: float = Field(ge=0, le=1, description="how sure you are of this assessment, 0 to 1")

    @field_validator("division", mode="before")
    @classmethod
    def _division(cls, value: Any) -> Any:
        return normalize_division(value) if isinstance(value, str) else value

    @field_validator("document_type", mode="before")
    @classmethod
    def _document_type(cls, value: Any) -> Any:
        return normalize_document_type(value) if isinstance(value, str) else value


INSTRUCTIONS = f"""\
You review pages crawled from NASA science websites for the Science Discovery Engine (SDE) search index
and for retriever training data. Judge the MAIN BODY of the page only: ignore leftover navigation menus,
headers, footers, cookie notices, share buttons and other boilerplate.

Rate the main body on:
- information density: enough facts for at least ten distinct questions a scientist could answer from it;
- clarity and coherence: readable prose or structured content, not fragments or lists of links;
- focus: about one scientific topic, mission, instrument, dataset or tool;
- variety: more than a repeated template or a list of near-identical items.

quality:
- VERY_GOOD: dense, clear and focused; a page a scientist would want to find.
- GOOD: useful scientific content with some gaps, but worth indexing.
- POOR: navigation or index pages, galleries, contact/login/search pages, archives, near-empty pages,
  error pages, or text too thin or incoherent to answer questions from.

Also suggest the SDE division ({", ".join(DIVISIONS)}) and document type ({", ".join(DOCUMENT_TYPES)})
when the page makes them clear, otherwise leave them empty, and give your confidence from 0 to 1.
"""


def prompt_version(settings: LLMSettings) -> str:
    """Changes whenever what the judge is asked changes (instructions, answer schema, trimming budget)."""
    basis = json.dumps([INSTRUCTIONS, JudgeVerdict.model_json_schema(), settings.max_input_tokens], sort_keys=True)
    return "judge-" + hashlib.blake2b(basis.encode(), digest_size=6).hexdigest()


def judge_agent(settings: LLMSettings) -> Agent[None, JudgeVerdict]:
    """The agent; output retries are left to `run_prompts`, which backs off between attempts."""
    return Agent(output_type=output_spec(JudgeVerdict, settings), instructions=INSTRUCTIONS, retries=0)


class FilterResult(BaseModel):
    """What one filter run did: documents judged now, kept and dropped of those, cached, failed, calls, tokens."""

    judged: int = 0
    kept: int = 0
    dropped: int = 0
    cached: int = 0
    errors: int = 0
    calls: int = 0
    tokens: int = 0
    stopped: Literal["cancelled", "budget"] | None = None


def judge_documents(
    ws: Workspace,
    settings: LLMSettings,
    *,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    model: Model | None = None,
) -> FilterResult:
    """Judge the documents the rules keep (and no curator decided) that have no verdict from this model yet.

    `model` replaces the one built from `settings` (tests pass pydantic-ai's TestModel or FunctionModel).
    Raises `curation.llm.LLMError` when the model cannot be used at all (missing key, bad credentials).
    """
    version = prompt_version(settings)
    pending, cached = verdict_store.llm_candidates(ws.db, settings.model_id, version)
    pending = pending[:limit] if limit is not None else pending
    model = model or build_model(settings)
    result = FilterResult(cached=cached)
    hashes: dict[str, str] = {}
    writer = _BatchWriter(ws, settings.model_id, version, hashes)

    def prompts() -> Iterator[tuple[str, str]]:
        for start in range(0, len(pending), FETCH_CHUNK):
            ids = [doc_id for doc_id, _ in pending[start : start + FETCH_CHUNK]]
            for document in document_store.get_documents(ws.db, ids):
                hashes[document["doc_id"]] = document["content_hash"]
                yield document["doc_id"], page_prompt(document, settings.max_input_tokens)

    def on_result(outcome: PromptResult[JudgeVerdict]) -> None:
        writer.add(outcome)
        if outcome.output is not None:
            result.kept += outcome.output.quality is not Quality.POOR
            result.dropped += outcome.output.quality is Quality.POOR
        if progress:
            progress(writer.seen, len(pending))

    if progress:
        progress(0, len(pending))
    try:
        stats = run_prompts(judge_agent(settings), prompts(), settings, on_result, model=model, cancel=cancel)
    finally:
        writer.close()
    result.judged, result.errors, result.calls, result.tokens = stats.succeeded, stats.failed, stats.calls, stats.tokens
    result.stopped = stats.stopped
    return result


class _BatchWriter:
    """Saves outcomes every FLUSH_ROWS rows or FLUSH_SECONDS, each batch one short write.

    Writes run on one background thread, in order, so the calls in flight never wait for DuckDB.
    """

    def __init__(self, ws: Workspace, model_id: str, version: str, hashes: dict[str, str]) -> None:
        self.ws, self.model_id, self.version, self.hashes = ws, model_id, version, hashes
        self.rows: list[dict[str, Any]] = []
        self.seen = 0
        self.last_flush = time.monotonic()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verdict-writer")
        self._writes: list[Future[int]] = []

    def add(self, outcome: PromptResult[JudgeVerdict]) -> None:
        verdict = outcome.output
        self.rows.append(
            {
                "doc_id": outcome.key,
                "judge": "llm",
                "model": self.model_id,
                "prompt_version": self.version,
                "content_hash": self.hashes[outcome.key],
                "ok": verdict is not None,
                "kept": None if verdict is None else verdict.quality is not Quality.POOR,
                "quality": None if verdict is None else verdict.quality.value,
                "reasons": None if verdict is None else verdict.reasons,
                "division": None if verdict is None else verdict.division,
                "document_type": None if verdict is None else verdict.document_type,
                "confidence": None if verdict is None else verdict.confidence,
                "error": outcome.error,
                "attempts": outcome.attempts,
                "input_tokens": outcome.input_tokens,
                "output_tokens": outcome.output_tokens,
                "latency_ms": outcome.latency_ms,
                "judged_at": datetime.now(UTC).replace(tzinfo=None),
            }
        )
        self.seen += 1
        if len(self.rows) >= FLUSH_ROWS or time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self._writes.append(self._writer.submit(verdict_store.save_verdicts, self.ws.db, self.rows))
        self.rows = []
        self.last_flush = time.monotonic()

    def close(self) -> None:
        """Save what is left and wait for every write; a failed write is raised here."""
        self.flush()
        self._writer.shutdown(wait=True)
        for write in self._writes:
            write.result()
