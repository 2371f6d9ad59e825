"""import-benchmark on the real SciFact files, and qrels semantics on a small BEIR folder."""

from __future__ import annotations

import json
from pathlib import Path

from curation.core import Workspace, workspace_status
from curation.ingest import import_benchmark
from store.documents import get_documents


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def test_import_real_scifact(ws: Workspace, scifact: Path) -> None:
    result = import_benchmark(ws, scifact, "scifact")

    corpus_lines = count_lines(scifact / "corpus.jsonl")
    query_lines = count_lines(scifact / "queries.jsonl")
    qrels_lines = count_lines(scifact / "qrels" / "train.tsv") - 1  # header line
    assert (result.documents, result.queries, result.judgments, result.rejected) == (
        corpus_lines,
        query_lines,
        qrels_lines,
        0,
    )
    status = workspace_status(ws)
    assert status.query_sets == {"scifact": query_lines}
    assert status.judgments_by_annotator == {"benchmark:scifact": qrels_lines}
    with ws.db.read() as con:  # CRLF line ends must not leak into ids
        bad = con.execute("SELECT count(*) FROM judgments WHERE doc_id LIKE '%\r%' OR query_id LIKE '%\r%'").fetchone()
        orphans = con.execute(
            "SELECT count(*) FROM judgments j WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id = j.doc_id)"
        ).fetchone()
    assert bad == (0,) and orphans == (0,)

    again = import_benchmark(ws, scifact, "scifact")  # re-import replaces, never doubles
    assert again.judgments == qrels_lines
    assert workspace_status(ws).judgments == qrels_lines


def test_zero_grades_are_explicit_and_bad_qrels_lines_are_rejected(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": f"d{i}", "title": f"T{i}", "text": f"text {i}"}) + "\n" for i in range(3))
    )
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "solar wind speed"}) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_bytes(
        b"query-id\tcorpus-id\tscore\r\nq1\td0\t1\r\nq1\td1\t0\r\nq9\td2\t1\r\nq1\td2\r\nq1\td2\thigh\r\n"
    )
    result = import_benchmark(ws, tmp_path, "mini")

    assert (result.documents, result.queries, result.judgments, result.rejected) == (3, 1, 2, 3)
    with ws.db.read() as con:
        grades = con.execute(
            "SELECT doc_id, grade, annotator FROM current_judgments WHERE query_set = 'mini' ORDER BY doc_id"
        ).fetchall()
    assert grades == [("d0", 1, "benchmark:mini"), ("d1", 0, "benchmark:mini")]
    assert get_documents(ws.db, ["d1"])[0]["collection"] == "mini"
