"""AppTest of the app shell, the Overview page and the Load page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from curation.core import Workspace
from curation.ingest import ingest
from store.documents import count_documents

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    ws = Workspace.open(tmp_path / "ws")
    monkeypatch.setenv("SDE_WORKBENCH_WORKSPACE", str(ws.root))
    return ws


def pages_file(tmp_path: Path, rows: list[dict[str, object]], extra: bytes = b"") -> Path:
    path = tmp_path / "pages.jsonl"
    path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in rows) + extra)
    return path


def test_overview_on_an_empty_and_a_loaded_workspace(app_ws: Workspace, tmp_path: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.metric[0].value == "0"
    assert "empty" in at.info[0].value
    assert at.sidebar.text_input(key="curator").label == "Curator"
    assert str(app_ws.root) in at.sidebar.code[0].value

    ingest(
        app_ws,
        [
            pages_file(
                tmp_path,
                [
                    {
                        "url": f"https://a.nasa.gov/{i}",
                        "full_text": "solar wind",
                        "division": d,
                        "document_type": "Data",
                    }
                    for i, d in enumerate(["Heliophysics", "Heliophysics", "Space Weather"])
                ],
            )
        ],
    )
    at.run()
    assert not at.exception
    assert [m.value for m in at.metric][:1] == ["3"]
    assert len(at.get("plotly_chart")) == 3  # division, document type, collection
    assert "division:unknown: 1" in at.warning[0].value


def test_load_page_previews_ingests_and_offers_rejects(app_ws: Workspace, tmp_path: Path) -> None:
    path = pages_file(
        tmp_path,
        [
            {
                "url": "https://b.nasa.gov/a",
                "title": "<script>alert(1)</script>",
                "full_text": "magnetosphere plasma waves",
                "division": "helio",
            }
        ],
        extra=b"{bad\n",
    )
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/load.py").run()
    at.radio[0].set_value("Path on this machine").run()
    at.text_input(key="load_path").input(str(path)).run()
    assert not at.exception
    assert at.subheader[0].value == "Preview (indexer)"
    preview = at.dataframe[0].value
    assert preview.iloc[0]["division"] == "Heliophysics"
    assert preview.iloc[0]["title"] == "<script>alert(1)</script>"  # shown as data, never as HTML
    assert "1 of the first rows would be rejected" in at.warning[0].value

    at.button[0].click().run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["2", "1", "0", "0", "1"]
    assert at.get("download_button")
    assert count_documents(app_ws.db) == 1


def test_load_page_reports_a_missing_path(app_ws: Workspace, tmp_path: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/load.py").run()
    at.radio[0].set_value("Path on this machine").run()
    at.text_input(key="load_path").input(str(tmp_path / "missing.jsonl")).run()
    assert "no such file" in at.error[0].value
