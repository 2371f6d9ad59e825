"""The Map page through Streamlit's AppTest: build maps, select on one map, act on the selection, overlay a query."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from curation.core import WORKSPACE_ENV, Workspace
from curation.retrieval import embed
from store import verdicts as verdict_store
from store.queue import queued_documents
from tests.job_helpers import finish_jobs
from tests.retrieval_data import add_retriever, corpus_rows, load_rows

PAGE = Path(__file__).resolve().parents[2] / "pages" / "map.py"
HOSTILE = "<img src=x onerror=alert(1)> Sea surface"


@pytest.fixture
def page_ws(ws: Workspace, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """30 documents embedded by two retrievers whose spaces differ (a document prompt changes the second)."""
    rows = corpus_rows(3)
    rows[0]["title"] = HOSTILE
    load_rows(ws, rows, tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    add_retriever(ws, "tiny-b", tiny_model_dir, document_prompt="passage: ")
    embed(ws, "tiny")
    embed(ws, "tiny-b")
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))
    return ws


def _array(value: Any) -> np.ndarray:
    """A plotly JSON array: a list, or {"dtype", "bdata"} (base64) for numpy arrays."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def _traces(at: AppTest, chart: int) -> list[dict[str, Any]]:
    return json.loads(at.get("plotly_chart")[chart].proto.spec)["data"]


def _lit(at: AppTest, chart: int) -> set[str]:
    """Documents drawn at full opacity on a chart (its rows are the doc_ids the page kept for it)."""
    doc_ids = at.session_state[f"map_frame_{chart}"]["doc_id"].tolist()
    lit = set()
    for trace in _traces(at, chart):
        if "customdata" not in trace or "opacity" not in trace["marker"]:
            continue
        rows = _array(trace["customdata"])
        opacity = np.broadcast_to(_array(trace["marker"]["opacity"]), rows.shape)
        lit |= {doc_ids[int(row)] for row, o in zip(rows, opacity, strict=True) if o > 0.5}
    return lit


def _send(at: AppTest, chart: int, selection: dict[str, Any]) -> AppTest:
    """A selection event delivered as the browser does: AppTest has no plotly widget to set, so the chart's
    widget state is added to the others for the next run."""
    states = WidgetStates()
    states.CopyFrom(at._tree.get_widget_states())
    state = states.widgets.add()
    state.id = at.get("plotly_chart")[chart].proto.id
    state.string_value = json.dumps({"selection": selection})
    return at._run(states)


def _select(at: AppTest, chart: int, doc_ids: set[str]) -> AppTest:
    """A lasso around `doc_ids` on a chart, delivered as the browser does: the chart's widget state holds
    the selected points (plotly's curve and point numbers, x, y and customdata). AppTest has no plotly
    widget to set, so the state is added to the others for the next run."""
    rows = at.session_state[f"map_frame_{chart}"]["doc_id"].tolist()
    points = []
    for curve, trace in enumerate(_traces(at, chart)):
        if "customdata" not in trace:
            continue
        data, xs, ys = _array(trace["customdata"]), _array(trace["x"]), _array(trace["y"])
        for i, row in enumerate(data):
            if rows[int(row)] in doc_ids:
                points.append(
                    {
                        "curve_number": curve,
                        "point_number": i,
                        "point_index": i,
                        "x": float(xs[i]),
                        "y": float(ys[i]),
                        "customdata": int(row),
                    }  # fmt: skip
                )
    selection = {"points": points, "point_indices": sorted({p["point_index"] for p in points}),
                 "box": [], "lasso": [{"xref": "x", "yref": "y", "x": [0, 1], "y": [0, 1]}]}  # fmt: skip
    return _send(at, chart, selection)


def _button(at: AppTest, label: str) -> Any:
    return next(b for b in at.button if b.label.startswith(label))


def test_map_page_builds_maps_and_acts_on_a_linked_selection(page_ws: Workspace) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.session_state["curator"] = "ana"
    at.run()
    assert not at.exception
    assert "tiny has no map yet." in [c.value for c in at.caption] and not at.get("plotly_chart")
    at.selectbox(key="map_retriever").set_value("tiny").run()
    _button(at, "Build the map of tiny").click().run()
    assert not at.get("plotly_chart")  # a background job: its progress shows until it is done
    assert [job.status for job in finish_jobs(page_ws)] == ["done"]
    at.run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert any("30 of 30 points" in c.value for c in at.caption)
    hover = " ".join(str(t) for trace in _traces(at, 0) for t in trace.get("hovertext", []))
    assert "&lt;img src=x onerror=alert(1)&gt; Sea surface" in hover and "<img" not in hover

    at.selectbox(key="map_compare").set_value("tiny-b").run()
    _button(at, "Build the map of tiny-b").click().run()
    finish_jobs(page_ws)
    at.run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
    assert _lit(at, 0) == _lit(at, 1) == {r["doc_id"] for r in corpus_rows(3)}

    picked = {"doc-0-1", "doc-1-4", "doc-2-7"}
    _select(at, 0, picked)
    assert not at.exception
    assert at.dataframe[-1].value["doc_id"].tolist() == sorted(picked)
    assert _lit(at, 0) == _lit(at, 1) == picked  # the rest dimmed on both maps
    assert sum(len(_array(t["customdata"])) for t in _traces(at, 1) if "customdata" in t) == 30

    _button(at, "Queue for judging").click().run()
    assert sorted(queued_documents(page_ws.db)["doc_id"]) == sorted(picked)
    assert ("3 documents queued for judging (0 already were)", ":material/playlist_add:") in at.session_state[
        "_notices"
    ]  # a confirmation the app's sidebar shows as a toast after the rerun
    _button(at, "Drop 3").click().run()
    verdicts = verdict_store.verdict_table(page_ws.db, kept=False)
    assert sorted(verdicts["doc_id"]) == sorted(picked) and set(verdicts["decided_by"]) == {"ana"}
    at.selectbox(key="map_colour").set_value("judgment").run()
    names = {t["name"] for t in _traces(at, 1)}
    assert {"queued (3)", "unjudged (27)"} <= names
    assert at.get("download_button") and _lit(at, 1) == picked

    other = {"doc-0-5", "doc-0-6"}
    _select(at, 1, other)  # selecting on the second map moves the selection on both
    assert _lit(at, 0) == _lit(at, 1) == other
    _button(at, "Clear selection").click().run()
    assert _lit(at, 0) == _lit(at, 1) == {r["doc_id"] for r in corpus_rows(3)} and not at.get("download_button")


def test_map_page_overlays_a_query_and_clusters(page_ws: Workspace) -> None:
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.run()
    _button(at, "Build the map of tiny").click().run()
    finish_jobs(page_ws)
    at.run()
    at.text_input(key="map_query").set_value("solar wind plasma measurements").run()
    at.number_input(key="map_hits").set_value(4).run()
    assert not at.exception
    traces = {t["name"]: t for t in _traces(at, 0)}
    assert len(_array(traces["top hits"]["customdata"])) == 4
    assert len(traces["query"]["x"]) == 1 and "solar wind plasma" in traces["query"]["hovertext"][0]

    _button(at, "Cluster the map of tiny").click().run()
    assert not at.exception
    at.selectbox(key="map_colour").set_value("cluster").run()
    clusters = [t["name"] for t in _traces(at, 0) if "customdata" in t and t["name"] != "top hits"]
    assert len(clusters) == page_ws.settings.maps.clusters
    layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert len(layout["annotations"]) == len(clusters)  # each cluster's name on the map, not only in the legend
    first = clusters[0].rsplit(" (", 1)[0]
    at.multiselect(key="filter_cluster").set_value([first]).run()
    shown = sum(len(_array(t["customdata"])) for t in _traces(at, 0) if t["name"] not in ("top hits", "query"))
    assert shown == int(clusters[0].rsplit("(", 1)[1].rstrip(")"))


def test_map_page_is_in_the_app_and_says_what_to_do_first(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKSPACE_ENV, str(ws.root))
    at = AppTest.from_file(str(PAGE.parents[1] / "app.py"), default_timeout=60).run()
    at.switch_page("pages/map.py").run()
    assert not at.exception
    assert at.title[0].value == "Map" and "No retriever has vectors yet" in at.info[0].value


def test_a_dense_map_is_a_raster_and_a_box_selects_every_point_in_it(page_ws: Workspace) -> None:
    """Above `[maps] density_from` points the map is a density image under a sample of points; a box selection
    takes every point inside it (drawn or not), and the actions work on them."""
    page_ws.update_settings("maps", "density_from", 10)
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.session_state["curator"] = "ana"
    at.run()
    _button(at, "Build the map of tiny").click().run()
    finish_jobs(page_ws)
    at.run()
    assert not at.exception
    layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    assert layout["images"][0]["source"].startswith("data:image/png;base64,")
    frame = at.session_state["map_frame_0"]
    x0, x1 = float(frame["x"].min()), float(frame["x"].median())
    inside = set(frame.loc[frame["x"] <= x1, "doc_id"])
    box = {"xref": "x", "yref": "y", "x": [x0 - 1, x1], "y": [float(frame["y"].min()) - 1, float(frame["y"].max()) + 1]}
    _send(at, 0, {"points": [], "point_indices": [], "box": [box], "lasso": []})
    assert not at.exception
    assert set(at.dataframe[-1].value["doc_id"]) == inside and len(inside) >= 15
    _button(at, f"Keep {len(inside)}").click().run()
    verdicts = verdict_store.verdict_table(page_ws.db, kept=True)
    assert set(verdicts["doc_id"]) == inside
