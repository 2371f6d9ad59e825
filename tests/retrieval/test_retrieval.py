"""Registry, encoder, embed job and search on the tiny random model: real DuckDB, real LanceDB."""

from __future__ import annotations

import random
import shutil
import uuid
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
import torch

from curation.core import Workspace
from curation.retrieval import (
    SearchError,
    coverage,
    document_vectors,
    embed,
    filter_clause,
    highlight,
    make_run,
    search,
)
from embeddings.chunking import Chunker
from embeddings.device import DeviceUnavailable, pick_device
from embeddings.encoder import load_encoder, load_model
from embeddings.quantization import hamming_similarity, pack_signs, to_storage, unpack_signs
from embeddings.registry import (
    DEFAULT_RETRIEVERS,
    RetrieverSpec,
    RetrieverUnavailable,
    availability,
    model_location,
)
from store import queries as query_store
from store import runs as run_store
from store import vectors
from tests.retrieval_data import add_retriever, corpus_rows, load_rows, passage_text


@pytest.fixture
def tiny_ws(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> Workspace:
    """A workspace with the small corpus and a `tiny` retriever (float) on the random model."""
    load_rows(ws, corpus_rows(), tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    return ws


def test_registry_keeps_defaults_when_the_user_adds_or_changes_one(ws: Workspace, tiny_model_dir: Path) -> None:
    add_retriever(ws, "mine", tiny_model_dir)
    ws.update_settings("retrievers", "minilm", {"chunk_tokens": 64})
    reopened = Workspace.open(ws.root).settings.retrievers
    assert set(DEFAULT_RETRIEVERS) | {"mine"} == set(reopened)
    assert reopened["minilm"].chunk_tokens == 64
    assert reopened["minilm"].package == DEFAULT_RETRIEVERS["minilm"].package
    assert reopened["mine"].model == str(tiny_model_dir)


def test_availability_from_package_folder_and_hugging_face_cache(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert availability("minilm", DEFAULT_RETRIEVERS["minilm"]).source == "package"
    local = availability("x", RetrieverSpec(model=str(tiny_model_dir)))
    assert (local.available, local.source, local.location) == (True, "path", str(tiny_model_dir.resolve()))
    relative = availability("x", RetrieverSpec(model=tiny_model_dir.name), base_dir=tiny_model_dir.parent)
    assert relative.available and relative.source == "path"

    cache = tmp_path / "hub"
    snapshot = cache / "models--nasa-impact--indus-sde-st-v0.2" / "snapshots" / "abc123"
    shutil.copytree(tiny_model_dir, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    spec = DEFAULT_RETRIEVERS["indus-sde-st"]
    assert not availability("indus-sde-st", spec).available
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    cached = availability("indus-sde-st", spec)
    assert (cached.available, cached.source, cached.location) == (True, "hf-cache", str(snapshot))
    assert load_encoder(spec, model_location("indus-sde-st", spec), device="cpu").dimension == 32


def test_a_missing_model_says_how_to_get_it(ws: Workspace) -> None:
    spec = ws.settings.retrievers["indus-sde-st"]
    found = availability("indus-sde-st", spec, ws.root)
    assert not found.available
    assert "hf download nasa-impact/indus-sde-st-v0.2" in (found.hint or "")
    assert "[retrievers.indus-sde-st]" in (found.hint or "")
    with pytest.raises(RetrieverUnavailable, match="hf download nasa-impact/indus-sde-st-v0.2"):
        embed(ws, "indus-sde-st")
    missing_folder = availability("x", RetrieverSpec(model="/nonexistent/model"))
    assert not missing_folder.available and "/nonexistent/model does not exist" in (missing_folder.hint or "")
    (ws.root / "not-a-model").mkdir()
    ws.update_settings("retrievers", "broken", {"model": "not-a-model"})
    with pytest.raises(RetrieverUnavailable, match="could not load a sentence-transformers model"):
        embed(ws, "broken")
    rows = {c.name: c for c in coverage(ws)}
    assert not rows["indus-sde-st"].available and rows["minilm"].available


def test_chunks_are_token_windows_of_the_original_text(tiny_model_dir: Path) -> None:
    tokenizer = load_model(str(tiny_model_dir), "cpu").tokenizer
    chunker = Chunker(size=10, overlap=3, tokenizer=tokenizer)
    text = " ".join(f"Word{i}, (n={i})." for i in range(40))
    passages = chunker.split([text, "short text", ""])
    long, short, empty = passages
    assert short == ["short text"] and empty == [""]
    assert len(long) > 3 and all(p in text for p in long)
    lengths = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in long]
    assert max(lengths) <= 10
    spans = chunker.spans([text])[0]
    windows = chunker.windows(spans)
    # consecutive windows start 7 tokens apart (10 - 3 overlap) and the last one reaches the end
    starts = [next(i for i, s in enumerate(spans) if s[0] == w[0]) for w in windows]
    assert all(b - a == 7 for a, b in zip(starts, starts[1:], strict=False))
    assert windows[-1][1] == spans[-1][1]
    words = Chunker(size=4, overlap=1).split(["a b c d e f g"])[0]
    assert words == ["a b c d", "d e f g"]


def test_word_windows_match_the_word_spans() -> None:
    """bm25's fast word windows (numpy over code points) cut exactly where the per-word spans cut."""
    rng = random.Random(1)
    pieces = ["a", "bb", "\u00e9", "\u3000", " ", "\n", "\t  ", "x\u00a0y", "\U0001f600", "\u3001"]
    for size, overlap, first_only in [(5, 2, False), (3, 0, False), (9, 8, False), (4, 1, True)]:
        chunker = Chunker(size, overlap, first_only=first_only)
        for _ in range(300):
            text = "".join(rng.choices(pieces, k=rng.randint(0, 60)))
            assert chunker.word_windows(text) == chunker.windows(chunker.spans([text])[0]), (text, size, overlap)


def test_device_choice() -> None:
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") == pick_device(None)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailable, match="not available"):
            pick_device("cuda")


def test_model_is_loaded_once_and_batch_size_backs_off_on_out_of_memory(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_model(str(tiny_model_dir), "cpu") is load_model(str(tiny_model_dir), "cpu")
    encoder = load_encoder(RetrieverSpec(model=str(tiny_model_dir)), str(tiny_model_dir), device="cpu", batch_size=64)
    real_encode = encoder.model.encode
    tried: list[int] = []

    def encode_within_memory(texts: list[str], **kwargs: object) -> np.ndarray:
        tried.append(int(kwargs["batch_size"]))  # type: ignore[call-overload]
        if tried[-1] > 8:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(encoder.model, "encode", encode_within_memory)
    out = encoder.encode_passages([f"text {i}" for i in range(20)])
    assert out.shape == (20, 32) and tried == [64, 32, 16, 8] and encoder.batch_size == 8


def test_a_pages_query_is_encoded_once_for_every_view_that_asks(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compare's two sides, the Map's overlay and hits, the Judge queue's two rankings ask for the same queries:
    each is encoded once, to the same vector."""
    encoder = load_encoder(RetrieverSpec(model=str(tiny_model_dir)), str(tiny_model_dir), device="cpu")
    real_encode = encoder.model.encode
    encoded: list[list[str]] = []

    def counted(texts: list[str], **kwargs: object) -> np.ndarray:
        encoded.append(list(texts))
        return real_encode(texts, **kwargs)

    monkeypatch.setattr(encoder.model, "encode", counted)
    wind, ozone = f"solar wind {uuid.uuid4()}", f"ozone {uuid.uuid4()}"  # texts no other test has encoded
    first = encoder.encode_queries([wind])
    first[0, 0] = 99.0  # what a caller does with its copy changes nothing kept
    again = load_encoder(RetrieverSpec(model=str(tiny_model_dir)), str(tiny_model_dir), device="cpu")
    assert again is encoder  # every caller in the process gets the same encoder, and the queries it keeps
    kept = again.encode_queries([wind])
    assert encoded == [[wind]] and kept[0, 0] != 99.0
    both = encoder.encode_queries([ozone, wind, ozone])  # a batch: only what is not kept is encoded
    assert encoded[-1] == [ozone] and len(encoded) == 2
    np.testing.assert_allclose(both[1:2], kept, atol=1e-5)
    np.testing.assert_allclose(both[0], both[2])
    encoder.encode_queries([wind, ozone])  # the Judge queue's second ranking of the same queries
    assert len(encoded) == 2
    direct = real_encode([ozone], normalize_embeddings=encoder.spec.normalize, convert_to_numpy=True)
    np.testing.assert_allclose(both[0], direct[0], atol=1e-5)


def test_binary_vectors_pack_signs_and_compare_by_hamming() -> None:
    rng = np.random.default_rng(1)
    floats = rng.normal(size=(5, 40)).astype(np.float32)
    packed = to_storage(floats, "binary")
    assert packed.dtype == np.uint8 and packed.shape == (5, 5)
    signs = unpack_signs(packed, 40)
    assert np.array_equal(signs, np.where(floats >= 0, 1.0, -1.0))
    distance = np.unpackbits(packed[0] ^ packed[1]).sum()
    assert hamming_similarity(np.array([distance]), 40)[0] == pytest.approx(signs[0] @ signs[1] / 40)


def test_sign_bits_are_numpy_packbits_of_value_at_least_zero() -> None:
    rng = np.random.default_rng(2)
    floats = rng.normal(size=(7, 384)).astype(np.float32)
    floats[0, :9] = 0.0  # zero counts as a 1 bit, as SDE packs it
    floats[1, 3] = -0.0
    assert np.array_equal(pack_signs(floats), np.packbits(floats >= 0, axis=1))
    assert np.array_equal(to_storage(floats, "binary"), np.packbits(floats >= 0, axis=1))
    assert pack_signs(floats)[0, 0] == 0b11111111 and pack_signs(floats)[0, 1] >> 7 == 1  # most significant first


def test_embed_is_incremental_replaces_stale_vectors_and_follows_retags(tiny_ws: Workspace, tmp_path: Path) -> None:
    ws = tiny_ws
    progress: list[tuple[int, int]] = []
    before = torch.get_num_threads()
    try:
        first = embed(ws, "tiny", threads=1, progress=lambda done, total: progress.append((done, total)))
        assert torch.get_num_threads() == 1  # the job's --threads reaches torch
    finally:
        torch.set_num_threads(before)
    assert (first.embedded, first.skipped, first.device) == (10, 0, "cpu")
    assert first.passages == vectors.passage_count(ws.vectors_dir, "tiny") >= 10
    assert progress[0] == (0, 10) and progress[-1] == (10, 10)
    again = embed(ws, "tiny")
    assert (again.embedded, again.skipped, again.passages) == (0, 10, 0)

    rows = corpus_rows()
    rows[3]["text"] = "a completely rewritten page about heliospheric current sheets"
    rows[5]["division"] = "Earth Science"
    load_rows(ws, rows, tmp_path / "changed.jsonl")
    tiny = next(c for c in coverage(ws) if c.name == "tiny")
    assert (tiny.current, tiny.stale, tiny.missing) == (9, 1, 0)
    redone = embed(ws, "tiny")
    assert (redone.embedded, redone.skipped) == (1, 9)
    present = vectors.present_documents(ws.vectors_dir, "tiny")
    assert sorted(present["doc_id"].to_pylist()) == sorted(r["doc_id"] for r in rows)
    hits = search(ws, "tiny", passage_text(rows[3]), k=1)
    assert hits[0].doc_id == rows[3]["doc_id"] and "heliospheric" in hits[0].passage
    earth = search(ws, "tiny", "anything", k=10, where="division = 'Earth Science'")
    assert {h.doc_id for h in earth} == {r["doc_id"] for r in rows if r["division"] == "Earth Science"}


def test_settings_change_rebuilds_vectors(tiny_ws: Workspace, tiny_model_dir: Path) -> None:
    ws = tiny_ws
    embed(ws, "tiny")
    add_retriever(ws, "tiny", tiny_model_dir, chunk_tokens=16)
    with pytest.raises(SearchError, match="its settings in workbench.toml or its model"):
        search(ws, "tiny", "solar wind")
    assert next(c for c in coverage(ws) if c.name == "tiny").stale == 10
    assert embed(ws, "tiny").embedded == 10
    assert search(ws, "tiny", "solar wind", k=3)


def test_vector_fts_hybrid_and_filtered_search(tiny_ws: Workspace) -> None:
    ws = tiny_ws
    ws.update_settings("vectors", "ann_min_rows", 5)  # exercise the ANN index on a small table
    embed(ws, "tiny")
    rows = corpus_rows()
    target = rows[6]
    exact = search(ws, "tiny", passage_text(target), k=3)
    assert exact[0].doc_id == target["doc_id"] and exact[0].score == pytest.approx(1.0, abs=1e-3)
    assert [h.rank for h in exact] == [1, 2, 3] and exact[0].title == target["title"]
    assert exact[0].url == target["url"] and exact[0].division == target["division"]
    fts = search(ws, "tiny", "martian polar caps", k=3, mode="fts")
    assert fts[0].doc_id == target["doc_id"]
    hybrid = search(ws, "tiny", passage_text(target), k=3, mode="hybrid")
    assert hybrid[0].doc_id == target["doc_id"]

    where = filter_clause(division=["Heliophysics"], document_type=["Data"])
    hits = search(ws, "tiny", "plasma", k=10, where=where)
    assert [h.doc_id for h in hits] == [
        r["doc_id"] for r in rows if r["division"] == "Heliophysics" and r["document_type"] == "Data"
    ]
    with pytest.raises(SearchError, match="invalid filter"):
        search(ws, "tiny", "plasma", where="divison = 'x'")
    with pytest.raises(SearchError, match="no vectors yet"):
        search(ws, "bm25", "plasma")


@pytest.mark.parametrize("prefilter_max_ids", [100, 1])
def test_restrict_to_limits_results_to_the_given_documents(tiny_ws: Workspace, prefilter_max_ids: int) -> None:
    ws = tiny_ws
    ws.update_settings("vectors", "prefilter_max_ids", prefilter_max_ids)  # 1: the postfilter path
    embed(ws, "tiny")
    rows = corpus_rows()
    kept = {rows[1]["doc_id"], rows[8]["doc_id"]}
    for mode in ("vector", "fts", "hybrid"):
        hits = search(ws, "tiny", passage_text(rows[0]), k=5, mode=mode, restrict_to=kept)  # type: ignore[arg-type]
        assert {h.doc_id for h in hits} <= kept
    assert {h.doc_id for h in search(ws, "tiny", "record", k=5, mode="fts", restrict_to=kept)} == kept
    assert search(ws, "tiny", "record", restrict_to=set()) == []


def test_binary_search_agrees_with_float_on_the_top_hit(tiny_ws: Workspace, tiny_model_dir: Path) -> None:
    ws = tiny_ws
    add_retriever(ws, "tiny-bin", tiny_model_dir, precision="binary", similarity="hamming")
    add_retriever(ws, "tiny-f16", tiny_model_dir, precision="float16")
    for name in ("tiny", "tiny-bin", "tiny-f16"):
        embed(ws, name)
    sizes = {name: vectors.storage_bytes(ws.vectors_dir, name) for name in ("tiny", "tiny-bin", "tiny-f16")}
    assert sizes["tiny-bin"] < sizes["tiny-f16"] < sizes["tiny"]
    query = passage_text(corpus_rows()[2])
    assert search(ws, "tiny-f16", query, k=1)[0].score == pytest.approx(1.0, abs=1e-2)
    for rescore in (4, 0):
        ws.update_settings("vectors", "binary_rescore", rescore)
        for row in corpus_rows()[:4]:
            query = passage_text(row)
            assert search(ws, "tiny-bin", query, k=1)[0].doc_id == search(ws, "tiny", query, k=1)[0].doc_id
            assert search(ws, "tiny-bin", query, k=1)[0].doc_id == row["doc_id"]


def test_bm25_retriever_and_runs(tiny_ws: Workspace) -> None:
    ws = tiny_ws
    result = embed(ws, "bm25")
    assert (result.embedded, result.device) == (10, "none")
    assert search(ws, "bm25", "lunar craters camera", k=1)[0].doc_id == corpus_rows()[7]["doc_id"]
    with pytest.raises(SearchError, match="full-text only"):
        search(ws, "bm25", "lunar", mode="hybrid")
    query_store.upsert_queries(
        ws.db, "topics", [{"query_id": "q1", "text": "lunar craters"}, {"query_id": "q2", "text": "solar wind"}],
        origin="test",
    )  # fmt: skip
    summary = make_run(ws, "bm25", "topics", k=3)
    assert (summary.run, summary.queries, summary.k) == ("bm25:topics", 2, 3)
    run = run_store.load_run(ws.db, "bm25:topics")
    assert set(run["query_id"]) == {"q1", "q2"} and run.groupby("query_id").size().max() <= 3
    assert run_store.list_runs(ws.db)[0]["mode"] == "fts"
    with pytest.raises(SearchError, match="has no queries"):
        make_run(ws, "bm25", "nope")


def test_document_vectors_are_unit_means_of_passages(tiny_ws: Workspace, tiny_model_dir: Path) -> None:
    ws = tiny_ws
    add_retriever(ws, "tiny-short", tiny_model_dir, chunk_tokens=10, chunk_overlap=2)
    embed(ws, "tiny-short")
    assert vectors.passage_count(ws.vectors_dir, "tiny-short") > 10  # several passages per document
    doc_ids, matrix = document_vectors(ws, "tiny-short", batch_rows=7)
    assert sorted(doc_ids) == sorted(r["doc_id"] for r in corpus_rows())
    assert matrix.shape == (10, 32)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def test_highlight_escapes_then_marks() -> None:
    text = "<script>alert('x')</script> Solar winds & the solar corona"
    marked = highlight(text, "solar <b>wind</b>")
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert marked.count("<mark>") == 3 and "<mark>winds</mark>" in marked and "<mark>Solar</mark>" in marked
    assert highlight("a & b", "the") == "a &amp; b"


def test_demo_workspace_is_embedded_on_build(ws: Workspace, tiny_model_dir: Path) -> None:
    from curation.core import demo_dir
    from curation.demo import DEMO_RETRIEVER, build_demo

    assert ws.settings.retrievers[DEMO_RETRIEVER].package  # the default needs no download
    add_retriever(ws, "tiny", tiny_model_dir)
    built = build_demo(ws, demo_dir(), retriever="tiny")
    assert built.embedded == built.documents > 0
    assert next(c for c in coverage(ws) if c.name == "tiny").current == built.documents
    assert len(search(ws, "tiny", "sea surface temperature", k=5)) == 5


def test_cli_search_can_keep_to_what_the_relevancy_filter_kept(tiny_ws: Workspace) -> None:
    import orjson
    from typer.testing import CliRunner

    from curation.cli import app
    from curation.relevancy import decide

    embed(tiny_ws, "tiny")
    decide(tiny_ws, ["doc-0-1", "doc-0-7"], kept=True, curator="ana")
    decide(tiny_ws, ["doc-0-3"], kept=False, curator="ana")
    args = ["--workspace", str(tiny_ws.root), "search", "-r", "tiny", "record", "-k", "5", "--json"]
    everything = orjson.loads(CliRunner().invoke(app, args).stdout)["results"]
    kept = orjson.loads(CliRunner().invoke(app, [*args, "--kept"]).stdout)["results"]
    assert len(everything) == 5
    assert {r["doc_id"] for r in kept} == {"doc-0-1", "doc-0-7"}
