"""Query sets: typed queries, imported files, and LLM-generated queries through pydantic-ai's FunctionModel."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from curation.core import InputError, Workspace
from curation.judging import (
    add_query,
    generate_queries,
    import_query_file,
    pick_documents,
    queued_documents,
    standalone_problem,
)
from curation.llm import LLMSettings
from curation.relevancy import decide
from store import queue as queue_store
from store.queries import list_query_sets, load_queries
from store.queue import queue_documents
from tests.openai_stub import StubLLM

CLI = str(Path(sys.executable).with_name("sde-workbench"))
SITE = "https://science.nasa.gov"
SETTINGS = LLMSettings(
    provider="openai-compatible", model="stub", base_url="http://127.0.0.1:9/v1", backoff_seconds=0, retries=0
)
DOCS = [
    {"url": f"{SITE}/aerosols", "title": "MODIS Aerosol Product", "text": "MODIS aerosol optical depth at 3 km.",
     "division": "Earth Science"},
    {"url": f"{SITE}/parker", "title": "Parker Solar Probe", "text": "Parker Solar Probe perihelion passes.",
     "division": "Heliophysics"},
    {"url": f"{SITE}/broken", "title": "Broken", "text": "A page the model fails on.", "division": "Heliophysics"},
]  # fmt: skip


def answer_for(prompt: str) -> dict[str, Any]:
    title = next(line[7:] for line in prompt.splitlines() if line.startswith("Title: "))
    return {
        "queries": [
            {"text": f"What resolution does the {title} have?", "kind": "factual"},
            {"text": f"How do I download {title} files with wget?", "kind": "procedural"},
            {"text": "What does this page describe?", "kind": "factual"},  # vague: dropped
            {"text": f"{title} variables, formats and versions", "kind": "data"},
            {"text": "When was it launched?", "kind": "factual"},  # a pronoun: dropped
        ]
    }


class Scripted:
    """A FunctionModel answering per document; the 'Broken' page always gets an invalid answer."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.instructions: list[str | None] = []
        self.model = FunctionModel(self._respond)

    def _respond(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        parts = [p for m in messages for p in getattr(m, "parts", []) if isinstance(p, UserPromptPart)]
        prompt = str(parts[-1].content)
        self.prompts.append(prompt)
        self.instructions.append(info.instructions)
        args = {"queries": []} if "Title: Broken" in prompt else answer_for(prompt)
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])


@pytest.fixture
def pages(ws: Workspace, add_documents: Callable[..., None]) -> Workspace:
    add_documents(DOCS, collection="demo")
    return ws


def test_standalone_check_catches_pronouns_and_vague_references() -> None:
    assert standalone_problem("MODIS aerosol optical depth resolution") is None
    assert standalone_problem("Which instruments measure aerosols that scatter light?") is None
    assert standalone_problem("How is it calibrated?") == "pronoun 'it'"
    assert standalone_problem("Where can I get these files?") == "pronoun 'these'"
    assert "vague reference" in str(standalone_problem("What does the document say about ozone?"))


def test_generated_queries_are_standalone_typed_and_name_their_document(pages: Workspace) -> None:
    scripted = Scripted()
    doc_ids = [f"{SITE}/aerosols", f"{SITE}/parker", f"{SITE}/broken"]
    result = generate_queries(pages, SETTINGS, "synthetic", doc_ids, per_document=3, model=scripted.model)

    assert (result.documents, result.generated, result.dropped, result.errors) == (3, 6, 4, 1)
    assert all("STANDALONE" in (i or "") and "procedural" in (i or "") for i in scripted.instructions)
    assert all(p.startswith("Write 3 queries") for p in scripted.prompts)
    assert any("Title: Parker Solar Probe" in p and "perihelion" in p for p in scripted.prompts)
    queries = load_queries(pages.db, "synthetic")
    assert len(queries) == 6 and all(standalone_problem(t) is None for t in queries["text"])
    metadata = [orjson.loads(m) for m in queries["metadata"]]
    assert Counter(m["source_doc"] for m in metadata) == {f"{SITE}/aerosols": 3, f"{SITE}/parker": 3}
    assert Counter(m["kind"] for m in metadata) == {"factual": 2, "procedural": 2, "data": 2}
    assert {m["division"] for m in metadata} == {"Earth Science", "Heliophysics"}
    assert all(m["model"] == "openai-compatible:stub" for m in metadata)
    assert {s["name"]: s["origin"] for s in list_query_sets(pages.db)} == {"synthetic": "generated"}

    again = generate_queries(pages, SETTINGS, "synthetic", doc_ids, per_document=3, model=scripted.model)
    assert (again.done_before, again.calls, again.generated) == (2, 1, 0)  # only the failed document is retried
    assert len(load_queries(pages.db, "synthetic")) == 6


def test_documents_are_picked_from_kept_ones_reproducibly(pages: Workspace) -> None:
    with pytest.raises(InputError, match="filter --judge rules"):
        pick_documents(pages, 2)
    assert len(pick_documents(pages, 5, kept_only=False)) == 3
    decide(pages, [f"{SITE}/aerosols", f"{SITE}/parker"], kept=True, curator="ana")
    assert sorted(pick_documents(pages, 5)) == [f"{SITE}/aerosols", f"{SITE}/parker"]
    assert pick_documents(pages, 5, division="Heliophysics") == [f"{SITE}/parker"]
    assert pick_documents(pages, 1, seed=7) == pick_documents(pages, 1, seed=7)


def test_documents_queued_on_the_map_are_the_selected_documents(pages: Workspace) -> None:
    with pytest.raises(InputError, match="Map page"):
        queued_documents(pages)
    queue_documents(pages.db, [f"{SITE}/parker", f"{SITE}/aerosols"], added_by="ana")
    assert sorted(queued_documents(pages)) == [f"{SITE}/aerosols", f"{SITE}/parker"]
    scripted = Scripted()
    result = generate_queries(
        pages, SETTINGS, "queued", queued_documents(pages), per_document=3, model=scripted.model, dequeue=True
    )
    assert result.documents == 2
    sources = {json.loads(m)["source_doc"] for m in load_queries(pages.db, "queued")["metadata"]}
    assert sources <= {f"{SITE}/parker", f"{SITE}/aerosols"} and sources
    assert result.dequeued == len(sources)  # documents with queries move on to judging; the rest stay queued
    assert sorted(queue_store.queued_documents(pages.db)["doc_id"]) == sorted(
        {f"{SITE}/parker", f"{SITE}/aerosols"} - sources
    )


def test_typed_and_imported_queries_record_their_origin(ws: Workspace, tmp_path: Path) -> None:
    first = add_query(ws, "mine", "  MODIS   aerosol optical depth ", curator="ana")
    assert add_query(ws, "mine", "modis aerosol optical depth", curator="bob") == first  # the same query once
    with pytest.raises(InputError):
        add_query(ws, "mine", "   ", curator="ana")

    table = tmp_path / "questions.csv"
    table.write_text(
        "qid,question,division\nc1,Solar wind speed at L1,Heliophysics\nc2,,Heliophysics\n,Mars crater ages,\n"
    )
    result = import_query_file(ws, table, "mine")
    assert (result.queries, result.rejected) == (2, 1) and "empty question" in Path(
        str(result.rejects_file)
    ).read_text()
    beir = tmp_path / "queries.jsonl"
    beir.write_text('{"_id": "b1", "text": "Landsat 9 bands"}\n{"_id": "b2"}\n')
    assert import_query_file(ws, beir, "mine").model_dump(include={"queries", "rejected"}) == {
        "queries": 1,
        "rejected": 1,
    }
    queries = load_queries(ws.db, "mine").set_index("query_id")
    assert queries.loc["c1", "text"] == "Solar wind speed at L1"
    assert json.loads(queries.loc["c1", "metadata"]) == {"division": "Heliophysics"}
    with ws.db.read() as con:
        origins = dict(con.execute("SELECT query_id, origin FROM queries WHERE query_set = 'mine'").fetchall())
    assert origins[first] == "typed" and origins["c1"] == origins["b1"] == "imported"
    assert len(origins) == 4

    with pytest.raises(InputError, match="--text-column"):
        import_query_file(ws, table, "mine", text_column="body")


@pytest.fixture
def stub() -> Iterator[StubLLM]:
    server = StubLLM(verdict=answer_for)
    yield server
    server.close()


def test_cli_generate_over_http_resumes_and_import_reports_rejects(
    pages: Workspace, stub: StubLLM, tmp_path: Path
) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CLI, "--workspace", str(pages.root), *args, "--json"], capture_output=True, text=True)

    model = ["--model", "openai-compatible:stub", "--base-url", stub.url]
    refused = cli("queries", "generate", "--set", "gen", "--docs", "2", *model)
    assert refused.returncode == 2 and "filter --judge rules" in json.loads(refused.stdout)["error"]
    done = cli("queries", "generate", "--set", "gen", "--docs", "2", "--all-documents", "--per-doc", "2", *model)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["documents"], summary["generated"], summary["errors"]) == (2, 4, 0)
    assert stub.calls == 2
    again = json.loads(cli("queries", "generate", "--set", "gen", "--docs", "2", "--all-documents", *model).stdout)
    assert (again["done_before"], again["generated"], stub.calls) == (2, 0, 2)
    neither = cli("queries", "generate", "--set", "gen", *model)
    assert neither.returncode == 2 and "--from-queue" in json.loads(neither.stdout)["error"]
    queue_documents(pages.db, [f"{SITE}/parker"], added_by="ana")
    queued = json.loads(cli("queries", "generate", "--set", "from-map", "--from-queue", *model).stdout)
    assert (queued["documents"], queued["errors"], queued["dequeued"]) == (1, 0, 1)
    assert queue_store.queued_documents(pages.db).empty

    bad = tmp_path / "bad.txt"
    bad.write_text("not queries")
    failed = cli("queries", "import", str(bad), "--set", "gen")
    assert failed.returncode == 2 and "queries.jsonl" in json.loads(failed.stdout)["error"]
