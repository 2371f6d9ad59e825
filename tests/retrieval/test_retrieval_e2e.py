"""The CLI end to end: the packaged MiniLM on a SciFact slice, and an embed job killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from curation.retrieval import embed
from store import vectors
from tests.retrieval_data import add_retriever, corpus_rows, load_rows

runner = CliRunner()


def cli(ws: Workspace, *args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["--workspace", str(ws.root), *args, "--json"])
    return result.exit_code, orjson.loads(result.stdout.strip().splitlines()[-1])


def scifact_slice(scifact: Path, folder: Path, documents: int) -> Path:
    """The first `documents` abstracts, with the train queries whose relevant abstracts are among them."""
    (folder / "qrels").mkdir(parents=True)
    lines = (scifact / "corpus.jsonl").read_bytes().splitlines(keepends=True)[:documents]
    (folder / "corpus.jsonl").write_bytes(b"".join(lines))
    ids = {orjson.loads(line)["_id"] for line in lines}
    qrels = [q for q in (scifact / "qrels" / "train.tsv").read_text().splitlines()[1:] if q.split("\t")[1] in ids]
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(qrels) + "\n")
    wanted = {q.split("\t")[0] for q in qrels}
    queries = [
        q
        for q in (scifact / "queries.jsonl").read_bytes().splitlines(keepends=True)
        if orjson.loads(q)["_id"] in wanted
    ]
    (folder / "queries.jsonl").write_bytes(b"".join(queries))
    return folder


@pytest.mark.slow
def test_minilm_end_to_end_on_scifact(ws: Workspace, scifact: Path, tmp_path: Path) -> None:
    folder = scifact_slice(scifact, tmp_path / "slice", 150)
    assert (
        runner.invoke(app, ["--workspace", str(ws.root), "import-benchmark", str(folder), "--name", "sf"]).exit_code
        == 0
    )

    code, embedded = cli(ws, "embed", "--retriever", "minilm")
    assert code == 0 and set(embedded) == {"retriever", "embedded", "skipped", "passages", "device", "seconds"}
    assert (embedded["embedded"], embedded["skipped"], embedded["device"]) == (150, 0, "cpu")
    assert embedded["passages"] >= 150

    code, found = cli(ws, "search", "--retriever", "minilm", "-k", "5", "vitamin D and bone health")
    assert code == 0 and len(found["results"]) == 5
    assert all(set(r) == {"doc_id", "score", "rank", "title", "url"} for r in found["results"])
    assert [r["rank"] for r in found["results"]] == [1, 2, 3, 4, 5]
    assert found["results"][0]["score"] >= found["results"][-1]["score"]

    code, run = cli(ws, "run", "--retriever", "minilm", "--queries", "sf", "-k", "10")
    assert code == 0 and run["run"] == "minilm:sf" and run["k"] == 10 and run["queries"] > 10
    # the real model must find the judged abstract in its top 10 for most claims
    from store import runs as run_store

    ranking = run_store.load_run(ws.db, "minilm:sf")
    qrels = [line.split("\t")[:2] for line in (folder / "qrels" / "train.tsv").read_text().splitlines()[1:]]
    hit = [((ranking.query_id == q) & (ranking.doc_id == d)).any() for q, d in qrels]
    assert sum(hit) / len(hit) >= 0.7

    code, listed = cli(ws, "retrievers")
    rows = {r["name"]: r for r in listed["retrievers"]}
    assert code == 0 and rows["minilm"]["current"] == 150 and rows["minilm"]["available"]
    assert not rows["indus-sde-st"]["available"] and "hf download" in rows["indus-sde-st"]["hint"]

    code, failed = cli(ws, "embed", "--retriever", "indus-sde-st")
    assert code == 2 and "hf download nasa-impact/indus-sde-st-v0.2" in failed["error"]
    code, failed = cli(ws, "search", "--retriever", "nope", "x")
    assert code == 2 and "no retriever named 'nope'" in failed["error"]


def test_embed_resumes_after_kill_with_exactly_one_vector_set_per_document(
    ws: Workspace, tiny_model_dir: Path, tmp_path: Path
) -> None:
    rows = corpus_rows(copies=60)
    load_rows(ws, rows, tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    env = {**os.environ, "SDE_WORKBENCH_EMBEDDING__DOCS_PER_WRITE": "4"}
    command = [str(Path(sys.executable).parent / "sde-workbench"), "--workspace", str(ws.root), "embed", "-r", "tiny"]
    job = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while vectors.passage_count(ws.vectors_dir, "tiny") < 40 and job.poll() is None:
            assert time.monotonic() < deadline, "the embed job wrote nothing"
            time.sleep(0.01)
        job.send_signal(signal.SIGKILL)
    finally:
        job.wait()
    assert job.returncode == -signal.SIGKILL, "the job finished before it could be killed"
    before = vectors.present_documents(ws.vectors_dir, "tiny").num_rows
    assert 0 < before < len(rows)

    resumed = embed(ws, "tiny")
    assert resumed.skipped == before and resumed.embedded == len(rows) - before
    present = vectors.present_documents(ws.vectors_dir, "tiny")["doc_id"].to_pylist()
    assert len(present) == len(set(present)) == len(rows)
    assert vectors.passage_count(ws.vectors_dir, "tiny") == len(rows)  # one passage each, none doubled
