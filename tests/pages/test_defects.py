"""The defects a curator met in the browser, each pinned by a test of the code that fixes it."""

from __future__ import annotations

import colorsys
from pathlib import Path

import pandas as pd
import pytest

from curation.core import Workspace
from curation.ingest import IngestOptions, preview, validate
from curation.judging import add_query, load_queries, natural_key, query_notes_of, save_query_note
from curation.maps import FIXED_COLOURS, map_figure
from curation.retrieval import highlight, snippet


def test_highlighting_marks_whole_words_only() -> None:
    text = "The sea and the seas; seasonal SeaWiFS seawater. Sea level."
    marked = highlight(text, "sea level")
    assert marked.count("<mark>") == 4
    assert "<mark>sea</mark>" in marked and "<mark>seas</mark>" in marked and "<mark>Sea</mark>" in marked
    assert "<mark>level</mark>" in marked
    assert "seasonal" in marked and "<mark>seasonal" not in marked and "<mark>SeaWiFS" not in marked


def test_a_snippet_is_short_skips_menu_lines_and_sits_around_the_query() -> None:
    menu = "Home | Data | About\nContact\nSearch\n"
    filler = "Background material about unrelated instruments and missions. " * 30
    text = menu + filler + "The aerosol optical depth product has a spatial resolution of 3 km. " + filler
    cut = snippet(text, "aerosol optical depth resolution", width=300)
    assert len(cut) <= 310 and "aerosol optical depth" in cut and cut.startswith("… ") and cut.endswith(" …")
    assert "Home | Data" not in cut
    assert snippet("Short text.", "anything") == "Short text."
    assert snippet(menu + filler, "nothing matches").startswith("Background material")


def test_verdict_colours_are_safe_for_colour_blind_readers() -> None:
    def hue(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hsv(r, g, b)[0] * 360

    for palette in FIXED_COLOURS.values():
        first, second = (palette[k] for k in palette if k not in ("unjudged", "queued"))
        assert not (90 <= hue(first) <= 150 and (hue(second) <= 20 or hue(second) >= 340))  # not green vs red
        assert {first.lower(), second.lower()} == {"#0072b2", "#e69f00"}  # Okabe-Ito blue and orange


def test_the_map_fills_its_width_and_writes_cluster_labels_on_the_map() -> None:
    frame = pd.DataFrame(
        {
            "doc_id": ["a", "b", "c"],
            "title": ["A", "B", "C"],
            "url": [None] * 3,
            "x": [0.0, 1.0, 2.0],
            "y": [0.0, 1.0, 0.5],
            "cluster": ["0: ozone <b>layer</b>", "0: ozone <b>layer</b>", "1: solar wind"],
        }
    )
    figure = map_figure(frame, colour_by="cluster", cluster_labels=True)
    assert figure.layout.yaxis.scaleanchor is None  # a 1:1 aspect made the plot a third of the page wide
    assert [a.text for a in figure.layout.annotations] == ["0: ozone &lt;b&gt;layer&lt;/b&gt;", "1: solar wind"]
    assert [(a.x, a.y) for a in figure.layout.annotations] == [(0.5, 0.5), (2.0, 0.5)]  # each cluster's middle
    assert not map_figure(frame, colour_by="cluster").layout.annotations


def test_query_ids_sort_as_people_count_them(ws: Workspace) -> None:
    for n in (10, 2, 1, 11):
        add_query(ws, "set", f"query number {n}", curator="ana")
    ids = load_queries(ws, "set")["query_id"].tolist()
    assert ids == sorted(ids, key=natural_key)
    assert sorted(["q10", "q2", "q1", "Q3"], key=natural_key) == ["q1", "q2", "Q3", "q10"]


def test_a_note_per_query_and_curator_replaced_when_edited(ws: Workspace) -> None:
    save_query_note(ws, "demo", "q1", "ana", "means the 3 km product")
    save_query_note(ws, "demo", "q1", "bo", "hard: two products")
    save_query_note(ws, "demo", "q1", "ana", "  the 3 km product only ")
    notes = query_notes_of(ws, "demo", "q1").set_index("annotator")["note"]
    assert notes.to_dict() == {"ana": "the 3 km product only", "bo": "hard: two products"}
    save_query_note(ws, "demo", "q1", "bo", "")
    assert list(query_notes_of(ws, "demo")["annotator"]) == ["ana"]


@pytest.mark.parametrize("bad", ["Contact SEDAC for access", "see the data portal", "www.nasa.gov/no-scheme"])
def test_text_that_is_no_web_address_never_becomes_a_doc_id(ws: Workspace, tmp_path: Path, bad: str) -> None:
    path = tmp_path / "rows.csv"
    pd.DataFrame(
        {"url": ["https://ok.nasa.gov/a", bad], "text": ["ozone data", "more ozone"], "id": [None, None]}
    ).to_csv(path, index=False)
    checked = validate(ws, path, IngestOptions(format="csv"))
    assert checked.valid == 1 and checked.rejected == 1
    assert "is not a web address" in next(iter(checked.reasons))
    with_ids = tmp_path / "with_ids.csv"
    pd.DataFrame({"id": ["a", "b"], "url": ["https://ok.nasa.gov/a", bad], "text": ["x", "y"]}).to_csv(with_ids)
    shown = preview(ws, with_ids, IngestOptions(format="csv"))
    assert [r["doc_id"] for r in shown.rows] == ["a", "b"] and shown.rows[1]["url"] is None  # kept in metadata
