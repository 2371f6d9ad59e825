"""Ingest semantics: bad rows are reported precisely while good rows land; upserts; the ingest log."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from curation.core import InputError, Workspace
from curation.ingest import ingest, preview
from store.documents import count_documents, get_documents, recent_ingests

TEXT = "Parker Solar Probe FIELDS measures electric and magnetic fields in the solar corona and inner heliosphere."


def page(n: int, text: str = TEXT, **extra: object) -> dict[str, object]:
    return {"url": f"https://parkersolarprobe.nasa.gov/page/{n}/", "title": f"Page {n}", "full_text": text, **extra}


def line(record: object) -> bytes:
    return json.dumps(record).encode() + b"\n"


@pytest.fixture
def small_limit_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("SDE_WORKBENCH_INGEST__MAX_TEXT_BYTES", "1000")
    return Workspace.open(tmp_path / "workspace")


def read_rejects(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_one_bad_file_mixing_every_failure(small_limit_ws: Workspace, tmp_path: Path) -> None:
    ws = small_limit_ws
    bad = tmp_path / "crawl.jsonl"
    bad.write_bytes(
        line(page(1))  # 1 good
        + b'{"url": "https://parkersolarprobe.nasa.gov/broken", "full_text": "unterminated\n'  # 2 bad JSON
        + line({"title": "no id", "full_text": TEXT})  # 3 missing id/url
        + line({"url": "https://parkersolarprobe.nasa.gov/empty/", "full_text": "   "})  # 4 missing text
        + b'{"url": "https://parkersolarprobe.nasa.gov/latin1", "full_text": "caf\xe9"}\n'  # 5 invalid UTF-8
        + line(page(6, text="x" * 2000))  # 6 over the 1000-byte limit
        + line([1, 2, 3])  # 7 not an object
        + line(page(1, text=TEXT + " Again."))  # 8 duplicate of line 1
        + b"\n"  # 9 blank: ignored
        + line(page(10))  # 10 good
    )
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")

    result = ingest(ws, [bad, empty])

    assert (result.inserted, result.duplicates) == (2, 1)
    assert result.read == 9  # every non-blank line is a row met
    rejects = read_rejects(result.rejects_file)
    found = {(r["file"], r["line"]): r["reason"] for r in rejects}
    assert len(rejects) == result.rejected == 8
    expected = {
        "2": "invalid JSON",
        "3": "missing id and url",
        "4": "missing text",
        "5": "invalid UTF-8",
        "6": "larger than the 1,000-byte limit",
        "7": "expected a JSON object, got list",
        "8": "duplicate doc_id in this input, first at " + f"{bad} line 1",
    }
    for number, reason in expected.items():
        assert reason in found[(str(bad), number)], (number, found.get((str(bad), number)))
    assert "empty file" in found[(str(empty), "")]
    stored = get_documents(
        ws.db, ["https://parkersolarprobe.nasa.gov/page/1", "https://parkersolarprobe.nasa.gov/page/10"]
    )
    assert [d["text"] for d in stored] == [TEXT, TEXT]  # the first occurrence of the duplicate won


def test_reingest_is_a_noop_and_changes_are_updates(ws: Workspace, tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    first.write_bytes(line(page(1)) + line(page(2)))
    ingest(ws, [first])
    before = {
        d["doc_id"]: d
        for d in get_documents(
            ws.db, ["https://parkersolarprobe.nasa.gov/page/1", "https://parkersolarprobe.nasa.gov/page/2"]
        )
    }

    again = ingest(ws, [first])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)

    changed = tmp_path / "b.jsonl"
    changed.write_bytes(line(page(1, text=TEXT + " Updated.")) + line(page(2)) + line(page(3)))
    result = ingest(ws, [changed])
    assert (result.inserted, result.updated, result.unchanged) == (1, 1, 1)
    after = {d["doc_id"]: d for d in get_documents(ws.db, list(before))}
    one, two = "https://parkersolarprobe.nasa.gov/page/1", "https://parkersolarprobe.nasa.gov/page/2"
    assert after[one]["content_hash"] != before[one]["content_hash"]  # downstream results become stale
    assert after[one]["first_seen"] == before[one]["first_seen"] and after[one]["last_seen"] > before[one]["last_seen"]
    assert after[two]["content_hash"] == before[two]["content_hash"]
    assert count_documents(ws.db) == 3
    log = recent_ingests(ws.db)
    assert list(log["inserted"]) == [1, 0, 2]  # newest first


def test_nothing_readable_raises_and_stored_documents_survive(ws: Workspace, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(line(page(1)))
    ingest(ws, [good])
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"not json\n{also not\n")

    with pytest.raises(InputError, match="nothing could be read"):
        ingest(ws, [garbage])
    with pytest.raises(InputError, match="no such file"):
        ingest(ws, [tmp_path / "missing.jsonl"])
    with pytest.raises(InputError, match="unknown format"):
        (tmp_path / "notes.txt").write_text("hello")
        ingest(ws, [tmp_path / "notes.txt"])
    assert count_documents(ws.db) == 1


def test_large_input_is_staged_in_parallel_with_rows_in_input_order(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import curation.ingest.staging as staging

    monkeypatch.setattr(staging, "PARALLEL_MIN_BYTES", 1)  # small input, but through the process pool
    monkeypatch.setattr(staging, "BLOCK_BYTES", 700)  # a few lines per block
    path = tmp_path / "many.jsonl"
    rows = [page(n % 40) for n in range(100)]  # ids repeat: 60 duplicates spread over blocks and workers
    rows[55] = {"url": "https://parkersolarprobe.nasa.gov/no-text/"}
    path.write_bytes(b"".join(line(r) for r in rows))

    result = ingest(ws, [path])

    assert (result.read, result.inserted, result.duplicates, result.rejected) == (100, 40, 59, 60)
    rejects = read_rejects(result.rejects_file)
    duplicate_lines = sorted(int(r["line"]) for r in rejects if "duplicate" in r["reason"])
    assert duplicate_lines == [n + 1 for n in range(40, 100) if n != 55]
    stored = get_documents(ws.db, ["https://parkersolarprobe.nasa.gov/page/15"])[0]
    assert stored["source_line"] == 16  # the first occurrence is the one kept


def test_preview_maps_rows_without_writing(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(line(page(1, division="earth science")) + b"{bad\n")
    shown = preview(ws, path)
    assert shown.format.value == "indexer"  # full_text plus a division: the indexer export shape
    assert shown.rows[0]["doc_id"] == "https://parkersolarprobe.nasa.gov/page/1"
    assert shown.rows[0]["division"] == "Earth Science"
    assert shown.rejects[0].line == 2
    assert count_documents(ws.db) == 0
