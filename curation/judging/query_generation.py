"""Queries written by an LLM for chosen documents, standalone and of mixed kinds.

Generation uses the `[llm]` provider settings and runner of the relevancy judge, writes each document's
queries as they arrive, and skips documents that already have queries in the set, so a re-run resumes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import BaseModel, Field

from curation.core import InputError, ProgressCallback
from curation.judging.queries import query_id_for
from curation.llm import page_prompt
from store import documents as document_store
from store import queries as query_store
from store import queue as queue_store

if TYPE_CHECKING:
    from pydantic_ai import Agent
    from pydantic_ai.models import Model

    from curation.core import Workspace
    from curation.llm import LLMSettings, PromptResult

QueryKind = Literal["factual", "procedural", "data"]
# Words that point outside the query: a standalone search query names what it is about.
# Words that point outside the query: a standalone search query names what it is about.
PRONOUNS = frozenset("it its itself they them their theirs he him his she her hers this these those".split())
VAGUE = re.compile(
    r"\b(?:the|this|that) (?:page|document|article|website|site|text|passage|author|paper|study|above|same)\b", re.I
)


class GeneratedQuery(BaseModel):
    text: str = Field(description="the search query, standalone, naming what it is about")
    kind: QueryKind = Field(description="factual, procedural (how to do something) or data (about data products)")


class GeneratedQueries(BaseModel):
    """What the LLM answers for one document."""

    queries: list[GeneratedQuery] = Field(min_length=1)


INSTRUCTIONS = """\
You write search queries for the NASA Science Discovery Engine (SDE), a search engine over NASA science
websites, data portals and software pages. You are shown one page; write queries that a scientist, data
user or student would type to find this page, each answerable from its main body (ignore navigation,
headers and footers).

Every query must be STANDALONE: someone who has never seen the page must understand it. Name the mission,
instrument, dataset, model, object or phenomenon explicitly. Never use pronouns (it, its, they, this,
these, those, he, she) or vague references such as "the page", "the document", "the dataset", "the study".

Mix the kinds of query:
- factual: a question about a fact stated on the page (what, when, how large, which instrument);
- procedural: how to do something (download, process, cite, install, calibrate, access);
- data: about data products (variables, resolution, coverage, formats, versions, where to get them).
Vary the wording: some full questions, some keyword-style searches. No numbering, no quotes.
"""


def standalone_problem(text: str) -> str | None:
    """Why a query is not standalone (a pronoun or a vague reference), or None when it is."""
    words = {w.lower() for w in re.findall(r"[A-Za-z']+", text)}
    pronouns = sorted(words & PRONOUNS)
    if pronouns:
        return f"pronoun {pronouns[0]!r}"
    vague = VAGUE.search(text)
    return f"vague reference {vague.group()!r}" if vague else None


def build_prompt(document: dict[str, Any], per_document: int, max_tokens: int) -> str:
    """How many queries to write, then the page as the relevancy judge sees it (url, title, trimmed text)."""
    return f"Write {per_document} queries for this page.\n" + page_prompt(document, max_tokens)


def query_agent(settings: LLMSettings) -> Agent[None, GeneratedQueries]:
    """The agent; retries are left to `run_prompts`, which backs off between attempts."""
    from pydantic_ai import Agent

    from curation.llm import output_spec

    return Agent(output_type=output_spec(GeneratedQueries, settings), instructions=INSTRUCTIONS, retries=0)


def pick_documents(
    ws: Workspace, n: int, *, seed: int | None = None, division: str | None = None, kept_only: bool = True
) -> list[str]:
    """`n` documents to write queries for: a seeded sample (the same seed gives the same documents) of the
    documents the relevancy filter keeps (or of all with `kept_only=False`), optionally of one division."""
    seed = ws.settings.judging.seed if seed is None else seed
    picked = document_store.sample_doc_ids(ws.db, n, seed, division=division, kept_only=kept_only)
    if not picked:
        where = f" in {division}" if division else ""
        raise InputError(
            f"no {'kept ' if kept_only else ''}documents{where}"
            + (
                "; run `sde-workbench filter --judge rules` first, or sample every document (--all-documents)"
                if kept_only
                else ""
            )
        )
    return picked


class GenerationResult(BaseModel):
    """What one generation run did."""

    query_set: str
    documents: int = Field(description="documents asked for")
    done_before: int = Field(0, description="documents skipped because the set already has their queries")
    generated: int = Field(0, description="queries stored")
    dropped: int = Field(0, description="queries left out for a pronoun or vague reference")
    errors: int = Field(0, description="documents the LLM failed on after retries (a re-run tries them again)")
    dequeued: int = Field(0, description="documents taken out of the judging queue because they now have queries")
    calls: int = 0
    tokens: int = 0
    stopped: Literal["cancelled", "budget"] | None = None


def generate_queries(
    ws: Workspace,
    settings: LLMSettings,
    query_set: str,
    doc_ids: list[str],
    *,
    per_document: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    model: Model | None = None,
    dequeue: bool = False,
) -> GenerationResult:
    """Ask the LLM for standalone queries about each document and add them to `query_set` (origin `generated`).

    Documents the set already has generated queries for are skipped. `model` replaces the one built from
    `settings` (tests pass pydantic-ai's FunctionModel). With `dequeue`, documents that now have queries
    leave the judging queue (their work moves on to judging); failed ones stay for the next run.
    Raises `LLMError` when the model cannot be used.
    """
    from curation.llm import build_model, run_prompts

    per_document = per_document or ws.settings.judging.queries_per_document
    done = query_store.generated_from(ws.db, query_set)
    pending = [d for d in dict.fromkeys(doc_ids) if d not in done]
    result = GenerationResult(query_set=query_set, documents=len(doc_ids), done_before=len(doc_ids) - len(pending))
    model = model or build_model(settings)
    divisions: dict[str, str | None] = {}
    finished = 0

    def prompts() -> Iterator[tuple[str, str]]:
        for document in document_store.get_documents(ws.db, pending):
            divisions[document["doc_id"]] = document.get("division")
            yield document["doc_id"], build_prompt(document, per_document, settings.max_input_tokens)

    def on_result(outcome: PromptResult[GeneratedQueries]) -> None:
        nonlocal finished
        finished += 1
        if outcome.output is not None:
            rows = _query_rows(outcome.key, outcome.output, divisions.get(outcome.key), settings.model_id, result)
            query_store.upsert_queries(ws.db, query_set, rows[:per_document], origin="generated")
            result.generated += len(rows[:per_document])
        if progress:
            progress(finished, len(pending))

    if progress:
        progress(0, len(pending))
    stats = run_prompts(query_agent(settings), prompts(), settings, on_result, model=model, cancel=cancel)
    result.errors, result.calls, result.tokens, result.stopped = stats.failed, stats.calls, stats.tokens, stats.stopped
    if dequeue:
        done = query_store.generated_from(ws.db, query_set)
        result.dequeued = queue_store.dequeue(ws.db, [d for d in doc_ids if d in done])
    return result


def _query_rows(
    doc_id: str, answer: GeneratedQueries, division: str | None, model_id: str, result: GenerationResult
) -> list[dict[str, Any]]:
    """The standalone queries of one answer as rows (duplicates and vague ones left out, counted as dropped)."""
    rows: dict[str, dict[str, Any]] = {}
    for query in answer.queries:
        text = " ".join(query.text.split()).strip("\"'")
        if not text or standalone_problem(text):
            result.dropped += 1
            continue
        metadata = {"source_doc": doc_id, "kind": query.kind, "model": model_id}
        if division:
            metadata["division"] = division
        query_id = query_id_for("gen", doc_id, text)
        rows[query_id] = {"query_id": query_id, "text": text, "metadata": orjson.dumps(metadata).decode()}
    return list(rows.values())
