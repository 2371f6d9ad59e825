"""Many prompts through one agent, robustly: a concurrency limit, exponential back-off on rate limits, server
errors, timeouts and invalid output, a per-run budget and cancellation. Each outcome is reported as it
arrives, so callers can save results in batches.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import (
    ContentFilterError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestTimeout,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
    UserError,
)
from pydantic_ai.models import Model
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from curation.llm.models import build_model
from curation.llm.settings import LLMError, LLMSettings

OutputT = TypeVar("OutputT")


class PromptResult(BaseModel, Generic[OutputT]):
    """One item's outcome: its output, or the reason it failed after all attempts."""

    key: str
    output: OutputT | None = None
    error: str | None = None
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0


class RunStats(BaseModel):
    """What a batch run did; `stopped` says why it ended early ('cancelled' or 'budget')."""

    succeeded: int = 0
    failed: int = 0
    calls: int = 0
    tokens: int = 0
    stopped: Literal["cancelled", "budget"] | None = None


_FATAL = (ModelAuthenticationError, ModelNotFoundError, ModelQuotaExceededError, UserError)
_TRANSIENT = (
    ModelRateLimitError,
    ModelUnavailableError,
    ModelServerError,
    ModelConnectionError,
    ModelRequestTimeout,
    TimeoutError,
)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, timeouts, dropped connections and invalid output."""
    if isinstance(exc, ContentFilterError):
        return False
    if isinstance(exc, ModelHTTPError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, (*_TRANSIENT, UnexpectedModelBehavior))


def _ends_run(exc: BaseException) -> bool:
    """Failures every other item would share: credentials, model name, quota, an unreachable server."""
    if isinstance(exc, ModelHTTPError) and exc.status_code in (401, 402, 403, 404):
        return True
    return isinstance(exc, _FATAL) or (isinstance(exc, ModelConnectionError) and exc.phase == "connect")


def describe_failure(exc: BaseException) -> str:
    """A one-line reason to store with the item (never includes request headers, so never a key)."""
    if isinstance(exc, ModelHTTPError):
        kind = "rate limited" if exc.status_code == 429 else "server error" if exc.status_code >= 500 else "rejected"
        return f"{kind} (HTTP {exc.status_code})"
    if isinstance(exc, (ModelRequestTimeout, ModelTimeoutError, TimeoutError)):
        return "timed out"
    if isinstance(exc, ModelConnectionError) and exc.phase == "connect":
        return "cannot connect"
    if isinstance(exc, UnexpectedModelBehavior) and not isinstance(exc, ModelAPIError):
        return f"invalid output: {' '.join(str(exc).split())[:300]}"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def run_prompts(
    agent: Agent[None, OutputT],
    prompts: Iterable[tuple[str, str]],
    settings: LLMSettings,
    on_result: Callable[[PromptResult[OutputT]], None],
    *,
    model: Model | None = None,
    cancel: threading.Event | None = None,
) -> RunStats:
    """Run `agent` on every (key, prompt), `settings.concurrency` at a time; blocking.

    Each item is retried (exponential back-off with jitter, honouring Retry-After) up to
    `settings.retries` times on transient failures, then reported with its reason; `on_result` is
    called once per finished item, in the calling thread's event loop. Setting `cancel` stops the
    run at once: unfinished items are not reported, so the next run picks them up. Credentials,
    model or quota errors, and a server that cannot be reached, stop the run with LLMError, since
    every other item would fail the same way.
    """
    return asyncio.run(_run(agent, iter(prompts), settings, on_result, model or build_model(settings), cancel))


async def _run(
    agent: Agent[None, OutputT],
    prompts: Any,
    settings: LLMSettings,
    on_result: Callable[[PromptResult[OutputT]], None],
    model: Model,
    cancel: threading.Event | None,
) -> RunStats:
    stats = RunStats()
    taken = 0
    fatal: list[BaseException] = []

    def next_item() -> tuple[str, str] | None:
        nonlocal taken
        if cancel is not None and cancel.is_set():
            stats.stopped = "cancelled"
            return None
        over_tokens = settings.max_tokens_per_run is not None and stats.tokens >= settings.max_tokens_per_run
        if fatal or (settings.max_items_per_run is not None and taken >= settings.max_items_per_run) or over_tokens:
            if not fatal:
                stats.stopped = stats.stopped or "budget"
            return None
        item = next(prompts, None)
        taken += item is not None
        return item

    async def worker() -> None:
        while (item := next_item()) is not None:
            try:
                result = await _attempt(agent, model, settings, item)
            except LLMError as exc:
                fatal.append(exc)
                return
            stats.calls += result.attempts
            stats.tokens += result.input_tokens + result.output_tokens
            stats.succeeded += result.error is None
            stats.failed += result.error is not None
            on_result(result)

    async with model:
        workers = [asyncio.create_task(worker()) for _ in range(settings.concurrency)]
        while not all(w.done() for w in workers):
            await asyncio.wait(workers, timeout=0.1, return_when=asyncio.FIRST_EXCEPTION)
            crashed = any(w.done() and not w.cancelled() and w.exception() is not None for w in workers)
            if crashed or (cancel is not None and cancel.is_set()):
                stats.stopped = None if crashed else "cancelled"
                for w in workers:
                    w.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
        for w in workers:
            if not w.cancelled() and w.exception() is not None:
                raise w.exception()  # type: ignore[misc]
    if fatal:
        raise fatal[0]
    return stats


async def _attempt(
    agent: Agent[None, OutputT], model: Model, settings: LLMSettings, item: tuple[str, str]
) -> PromptResult[OutputT]:
    key, prompt = item
    result: PromptResult[OutputT] = PromptResult(key=key)
    started = time.perf_counter()
    retrying = AsyncRetrying(
        stop=stop_after_attempt(settings.retries + 1),
        wait=_wait(settings),
        retry=retry_if_exception(is_transient),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                result.attempts = attempt.retry_state.attempt_number
                run = await agent.run(prompt, model=model, model_settings=settings.model_settings())
                usage = run.usage
                result.output = run.output
                result.input_tokens, result.output_tokens = usage.input_tokens, usage.output_tokens
    except Exception as exc:  # a failure is this item's, recorded with its reason, unless all items would share it
        if _ends_run(exc):
            where = f" at {settings.base_url}" if settings.base_url else ""
            raise LLMError(
                f"{settings.model_id}{where}: {describe_failure(exc)}; check the server, model name, key and quota"
            ) from exc
        result.error = describe_failure(exc) + (f" after {result.attempts} attempts" if result.attempts > 1 else "")
    result.latency_ms = (time.perf_counter() - started) * 1000
    return result


def _wait(settings: LLMSettings) -> Callable[[Any], float]:
    """Exponential back-off with jitter, but never shorter than the server's Retry-After."""
    backoff = wait_exponential_jitter(
        initial=settings.backoff_seconds, max=settings.backoff_max_seconds, jitter=settings.backoff_seconds
    )

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None) or 0.0
        return min(max(backoff(state), asked), max(settings.backoff_max_seconds, 0.0))

    return wait
