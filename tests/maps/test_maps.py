"""Maps: the projection job's cache and its invalidation, placing new points, alignment, selection logic,
clusters, the judging queue and the `map` commands. Real DuckDB, real LanceDB, the tiny random model."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace
from curation.maps import (
    HITS,
    QUERY,
    MapBusy,
    MapError,
    align,
    cluster_map,
    map_figure,
    map_status,
    project,
    query_overlay,
    selected_doc_ids,
)
from curation.retrieval import SearchError, document_vectors, embed
from embeddings.projection import fit_reducer, procrustes, transform
from store import maps as map_store
from store import vectors
from store.locks import LockTimeout, file_lock, job_lock
from store.queue import dequeue, queue_documents, queued_documents
from tests.retrieval_data import add_retriever, corpus_rows, load_rows, passage_text


@pytest.fixture
def map_ws(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> Workspace:
    """40 documents embedded by the `tiny` retriever."""
    load_rows(ws, corpus_rows(4), tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    embed(ws, "tiny")
    return ws


def _xy(ws: Workspace) -> dict[str, tuple[float, float]]:
    points = map_store.points(ws.db, "tiny")
    return {d: (x, y) for d, x, y in points.itertuples(index=False)}


def test_map_is_reused_until_vectors_change_then_only_changes_are_placed(map_ws: Workspace, tmp_path: Path) -> None:
    ws = map_ws
    progress: list[tuple[int, int]] = []
    first = project(ws, "tiny", progress=lambda done, total: progress.append((done, total)))
    assert (first.retriever, first.points, first.fitted_on, first.cached) == ("tiny", 40, 40, False)
    assert progress[0] == (0, 40) and progress[-1] == (40, 40)
    before = _xy(ws)
    reducer = map_store.map_record(ws.db, "tiny")["reducer"]
    assert [p.name for p in ws.maps_dir.glob("*.umap")] == [reducer]

    again = project(ws, "tiny")
    assert (again.points, again.fitted_on, again.cached) == (40, 40, True)
    assert _xy(ws) == before

    rows = corpus_rows(4)
    rows[0]["text"] = "a rewritten page about heliospheric current sheets and solar wind sectors"
    extra = [{**r, "doc_id": f"new-{i}", "url": f"https://science.nasa.gov/new/{i}"} for i, r in enumerate(rows[1:4])]
    load_rows(ws, [*rows, *extra], tmp_path / "changed.jsonl")
    assert map_status(ws, "tiny").to_place == 0  # the vectors have not changed yet
    embed(ws, "tiny")
    status = map_status(ws, "tiny")
    assert (status.to_place, status.to_remove, status.refit, status.current) == (4, 0, False, False)

    placed = project(ws, "tiny")
    assert (placed.points, placed.fitted_on, placed.cached) == (43, 40, False)
    assert map_store.map_record(ws.db, "tiny")["reducer"] == reducer  # transformed onto the kept map, not refitted
    after = _xy(ws)
    assert after["doc-0-0"] != before["doc-0-0"]
    assert {d: after[d] for d in before if d != "doc-0-0"} == {d: xy for d, xy in before.items() if d != "doc-0-0"}
    assert {"new-0", "new-1", "new-2"} <= set(after)
    assert map_status(ws, "tiny").current


def test_points_of_documents_without_vectors_are_removed(map_ws: Workspace) -> None:
    ws = map_ws
    project(ws, "tiny")
    empty = {key: [] for key in ("doc_id", "passage", "text", "content_hash", *vectors.FILTER_COLUMNS)}
    table = vectors.passages_table(empty, np.zeros((0, 32), dtype=np.float32))
    vectors.write_documents(ws.vectors_dir, "tiny", table, replace=["doc-0-5"], table_fingerprint="unused")
    status = map_status(ws, "tiny")
    assert (status.to_place, status.to_remove, status.refit) == (0, 1, False)
    removed = project(ws, "tiny")
    assert (removed.points, removed.fitted_on, removed.cached) == (39, 40, False)
    assert "doc-0-5" not in set(map_store.points(ws.db, "tiny")["doc_id"])


def test_changed_retriever_settings_refit_and_a_grown_corpus_refits(
    map_ws: Workspace, tiny_model_dir: Path, tmp_path: Path
) -> None:
    ws = map_ws
    ws.update_settings("maps", "sample_size", 20)
    sampled = project(ws, "tiny")
    assert (sampled.points, sampled.fitted_on) == (40, 20)  # fitted on a sample, the rest placed onto it
    old = map_store.map_record(ws.db, "tiny")["reducer"]

    add_retriever(ws, "tiny", tiny_model_dir, chunk_tokens=16)
    with pytest.raises(SearchError, match="its settings in workbench.toml or its model"):
        project(ws, "tiny")
    embed(ws, "tiny")
    assert map_status(ws, "tiny").refit
    refit = project(ws, "tiny")
    assert (refit.points, refit.fitted_on, refit.cached) == (40, 20, False)
    new = map_store.map_record(ws.db, "tiny")["reducer"]
    assert new != old and [p.name for p in ws.maps_dir.glob("*.umap")] == [new]

    ws.update_settings("maps", "sample_size", 50_000)
    more = [{**row, "doc_id": f"more-{row['doc_id']}", "url": f"{row['url']}/more"} for row in corpus_rows(4)]
    load_rows(ws, more, tmp_path / "more.jsonl")
    embed(ws, "tiny")
    assert map_status(ws, "tiny").refit  # 80 documents > 2 x the 20 the map was fitted on
    grown = project(ws, "tiny")
    assert (grown.points, grown.fitted_on) == (80, 80)


def test_transform_places_new_points_next_to_their_kind() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 5
    fitted = np.vstack([centre + rng.normal(size=(30, 16)) for centre in centres]).astype(np.float32)
    kinds = np.repeat(np.arange(3), 30)
    reducer, xy = fit_reducer(fitted, n_neighbors=10, min_dist=0.1)
    new = np.vstack([centre + rng.normal(size=(4, 16)) for centre in centres]).astype(np.float32)
    placed = transform(reducer, new)
    assert placed.shape == (12, 2) and np.isfinite(placed).all()
    nearest = np.argmin(((placed[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2), axis=1)
    assert (kinds[nearest] == np.repeat(np.arange(3), 4)).all()
    with pytest.raises(ValueError, match="at least 5"):
        fit_reducer(fitted[:3], n_neighbors=10, min_dist=0.1)


def test_procrustes_recovers_rotation_reflection_scale_and_shift() -> None:
    rng = np.random.default_rng(1)
    source = rng.normal(size=(50, 2))
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ np.diag([1.0, -1.0])
    target = 2.5 * source @ rotation + np.array([3.0, -7.0])
    assert np.allclose(procrustes(source, target).apply(source), target)

    reference = pd.DataFrame({"doc_id": [f"d{i}" for i in range(50)], "x": target[:, 0], "y": target[:, 1]})
    moving = pd.DataFrame({"doc_id": [*reference["doc_id"][5:], "only-here"]})
    moving[["x", "y"]] = np.vstack([source[5:], [[0.5, 0.5]]])
    aligned, to_reference = align(reference, moving)
    expected = 2.5 * np.array([0.5, 0.5]) @ rotation + np.array([3.0, -7.0])
    assert np.allclose(aligned.iloc[-1][["x", "y"]].to_numpy(dtype=float), expected)
    assert np.allclose(to_reference(np.array([[0.5, 0.5]]))[0], expected)
    unaligned, identity = align(reference.head(2), moving)
    assert unaligned is moving and np.array_equal(identity(source), source)


def _frame(doc_ids: list[str]) -> pd.DataFrame:
    n = len(doc_ids)
    return pd.DataFrame(
        {
            "doc_id": doc_ids,
            "x": np.arange(n, dtype=float),
            "y": np.arange(n, dtype=float) * 2,
            "title": [f"<b onmouseover=alert(1)>Title {d}" for d in doc_ids],
            "url": [f"https://science.nasa.gov/{d}?a=1&b=2" for d in doc_ids],
            "division": ["Earth Science", "Heliophysics", None, "Earth Science", "Heliophysics", None][:n],
        }
    )


def _lit(figure: object, frame: pd.DataFrame) -> set[str]:
    """Documents drawn at full opacity in the colour traces of a map figure."""
    lit = set()
    for trace in figure.data:  # type: ignore[attr-defined]
        if trace.name in (HITS, QUERY):
            continue
        opacity = np.broadcast_to(trace.marker.opacity, len(trace.customdata))
        lit |= {frame["doc_id"].iat[int(row)] for row, o in zip(trace.customdata, opacity, strict=True) if o > 0.5}
    return lit


def test_selection_on_one_map_lights_up_the_same_documents_on_the_other() -> None:
    left = _frame(["a", "b", "c", "d", "e"])
    right = _frame(["e", "d", "x", "b", "a", "c"])  # another order, one document only here
    drawn = map_figure(left, colour_by="division")
    # what plotly sends back for a lasso around b and d: each point with its trace and its customdata row
    points = [
        {"curve_number": c, "point_index": i, "customdata": int(trace.customdata[i])}
        for c, trace in enumerate(drawn.data)
        for i in range(len(trace.customdata))
        if left["doc_id"].iat[int(trace.customdata[i])] in ("b", "d")
    ]
    assert len(points) == 2
    picked = selected_doc_ids(left["doc_id"].tolist(), [*points, {"curve_number": 9, "x": 1.0}])
    assert picked == ["b", "d"]

    other = map_figure(right, colour_by="division", selected=picked)
    assert _lit(other, right) == {"b", "d"}
    assert sum(len(t.customdata) for t in other.data) == len(right)  # dimmed, not hidden
    assert _lit(map_figure(right, colour_by="division"), right) == set(right["doc_id"])

    ringed = map_figure(right, colour_by="division", hits=["x", "a"], query=(1.0, 2.0, "<i>solar</i> wind"))
    hits = next(t for t in ringed.data if t.name == HITS)
    assert [right["doc_id"].iat[int(r)] for r in hits.customdata] == ["x", "a"]
    star = next(t for t in ringed.data if t.name == QUERY)
    assert star.hovertext[0] == f"query: {html.escape('<i>solar</i> wind')}"
    labels = " ".join(str(t) for trace in ringed.data for t in trace.hovertext)
    assert "<b onmouseover" not in labels and "&lt;b onmouseover=alert(1)&gt;" in labels and "&amp;b=2" in labels
    odd = _frame(["a", "b"]).assign(collection=["<i>odd</i>", None])
    assert sorted(t.name for t in map_figure(odd, colour_by="collection").data) == [
        "&lt;i&gt;odd&lt;/i&gt; (1)",
        "(none) (1)",
    ]


@pytest.mark.slow
def test_query_is_placed_among_the_documents_of_its_topic(ws: Workspace, tmp_path: Path) -> None:
    """With the packaged MiniLM (a random model has no topics): the 4 copies of each topic form a group, and
    a UMAP neighbourhood about that size places a query among its group (15 neighbours, mostly other
    topics, sometimes drag it elsewhere on 40 points)."""
    load_rows(ws, corpus_rows(4), tmp_path / "corpus.jsonl")
    embed(ws, "minilm")
    ws.update_settings("maps", "n_neighbors", 5)
    with pytest.raises(MapError, match="no map yet"):
        query_overlay(ws, "minilm", "solar wind")
    project(ws, "minilm")
    row = corpus_rows(4)[17]  # doc-1-7, topic 7
    overlay = query_overlay(ws, "minilm", passage_text(row), k=5)
    assert len(overlay.hits) == 5 and overlay.hits[0].doc_id == row["doc_id"]
    points = map_store.points(ws.db, "minilm")
    distance = (points["x"] - overlay.x) ** 2 + (points["y"] - overlay.y) ** 2
    nearest = points.loc[distance.nsmallest(4).index, "doc_id"]
    assert sum(doc_id.endswith("-7") for doc_id in nearest) >= 3


def test_clusters_are_named_by_their_documents_terms_and_take_in_new_points(map_ws: Workspace, tmp_path: Path) -> None:
    ws = map_ws
    project(ws, "tiny")
    clusters = cluster_map(ws, "tiny", k=4)
    assert [c.cluster for c in clusters] == [0, 1, 2, 3] and sum(c.size for c in clusters) == 40
    table = map_store.map_table(ws.db, "tiny")
    assert table["cluster"].notna().all()
    texts = {r["doc_id"]: f"{r['title']} {r['text']}".lower() for r in corpus_rows(4)}
    for cluster in clusters:
        members = table.loc[table["cluster"] == f"{cluster.cluster}: {cluster.label}", "doc_id"]
        assert len(members) == cluster.size
        words = " ".join(texts[d] for d in members)
        assert all(term in words for term in cluster.label.split(" · "))
        assert not {"page", "record"} & set(cluster.label.split(" · "))  # in every document: names no cluster

    late = {**corpus_rows()[0], "doc_id": "late", "url": "https://science.nasa.gov/late"}
    load_rows(ws, [late], tmp_path / "late.jsonl")
    embed(ws, "tiny")
    project(ws, "tiny")
    joined = map_store.map_table(ws.db, "tiny").set_index("doc_id").loc["late", "cluster"]
    assert joined in {f"{c.cluster}: {c.label}" for c in clusters}


def test_judging_queue_holds_each_document_once(map_ws: Workspace) -> None:
    db = map_ws.db
    assert queue_documents(db, ["doc-0-1", "doc-0-2", "doc-0-2", "unknown"], added_by="ana") == 2
    assert queue_documents(db, ["doc-0-2", "doc-0-3"], added_by="ben") == 1
    queued = queued_documents(db)
    assert sorted(queued["doc_id"]) == ["doc-0-1", "doc-0-2", "doc-0-3"]
    assert queued.set_index("doc_id").loc["doc-0-2", "added_by"] == "ana"
    assert queue_documents(db, ["doc-0-1"], added_by="ana", queue="synthetic") == 1
    assert dequeue(db, ["doc-0-1", "doc-0-9"]) == 1
    assert sorted(queued_documents(db)["doc_id"]) == ["doc-0-2", "doc-0-3"]
    assert queued_documents(db, "synthetic")["doc_id"].tolist() == ["doc-0-1"]


def test_a_second_map_job_is_refused_while_one_runs(map_ws: Workspace, tmp_path: Path) -> None:
    with file_lock(map_ws.maps_dir / "tiny.lock", exclusive=True, timeout=1.0), pytest.raises(MapBusy):
        project(map_ws, "tiny")
    with job_lock(tmp_path / "job.lock", MapBusy("busy")), pytest.raises(LockTimeout, match="inner"):
        raise LockTimeout("inner")  # the job's own wait on the database is not "busy"


@pytest.mark.parametrize("prefilter_max_ids", [1, 5_000])  # a scan of all passages, or a doc_id filter
def test_document_vectors_of_some_documents_match_the_full_set(map_ws: Workspace, prefilter_max_ids: int) -> None:
    map_ws.update_settings("vectors", "prefilter_max_ids", prefilter_max_ids)
    every_id, every = document_vectors(map_ws, "tiny")
    some_id, some = document_vectors(map_ws, "tiny", doc_ids=["doc-2-3", "doc-0-1", "nope"])
    assert sorted(some_id) == ["doc-0-1", "doc-2-3"]
    for doc_id, vector in zip(some_id, some, strict=True):
        assert np.allclose(vector, every[every_id.index(doc_id)])


def test_map_command_json_and_its_failures(map_ws: Workspace) -> None:
    runner = CliRunner()
    base = ["--workspace", str(map_ws.root)]
    done = runner.invoke(app, [*base, "map", "--retriever", "tiny", "--json"])
    assert done.exit_code == 0, done.output
    result = orjson.loads(done.stdout)
    assert set(result) == {"retriever", "points", "fitted_on", "seconds", "cached"}
    assert (result["retriever"], result["points"], result["fitted_on"], result["cached"]) == ("tiny", 40, 40, False)
    assert orjson.loads(runner.invoke(app, [*base, "map", "-r", "tiny", "--json"]).stdout)["cached"] is True

    clusters = runner.invoke(app, [*base, "map-clusters", "-r", "tiny", "-k", "3", "--json"])
    assert clusters.exit_code == 0, clusters.output
    assert sum(c["size"] for c in orjson.loads(clusters.stdout)["clusters"]) == 40

    for args, reason in [
        (["map", "-r", "nope"], "no retriever named 'nope'"),
        (["map", "-r", "bm25"], "full-text only"),
        (["map", "-r", "minilm"], "no vectors yet"),
    ]:
        failed = runner.invoke(app, [*base, *args, "--json"])
        assert failed.exit_code == 2 and reason in orjson.loads(failed.stdout)["error"]
