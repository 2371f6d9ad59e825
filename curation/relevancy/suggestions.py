"""LLM-suggested exclude patterns for a collection, as NASA's newer curation engine does: the LLM sees a sample
of the collection's URLs with titles and proposes COSMOS wildcard patterns with a reason, keeping pages by
default ("an empty list is a correct answer"). Suggestions land inactive with provenance `llm-suggested`; a
curator previews, accepts or rejects them (Rules page, `rules preview --id`, `rules accept|reject`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError
from pydantic_ai import Agent
from pydantic_ai.models import Model

from curation.llm import LLMError, LLMSettings, PromptResult, output_spec, run_prompts
from curation.relevancy.patterns import Pattern, PatternError, effective_patterns, resolve_scope, save_patterns
from store import patterns as pattern_store

if TYPE_CHECKING:
    from curation.core import Workspace

INSTRUCTIONS = """\
You help curators of NASA's Science Discovery Engine (SDE) decide which pages of one source (a collection of
crawled pages) to leave out of the search index. You see a sample of the source's URLs with their titles.

Propose EXCLUDE patterns only for kinds of pages that carry no science content of their own: listings and
archives (tags, categories, dates, authors), search result lists, pagination, login/account pages, print or
share variants, feeds, sitemaps, media and binary files, error pages.

Rules:
- The default is to keep a page. An empty list is a correct answer when no such kind of page is in the sample.
- Never exclude dataset landing pages, mission, instrument, article, documentation or tool pages.
- A pattern is a URL without scheme with `*` as wildcard, e.g. `example.nasa.gov/tags/*`, and must match only
  the kind of page you mean. Give one short reason per pattern.
"""


class SuggestedPattern(BaseModel):
    pattern: str = Field(description="URL without scheme, `*` as wildcard, e.g. example.nasa.gov/tags/*")
    reason: str = Field(description="why these pages carry no science content")


class Suggestions(BaseModel):
    patterns: list[SuggestedPattern] = Field(
        default_factory=list, description="exclude patterns; an empty list is a correct answer"
    )


def suggestion_prompt(collection: str, pages: list[tuple[str, str]]) -> str:
    lines = "\n".join(f"- {url} | {title}" for url, title in pages)
    return (
        f"URL: collection:{collection}\nSource (collection): {collection}\nSample of its pages (URL | title):\n{lines}"
    )


def suggest_patterns(
    ws: Workspace, collection: str, settings: LLMSettings, *, sample: int = 60, model: Model | None = None
) -> list[Pattern]:
    """Ask the LLM for exclude patterns for one collection; new ones are stored inactive as `llm-suggested`."""
    scope = resolve_scope(ws, collection)
    assert scope is not None
    pages = pattern_store.sample_pages(ws.db, scope, sample)
    if not pages:
        raise PatternError(f"collection {collection!r} has no pages with URLs")
    agent = Agent(output_type=output_spec(Suggestions, settings), instructions=INSTRUCTIONS, retries=0)
    results: list[PromptResult[Suggestions]] = []
    run_prompts(agent, [(scope, suggestion_prompt(scope, pages))], settings, results.append, model=model)
    if not results or results[0].output is None:
        raise LLMError(f"no suggestion from {settings.model_id}: {results[0].error if results else 'no answer'}")
    known = {(p.scope, p.pattern) for p in effective_patterns(ws)}
    fresh: list[Pattern] = []
    for item in results[0].output.patterns:
        try:
            candidate = Pattern(
                kind="exclude",
                scope=scope,
                match="wildcard" if "*" in item.pattern else "exact",
                pattern=item.pattern,
                provenance="llm-suggested",
                active=False,
                reason=item.reason,
            )
        except ValidationError:
            continue
        if (scope, candidate.pattern) not in known:
            known.add((scope, candidate.pattern))
            fresh.append(candidate)
    return save_patterns(ws, fresh, f"llm:{settings.model_id}")
