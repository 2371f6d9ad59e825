"""AppTest of the app shell, the Overview page and the Load page."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from curation.core import Workspace
from curation.ingest import ingest
from store.documents import count_documents
from tests.job_helpers import finish_jobs

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


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The first table the page shows with `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


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
    preview = frame_with(at, "doc_id")
    assert preview.iloc[0]["division"] == "Heliophysics"
    assert preview.iloc[0]["title"] == "<script>alert(1)</script>"  # shown as data, never as HTML
    assert "would be rejected" in at.warning[0].value

    at.button(key="load_ingest").click().run()
    assert not at.exception
    assert [m.value for m in at.metric][-5:] == ["2", "1", "0", "0", "1"]
    assert at.get("download_button")
    assert count_documents(app_ws.db) == 1


def test_load_page_shows_the_mapping_and_checks_every_row_before_ingest(app_ws: Workspace, tmp_path: Path) -> None:
    rows = [
        {"url": f"https://data.nasa.gov/set/{i}", "name": f"Set {i}", "description": f"dataset {i} of ozone"}
        for i in range(30)
    ]
    rows[24]["url"] = rows[3]["url"]  # duplicates and an empty text beyond the first 20 rows
    rows[25]["url"] = rows[4]["url"]
    rows[26]["description"] = ""
    rows[27]["url"] = "Contact SEDAC for access"  # not a web address: it must not become a doc_id
    csv = tmp_path / "datasets.csv"
    pd.DataFrame(rows).assign(contact="sedac").to_csv(csv, index=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/load.py").run()
    at.radio[0].set_value("Path on this machine").run()
    at.text_input(key="load_path").input(str(csv)).run()
    at.text_input(key="load_collection").input("NASA POWER").run()
    at.selectbox(key="load_division").set_value("Earth Science").run()
    assert not at.exception
    mapping = frame_with(at, "document field").set_index("document field")["comes from"]
    assert (mapping["url"], mapping["title"], mapping["text"]) == ("url", "name", "description")
    assert mapping["division"] == mapping["collection"] == "(set for the whole file)"
    assert any("`contact`" in c.value for c in at.caption)  # what goes to metadata
    preview = frame_with(at, "doc_id")
    assert set(preview["division"]) == {"Earth Science"} and set(preview["collection"]) == {"NASA POWER"}
    checked = {m.label: m.value for m in at.metric}
    assert checked == {"Rows": "30", "Would land": "26", "Rejected": "2", "Duplicate ids": "2", "Empty texts": "1"}
    reasons = frame_with(at, "reason").set_index("reason")["rows"]
    assert reasons["missing text"] == 1 and any("not a web address" in r for r in reasons.index)

    at.button(key="load_ingest").click().run()
    assert not at.exception and count_documents(app_ws.db) == 26
    assert {"Inserted": "26"}.items() <= {m.label: m.value for m in at.metric}.items()
    assert "Collection: NASA POWER" in [c.value for c in at.caption]
    with app_ws.db.read() as con:
        assert con.execute("SELECT DISTINCT division, collection FROM documents").fetchall() == [
            ("Earth Science", "nasa_power")
        ]

    other = pages_file(tmp_path, [{"url": "https://b.nasa.gov/x", "full_text": "solar flares", "division": "helio"}])
    at.text_input(key="load_path").input(str(other)).run()
    assert "Inserted" not in [m.label for m in at.metric]  # the last ingest was of another file

    at.switch_page("pages/overview.py").run()
    assert not at.exception
    bars = [trace for chart in at.get("plotly_chart") for trace in json.loads(chart.proto.spec)["data"]]
    assert any("NASA POWER" in list(trace["y"]) for trace in bars)  # its name, not the key nasa_power


def test_load_page_reports_a_missing_path(app_ws: Workspace, tmp_path: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/load.py").run()
    at.radio[0].set_value("Path on this machine").run()
    at.text_input(key="load_path").input(str(tmp_path / "missing.jsonl")).run()
    assert "no such file" in at.error[0].value


def test_load_page_ingests_a_large_file_as_a_background_job(app_ws: Workspace, tmp_path: Path) -> None:
    app_ws.update_settings("jobs", "background_ingest_mb", 0)  # every file counts as large
    path = pages_file(tmp_path, [{"url": "https://b.nasa.gov/y", "full_text": "auroras", "division": "helio"}])
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/load.py").run()
    at.radio[0].set_value("Path on this machine").run()
    at.text_input(key="load_path").input(str(path)).run()
    assert at.button(key="load_ingest").label == "Ingest as a background job" and not at.metric  # checked on demand
    at.button(key="load_ingest").click().run()
    (job,) = finish_jobs(app_ws)
    assert job.kind == "ingest" and job.status == "done" and job.argv[:2] == ["ingest", str(path.resolve())]
    at.run()
    assert "Read 1: 1 new" in at.success[0].value and count_documents(app_ws.db) == 1
