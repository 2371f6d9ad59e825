"""A benchmark import never rewrites stored documents: membership is its own relation, and the collection of a
document is set only when the import inserts it."""

from __future__ import annotations

from pathlib import Path

from curation.core import Workspace, get_documents
from curation.ingest import import_benchmark
from store.documents import benchmark_documents
from tests.judged_data import write_beir

DOCS = {f"d{i}": f"text of document {i}" for i in range(6)}


def test_a_second_benchmark_keeps_the_collections_of_stored_documents(ws: Workspace, tmp_path: Path) -> None:
    first = write_beir(tmp_path / "one", DOCS, {"q1": "first question"}, {"test": {("q1", "d1"): 1}})
    import_benchmark(ws, first, "one")
    # The second shares d4 and d5 with the first (an exported half re-imported, say) and brings d6.
    shared = {d: DOCS[d] for d in ("d4", "d5")} | {"d6": "a new document"}
    second = write_beir(tmp_path / "two", shared, {"q9": "other question"}, {"test": {("q9", "d6"): 1}})
    result = import_benchmark(ws, second, "two")

    collections = {d["doc_id"]: d["collection"] for d in get_documents(ws, [*DOCS, "d6"])}
    assert collections == {**dict.fromkeys(DOCS, "one"), "d6": "two"}
    assert result.documents == 3
    assert benchmark_documents(ws.db, "one") == set(DOCS)
    assert benchmark_documents(ws.db, "two") == {"d4", "d5", "d6"}
    # Importing it again replaces its membership instead of adding to it.
    smaller = write_beir(tmp_path / "two-again", {"d6": "a new document"}, {"q9": "other"}, {"test": {("q9", "d6"): 1}})
    import_benchmark(ws, smaller, "two")
    assert benchmark_documents(ws.db, "two") == {"d6"}
