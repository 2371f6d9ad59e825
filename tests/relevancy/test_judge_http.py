"""The judge over real HTTP: an OpenAI-compatible server on 127.0.0.1 that answers, rate-limits, fails,
stalls and garbles; every page ends judged or with its error, retries are bounded, re-runs are free,
and the API key never lands in the workspace."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from tests.openai_stub import StubLLM

SITE = "https://science.nasa.gov"
BODY = " ".join(f"fact{i}" for i in range(200))
KEY_ENV = "SDE_TEST_LLM_KEY"
SECRET = "sk-stub-7f3a9c0e5b2d4e6f8a1b"
RETRIES = 2
PAGES = ["ok-1", "ok-2", "junk-3", "flaky429", "flaky500", "always500", "slow", "malformed", "always-malformed"]


def plan(key: str, attempt: int) -> str:
    """What the stub answers for the n-th request about a page."""
    name = key.rsplit("/", 1)[-1]
    if name == "flaky429":
        return "429" if attempt <= 2 else "ok"
    if name in ("flaky500", "slow", "malformed"):
        return {"flaky500": "500", "slow": "slow", "malformed": "malformed"}[name] if attempt == 1 else "ok"
    return {"always500": "500", "always-malformed": "malformed"}.get(name, "ok")


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    server = StubLLM(plan, slow_seconds=3.0)
    yield server
    server.close()


@pytest.fixture
def judged_ws(ws: Workspace, add_documents: Callable[..., None], monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv(KEY_ENV, SECRET)
    add_documents([{"url": f"{SITE}/p/{name}", "title": name, "text": f"{name} {BODY}"} for name in PAGES])
    for key, value in {
        "api_key_env": KEY_ENV,
        "retries": RETRIES,
        "backoff_seconds": 0.01,
        "timeout": 1.0,
        "concurrency": 4,
    }.items():
        ws.update_settings("llm", key, value)
    return ws


def _cli(ws: Workspace, *args: str) -> tuple[dict[str, object], str]:
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1]), result.output


def test_every_page_ends_judged_or_with_its_error_and_a_rerun_only_retries_failures(
    judged_ws: Workspace, stub: StubLLM
) -> None:
    args = ("filter", "--judge", "llm", "--model", "openai-compatible:stub", "--base-url", stub.url, "--json")

    first, output = _cli(judged_ws, *args)

    assert first["judged"] == 7 and first["errors"] == 2 and first["cached"] == 0
    assert (first["kept"], first["dropped"]) == (6, 1)
    assert first["calls"] == stub.calls and first["tokens"] > 0
    assert max(stub.attempts.values()) == RETRIES + 1  # bounded
    assert stub.attempts[f"{SITE}/p/always500"] == RETRIES + 1
    assert stub.attempts[f"{SITE}/p/flaky429"] == 3 and stub.attempts[f"{SITE}/p/slow"] == 2
    with judged_ws.db.read() as con:
        outcomes = dict(
            con.execute(
                "SELECT doc_id, CASE WHEN ok THEN quality ELSE error END FROM verdicts WHERE judge = 'llm'"
            ).fetchall()
        )
    assert len(outcomes) == len(PAGES)
    assert outcomes[f"{SITE}/p/always500"] == f"server error (HTTP 500) after {RETRIES + 1} attempts"
    assert outcomes[f"{SITE}/p/always-malformed"].startswith("invalid output")
    assert outcomes[f"{SITE}/p/junk-3"] == "POOR" and outcomes[f"{SITE}/p/slow"] == "GOOD"

    before = dict(stub.attempts)
    second, _ = _cli(judged_ws, *args)

    assert (second["judged"], second["errors"], second["cached"]) == (0, 2, 7)
    retried = {key for key in stub.attempts if stub.attempts[key] != before.get(key)}
    assert retried == {f"{SITE}/p/always500", f"{SITE}/p/always-malformed"}
    assert second["calls"] == 2 * (RETRIES + 1)


def test_the_api_key_is_sent_but_never_written_anywhere(judged_ws: Workspace, stub: StubLLM) -> None:
    _, filter_output = _cli(
        judged_ws, "filter", "--judge", "llm", "--model", "openai-compatible:stub", "--base-url", stub.url, "--json"
    )
    _, verdicts_output = _cli(judged_ws, "verdicts", "--json")
    _, status_output = _cli(judged_ws, "status", "--json")

    assert {h.get("authorization") for h in stub.headers} == {f"Bearer {SECRET}"}
    for text in (filter_output, verdicts_output, status_output):
        assert SECRET not in text
    files = [p for p in judged_ws.root.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".duckdb") for p in files)
    leaked = [str(p) for p in files if SECRET.encode() in p.read_bytes()]
    assert leaked == []
    assert SECRET not in Path(judged_ws.toml_path).read_text()


def test_json_schema_output_mode_and_the_ollama_provider_work_over_http(judged_ws: Workspace) -> None:
    judged_ws.update_settings("llm", "output_mode", "native")
    server = StubLLM()
    try:
        result, _ = _cli(
            judged_ws,
            "filter",
            "--judge",
            "llm",
            "--model",
            "ollama:qwen3:4b",
            "--base-url",
            server.url,
            "--limit",
            "3",
            "--json",
        )
    finally:
        server.close()
    assert (result["judged"], result["errors"], server.calls) == (3, 0, 3)
    with judged_ws.db.read() as con:
        assert con.execute("SELECT DISTINCT model FROM verdicts").fetchall() == [("ollama:qwen3:4b",)]


def test_an_unreachable_server_or_missing_key_is_one_clear_error(
    judged_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv(KEY_ENV)
    missing = runner.invoke(app, ["-w", str(judged_ws.root), "filter", "--judge", "llm", "--model", "openai:gpt-x"])
    assert missing.exit_code == 2 and KEY_ENV in missing.output and "Traceback" not in missing.output
    monkeypatch.setenv(KEY_ENV, SECRET)

    judged_ws.update_settings("llm", "retries", 0)
    down = runner.invoke(
        app,
        [
            "-w",
            str(judged_ws.root),
            "filter",
            "--judge",
            "llm",
            "--model",
            "openai-compatible:x",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--json",
        ],
    )
    assert down.exit_code == 2 and "cannot connect" in down.stdout
    with judged_ws.db.read() as con:
        assert con.execute("SELECT count(*) FROM verdicts").fetchone() == (0,)
