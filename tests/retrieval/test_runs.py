"""Runs know what made them: evaluation uses a run only while it matches the retriever's fingerprint, mode,
vectors and query set with enough depth; frozen runs stay usable by name. Runs are made in batches and rank
exactly as one search per query does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.core import Workspace
from curation.evaluation import evaluate_runs
from curation.ingest import import_queries
from curation.retrieval import embed, make_run, rank_queries, ranking, resolve_run, search, stored_runs
from curation.retrieval.search import Searcher
from embeddings.quantization import pack_signs
from store import vectors
from tests.judged_data import grade
from tests.retrieval_data import TOPICS, add_retriever, corpus_rows, load_rows

SET = "topics"


@pytest.fixture
def judged(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> Workspace:
    """The small corpus embedded by the tiny model, one query per topic, each judged against its document."""
    load_rows(ws, corpus_rows(), tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    embed(ws, "tiny")
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(f'{{"_id": "t{i}", "text": "{text}"}}\n' for i, (_, _, text) in enumerate(TOPICS)))
    import_queries(ws, path, SET, origin="test", rejects=[])
    grade(ws, "alice", {(f"t{i}", f"doc-0-{i}"): 2 for i in range(len(TOPICS))}, query_set=SET)
    return ws


def test_a_frozen_hybrid_top10_run_is_not_used_for_recall_at_100(judged: Workspace) -> None:
    make_run(judged, "tiny", SET, k=10, mode="hybrid", name="tiny-hybrid:topics")  # as Compare's "Store run" does
    result = evaluate_runs(judged, ["tiny"], SET, metrics=["recall@100", "ndcg@10"])
    used = result.runs["tiny"]
    assert used.run != "tiny-hybrid:topics" and (used.mode, used.made, used.frozen) == ("vector", True, False)
    assert used.k >= 100
    # Asked for by name, the frozen run is used as it is, and the report says what it is.
    frozen = evaluate_runs(judged, ["tiny-hybrid:topics"], SET, metrics=["recall@100"]).runs["tiny-hybrid:topics"]
    assert (frozen.run, frozen.mode, frozen.k, frozen.frozen) == ("tiny-hybrid:topics", "hybrid", 10, True)
    assert "frozen run of" in frozen.note and "top 10" in frozen.note
    # `NAME/MODE` asks for a mode; the hybrid run is made fresh at depth 100 rather than taken from the frozen one.
    hybrid = resolve_run(judged, "tiny/hybrid", SET, depth=100)
    assert (hybrid.mode, hybrid.k, hybrid.made, hybrid.run) == ("hybrid", 100, True, "tiny/hybrid:topics")


def test_runs_are_reused_until_vectors_or_queries_change(judged: Workspace, tmp_path: Path) -> None:
    first = resolve_run(judged, "tiny", SET)
    assert first.made
    assert not resolve_run(judged, "tiny", SET).made  # nothing changed: the stored run stands
    assert resolve_run(judged, "tiny", SET, depth=10).run == first.run  # deeper than asked is fine
    # New documents embedded: the vectors changed, so the run is stale.
    load_rows(judged, corpus_rows(copies=2), tmp_path / "more.jsonl")
    embed(judged, "tiny")
    assert resolve_run(judged, "tiny", SET).made
    assert not resolve_run(judged, "tiny", SET).made
    # A query edited: the set's version changed.
    path = tmp_path / "edit.jsonl"
    path.write_text('{"_id": "t0", "text": "sea surface temperature anomalies"}\n')
    import_queries(judged, path, SET, origin="test", rejects=[])
    assert resolve_run(judged, "tiny", SET).made
    assert [r.name for r in stored_runs(judged, SET)] == ["tiny:topics"]  # automatic runs replace each other


def test_a_batched_run_ranks_as_one_search_per_query(judged: Workspace) -> None:
    judged.update_settings("vectors", "query_batch", 3)  # several batches, the last one short
    summary = make_run(judged, "tiny", SET, k=5)
    assert not summary.frozen and summary.mode == "vector"
    stored = ranking(judged, summary.run)
    for i, (_, _, text) in enumerate(TOPICS):
        hits = search(judged, "tiny", text, k=5)
        assert list(stored[f"t{i}"]) == [h.doc_id for h in hits]


def test_a_hybrid_batch_ranks_as_lancedb_hybrid_search_does(judged: Workspace) -> None:
    # The batch's vector side in one call and each query's BM25, fused here, must rank and score what LanceDB's own
    # hybrid search (vector + full text, RRFReranker) gives for each query, best passage per document.
    import lancedb

    judged.update_settings("vectors", "query_batch", 4)
    queries = {f"t{i}": text for i, (_, _, text) in enumerate(TOPICS)}
    k = 3
    batched = rank_queries(judged, "tiny", queries, k=k, mode="hybrid")
    searcher = Searcher.open(judged, "tiny", "hybrid")
    table = lancedb.connect(judged.vectors_dir).open_table(searcher.table)
    for query_id, text in queries.items():
        query = table.search(query_type="hybrid", vector_column_name="vector", fts_columns="text")
        query = query.vector(searcher.encode([text])[0]).text(text).distance_type("cosine")
        found = query.limit(k * searcher.per_document).select(["doc_id"]).to_arrow().to_pylist()
        best: dict[str, float] = {}
        for row in found:
            best.setdefault(row["doc_id"], row["_relevance_score"])
        assert len(best) >= k  # else the search would have fetched more passages
        expected = list(best.items())[:k]
        assert [d for d, _, _ in batched[query_id]] == [d for d, _ in expected], text
        assert [s for _, s, _ in batched[query_id]] == pytest.approx([s for _, s in expected], abs=1e-6)
    summary = make_run(judged, "tiny", SET, k=k, mode="hybrid")  # a hybrid run ranks the same way
    assert {q: list(docs) for q, docs in ranking(judged, summary.run).items()} == {
        q: [d for d, _, _ in ranked] for q, ranked in batched.items()
    }


def test_the_binary_variant_searches_sign_bits_of_the_float_vectors(judged: Workspace) -> None:
    used = resolve_run(judged, "tiny/binary", SET, depth=5)
    assert used.mode == "binary" and used.made
    floats = vectors.scan_vectors(judged.vectors_dir, "tiny")
    bits = vectors.scan_vectors(judged.vectors_dir, "tiny__1bit")
    float_rows = {d: v for b in floats for d, v in zip(b["doc_id"].to_pylist(), b["vector"].to_pylist(), strict=True)}
    bit_rows = {d: v for b in bits for d, v in zip(b["doc_id"].to_pylist(), b["vector"].to_pylist(), strict=True)}
    assert set(bit_rows) == set(float_rows)
    for doc_id, vector in float_rows.items():
        assert bit_rows[doc_id] == np.packbits(np.asarray(vector) >= 0).tolist()
        assert bit_rows[doc_id] == pack_signs(np.asarray([vector]))[0].tolist()
    assert not resolve_run(judged, "tiny/binary", SET, depth=5).made
