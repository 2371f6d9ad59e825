"""Background jobs: each a process of its own running the CLI command, recorded in the workspace."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from curation.jobs import (
    JobBusy,
    JobError,
    cancel_job,
    dedup_job,
    embed_job,
    eval_job,
    finetune_job,
    get_job,
    ingest_job,
    list_jobs,
    llm_filter_job,
    map_job,
    query_generation_job,
    rerun_job,
    run_job,
    start_job,
    suggest_job,
    wait_for_job,
)
from curation.retrieval import coverage
from tests.retrieval_data import add_retriever, corpus_rows, load_rows


def cli(ws: Workspace, *args: str) -> dict:
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), *args, "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout.strip().splitlines()[-1])


def wait_until(condition, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


SLOW_DOCS = 120  # with 30, a quiet CI machine embedded them all before the cancel landed


@pytest.fixture
def slow_embed_ws(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> Iterator[Workspace]:
    """SLOW_DOCS documents written one per batch: an embed job that reports often and runs long enough to be
    cancelled mid-way on a fast, quiet machine; its jobs are killed afterwards."""
    load_rows(ws, corpus_rows(copies=SLOW_DOCS // 10), tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    ws.update_settings("embedding", "docs_per_write", 1)
    ws.update_settings("jobs", "progress_interval", 0.05)
    yield ws
    for job in list_jobs(ws, active_only=True):
        cancel_job(ws, job.job_id, force=True)


def current(ws: Workspace, name: str) -> int:
    return next(row.current for row in coverage(ws) if row.name == name)


def test_a_background_embed_runs_the_cli_command_and_records_its_result(
    ws: Workspace, tiny_model_dir: Path, tmp_path: Path
) -> None:
    load_rows(ws, corpus_rows(), tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    started = cli(ws, "embed", "--retriever", "tiny", "--background")
    job_id = started["job"]
    with pytest.raises(JobBusy):  # one embed per retriever at a time
        start_job(ws, embed_job("tiny"), "ana")
    job = wait_for_job(ws, job_id)
    shown = cli(ws, "jobs", "show", str(job_id))
    assert shown["status"] == "done" and job.status == "done"
    assert shown["pid"] and shown["command"] == "sde-workbench embed --retriever tiny"
    assert shown["result"]["embedded"] == 10 and shown["result"]["retriever"] == "tiny"
    assert shown["progress"]["done"] == shown["progress"]["total"] == 10
    assert current(ws, "tiny") == 10
    assert [j["job"] for j in cli(ws, "jobs", "list")["jobs"]] == [job_id]


def test_cancel_stops_at_a_batch_boundary_and_a_rerun_resumes(slow_embed_ws: Workspace) -> None:
    ws = slow_embed_ws
    job = start_job(ws, embed_job("tiny"), "ana")
    wait_until(lambda: get_job(ws, job.job_id).progress.done >= 3)
    running = get_job(ws, job.job_id)
    assert running.status == "running" and running.progress.total == SLOW_DOCS and running.progress.rate
    assert cli(ws, "jobs", "cancel", str(job.job_id))["cancel_requested"] is True
    stopped = wait_for_job(ws, job.job_id)
    assert stopped.status == "cancelled" and stopped.error is None
    kept = current(ws, "tiny")
    assert 3 <= kept < SLOW_DOCS and stopped.progress.done == kept  # whole batches kept, nothing half-written
    with pytest.raises(JobError):
        cancel_job(ws, job.job_id)

    again = wait_for_job(ws, rerun_job(ws, job.job_id, "bo").job_id)
    assert again.status == "done" and again.started_by == "bo"
    assert again.result and again.result["embedded"] == SLOW_DOCS - kept and current(ws, "tiny") == SLOW_DOCS


def test_a_job_whose_process_died_is_interrupted_when_anyone_looks(slow_embed_ws: Workspace) -> None:
    ws = slow_embed_ws
    job = start_job(ws, embed_job("tiny"), "ana")
    wait_until(lambda: get_job(ws, job.job_id).progress.done >= 1)
    os.kill(get_job(ws, job.job_id).pid or 0, signal.SIGKILL)
    wait_until(lambda: get_job(ws, job.job_id).status != "running", timeout=10)
    dead = get_job(ws, job.job_id)
    assert dead.status == "interrupted" and "ended without reporting" in (dead.error or "")
    assert [j.job_id for j in list_jobs(ws, active_only=True)] == []
    start_job(ws, embed_job("tiny"), "ana")  # the retriever is free again


def test_a_failing_command_is_a_failed_job_with_its_reason(ws: Workspace) -> None:
    job = wait_for_job(ws, start_job(ws, map_job("bm25"), "ana").job_id)
    assert job.status == "failed" and job.result is None
    assert "full-text" in (job.error or "") or "bm25" in (job.error or "")


SPECS = [
    embed_job("minilm", "cpu", 32),
    map_job("minilm", refit=True),
    llm_filter_job("openai:gpt-4.1-mini", "http://127.0.0.1:9/v1", 4, 10),
    query_generation_job("sme", docs=5, model="ollama:qwen3:4b", per_doc=2, division="Heliophysics", seed=3),
    query_generation_job("sme", from_queue=True, all_documents=True, concurrency=2),
    run_job("minilm", "demo", k=50, name="m:demo", mode="hybrid"),
    eval_job(["minilm", "bm25"], "demo", judgments="all", metrics=["ndcg@10"], threshold=2, test="fisher", max_p=0.01),
    finetune_job("minilm", "/tmp/pairs", "minilm-ft", epochs=2, batch_size=8, learning_rate=1e-5, overwrite=True),
    ingest_job(
        ["/tmp/a.csv"], format="csv", collection="NASA POWER", division="Earth Science", column_map={"text": "b"}
    ),
    dedup_job(0.7),
    dedup_job(semantic="minilm"),
    suggest_job("EJ Datasets", "openai:gpt-4.1-mini", "http://127.0.0.1:9/v1"),
]


def parsed(argv: list[str]):  # noqa: ANN201 - a click Context (typer vendors its own click)
    """The context of the (sub)command `argv` names, its options parsed as `sde-workbench` would."""
    command = get_command(app)
    context = command.make_context("sde-workbench", list(argv))
    while hasattr(command, "resolve_command"):
        rest = [*getattr(context, "_protected_args", []), *context.args]
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name or "", rest, parent=context)
    return context


@pytest.mark.parametrize("spec", SPECS, ids=[f"{s.kind}-{i}" for i, s in enumerate(SPECS)])
def test_every_job_spec_is_a_command_line_the_cli_accepts(spec) -> None:  # noqa: ANN001
    context = parsed([*spec.argv, "--json"])
    assert context.params["as_json"] is True and context.params["background"] is False
    for key, value in spec.params.items():
        given = context.params[{"map": "map_", "set": "query_set"}.get(key, key)]
        assert given == value or str(given) == str(value) or list(map(str, given)) == list(map(str, value)), key
