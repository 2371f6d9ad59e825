"""Every record shape in SDE.md lands on the document model; detection picks the right loader."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.core import Workspace
from curation.ingest import IngestOptions, SourceFormat, detect_format, ingest
from curation.ingest.jsonl_blocks import jsonl_range_lines, jsonl_ranges
from store.documents import get_documents

TEXT = "The Moderate Resolution Imaging Spectroradiometer measures aerosol optical depth over land and ocean."


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def doc(ws: Workspace, doc_id: str) -> dict[str, object]:
    rows = get_documents(ws.db, [doc_id])
    assert rows, f"{doc_id} was not stored"
    return rows[0]


def test_crawler_json_array_and_jsonl(ws: Workspace, tmp_path: Path) -> None:
    records = [
        {
            "url": "https://Ladsweb.nasa.gov/missions/modis/",
            "title": "MODIS",
            "full_text": TEXT,
            "content_type": "text/html",
            "seed": "https://ladsweb.nasa.gov/",
            "host": "ladsweb.nasa.gov",
            "depth": 1,
        },
        {
            "url": "https://ladsweb.nasa.gov/tools/",
            "title": "Tools",
            "full_text": TEXT + " Tools.",
            "content_type": "text/html",
            "seed": "https://ladsweb.nasa.gov/",
            "host": "ladsweb.nasa.gov",
            "depth": 2,
        },
    ]
    array = tmp_path / "crawl.json"
    array.write_text(json.dumps(records, indent=2))
    lines = write_jsonl(tmp_path / "crawl.jsonl", [{**records[0], "url": "https://other.nasa.gov/a"}])
    assert detect_format(array) is SourceFormat.crawler
    assert detect_format(lines) is SourceFormat.crawler

    result = ingest(ws, [array, lines], IngestOptions(collection="LAADS DAAC"))

    assert (result.read, result.inserted, result.rejected) == (3, 3, 0)
    stored = doc(ws, "https://ladsweb.nasa.gov/missions/modis")
    assert stored["url"] == "https://ladsweb.nasa.gov/missions/modis"
    assert stored["collection"] == "laads_daac"
    assert stored["source_format"] == "crawler"
    assert json.loads(stored["metadata"])["depth"] == 1
    assert stored["source_line"] == 1  # first element of the array


def test_indexer_export_takes_defaults_from_its_manifest(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "nasa_power"
    folder.mkdir()
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "collection_key": "nasa_power",
                "run_id": "r1",
                "document_count": 2,
                "collection_name": "NASA POWER",
                "division": "Earth Science",
                "document_type": "Data",
                "target": "sde-prod",
                "exported_at": "2026-05-01T00:00:00Z",
                "schema_version": "1.0",
            }
        )
    )
    write_jsonl(
        folder / "documents.jsonl",
        [
            {
                "url": "https://power.larc.nasa.gov/docs/",
                "title": "Docs",
                "full_text": TEXT,
                "document_type": "documentation",
                "division": "",
            },
            {
                "url": "https://power.larc.nasa.gov/data/",
                "title": "Data",
                "full_text": TEXT,
                "document_type": "Training and Education",
                "division": "earth_science",
            },
        ],
    )
    result = ingest(ws, [tmp_path])  # a folder: every data file under it, manifest used as a sidecar

    assert result.inserted == 2
    first = doc(ws, "https://power.larc.nasa.gov/docs")
    assert (first["division"], first["document_type"], first["collection"]) == (
        "Earth Science",
        "Documentation",
        "nasa_power",
    )
    second = doc(ws, "https://power.larc.nasa.gov/data")
    assert second["document_type"] == "Training and Education"
    assert second["taxonomy_flags"] == ["document_type:retired"]


def test_legacy_sinequa_parquet_dump(ws: Workspace, tmp_path: Path) -> None:
    table = pa.table(
        {
            "id": ["/SDE/heliophysics_data_portal/|https://hdp.nasa.gov/a/"],
            "url1": ["https://hdp.nasa.gov/a/"],
            "title": ["Solar wind data"],
            "collection": ["/SDE/heliophysics_data_portal/"],
            "treepath": ["/Heliophysics/Heliophysics Data Portal/"],
            "sourcestr56": ["Data"],
            "text": [TEXT],
            "yake": [[{"keyword": "solar wind", "score": 0.1}]],
        }
    )
    path = tmp_path / "dump.parquet"
    pq.write_table(table, path)
    assert detect_format(path) is SourceFormat.sinequa

    assert ingest(ws, [path]).inserted == 1
    stored = doc(ws, "https://hdp.nasa.gov/a")
    assert (stored["division"], stored["collection"], stored["document_type"]) == (
        "Heliophysics",
        "heliophysics_data_portal",
        "Data",
    )
    assert json.loads(stored["metadata"])["yake"] == [{"keyword": "solar wind", "score": 0.1}]


def test_cosmos_list_enriches_crawled_pages_without_erasing_text(ws: Workspace, tmp_path: Path) -> None:
    crawl = write_jsonl(
        tmp_path / "crawl.jsonl", [{"url": "https://emac.gsfc.nasa.gov/tool/", "title": "Tool", "full_text": TEXT}]
    )
    ingest(ws, [crawl])
    before = doc(ws, "https://emac.gsfc.nasa.gov/tool")
    cosmos = tmp_path / "cosmos.json"
    cosmos.write_text(
        json.dumps(
            {
                "count": 2,
                "next": None,
                "results": [
                    {
                        "url": "https://emac.gsfc.nasa.gov/tool/",
                        "title": "",
                        "document_type": "Software and Tools",
                        "file_extension": "html",
                        "tree_root": "Astrophysics/Models/EMAC: Exoplanet Modeling and Analysis Center/",
                        "tdamm_tag": None,
                    },
                    {
                        "url": "https://emac.gsfc.nasa.gov/new/",
                        "title": "New page",
                        "document_type": "Software and Tools",
                        "file_extension": "html",
                        "tree_root": "/Astrophysics/EMAC/",
                        "tdamm_tag": ["MMA_M_EM"],
                    },
                ],
            }
        )
    )
    assert detect_format(cosmos) is SourceFormat.cosmos

    result = ingest(ws, [cosmos])

    assert (result.inserted, result.updated) == (1, 1)
    after = doc(ws, "https://emac.gsfc.nasa.gov/tool")
    assert after["text"] == TEXT and after["title"] == "Tool"
    assert after["content_hash"] == before["content_hash"]  # metadata changed, content did not
    assert (after["division"], after["document_type"]) == ("Astrophysics", "Software and Tools")
    assert after["collection"] == "emac_exoplanet_modeling_and_analysis_center"


def test_beir_corpus_keeps_ids_and_metadata(ws: Workspace, tmp_path: Path) -> None:
    corpus = write_jsonl(
        tmp_path / "corpus.jsonl",
        [
            {"_id": "4983", "title": "Abstract", "text": TEXT, "metadata": {"url": "https://doi.org/x", "year": 2001}},
        ],
    )
    assert detect_format(corpus) is SourceFormat.beir
    ingest(ws, [corpus])
    stored = doc(ws, "4983")
    assert stored["url"] == "https://doi.org/x"
    assert json.loads(stored["metadata"]) == {"url": "https://doi.org/x", "year": 2001}


def test_generic_csv_with_a_column_mapping(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "datasets.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dataset", "description", "source_link", "Division"])
        writer.writerow(["Black Marble", TEXT, "https://blackmarble.gsfc.nasa.gov/", "Earth Science"])
        writer.writerow(["No text", "", "https://x.nasa.gov/", "Earth Science"])
    options = IngestOptions(
        column_map={"title": "dataset", "text": "description", "url": "source_link", "division": "Division"}
    )
    result = ingest(ws, [path], options)

    assert (result.inserted, result.rejected) == (1, 1)
    stored = doc(ws, "https://blackmarble.gsfc.nasa.gov/")
    assert (stored["title"], stored["division"]) == ("Black Marble", "Earth Science")


def test_generic_parquet_and_jsonl_use_usual_column_names(ws: Workspace, tmp_path: Path) -> None:
    parquet = tmp_path / "pages.parquet"
    pq.write_table(pa.table({"id": ["p1"], "name": ["Page one"], "body": [TEXT], "division": ["Planetary"]}), parquet)
    jsonl = write_jsonl(tmp_path / "pages.jsonl", [{"link": "https://pds.nasa.gov/a", "content": TEXT}])
    assert detect_format(parquet) is SourceFormat.parquet
    assert detect_format(jsonl) is SourceFormat.jsonl

    assert ingest(ws, [parquet, jsonl]).inserted == 2
    assert doc(ws, "p1")["division"] == "Planetary Science"
    assert doc(ws, "https://pds.nasa.gov/a")["text"] == TEXT


def test_forced_format_overrides_detection(ws: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"url": "https://a.nasa.gov/1", "full_text": TEXT, "division": "Astro"}])
    assert detect_format(path) is SourceFormat.indexer
    ingest(ws, [path], IngestOptions(format="crawler"))
    stored = doc(ws, "https://a.nasa.gov/1")
    assert stored["source_format"] == "crawler"
    assert stored["division"] is None  # crawler records carry no division


@pytest.mark.parametrize("value", ["Astrophysics", "astrophysics", "ASTRO", "/Astrophysics/Foo/"])
def test_division_spellings_and_tree_paths(ws: Workspace, tmp_path: Path, value: str) -> None:
    key = "tree_path" if value.startswith("/") else "division"
    path = write_jsonl(tmp_path / "x.jsonl", [{"id": "d", "text": TEXT, key: value}])
    ingest(ws, [path])
    assert doc(ws, "d")["division"] == "Astrophysics"


def test_unknown_division_is_kept_as_written_and_flagged(ws: Workspace, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [{"id": "d", "text": TEXT, "division": "Space Weather"}, {"id": "g", "text": TEXT, "division": "general"}],
    )
    ingest(ws, [path])
    assert (doc(ws, "d")["division"], doc(ws, "d")["taxonomy_flags"]) == ("Space Weather", ["division:unknown"])
    assert (doc(ws, "g")["division"], doc(ws, "g")["taxonomy_flags"]) == ("General", ["division:general"])


@pytest.mark.parametrize("block_bytes", [1, 7, 40, 10_000])
@pytest.mark.parametrize("ending", [b"\n", b""])
def test_jsonl_ranges_cover_every_line_once_with_its_number(tmp_path: Path, block_bytes: int, ending: bytes) -> None:
    lines = [b"{}\n", b"\n", b'{"a": "' + b"x" * 50 + b'"}\r\n', b"{bad\n", b'{"b": 1}' + ending]
    path = tmp_path / "blocks.jsonl"
    path.write_bytes(b"".join(lines))
    seen: list[tuple[int, bytes]] = []
    for first, offset, size in jsonl_ranges(path, block_bytes):
        assert first == len(seen) + 1  # workers number lines without seeing the blocks before theirs
        seen += [(first + i, raw) for i, raw in enumerate(jsonl_range_lines(path, offset, size))]
    assert seen == list(enumerate(lines, start=1))
