"""Judgments recorded one action at a time: changes and undo keep history, sessions, kappa, import/export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from curation.core import CuratorRequired, Workspace
from curation.judging import Judgment, agreement, history, sessions, undo
from store.judgments import current_grades
from tests.judged_data import SET, add_documents, add_queries, record_grade

CLI = str(Path(sys.executable).with_name("sde-workbench"))


@pytest.fixture
def judged_ws(ws: Workspace, tmp_path: Path) -> Workspace:
    add_documents(ws, tmp_path, {f"d{i}": "Heliophysics" for i in range(1, 7)})
    add_queries(ws, tmp_path, SET, {"q1": ("solar wind speed", None), "q2": ("coronal holes", None)})
    return ws


def grade(ws: Workspace, who: str, query: str, doc: str, value: int | None, kind: str = "grade") -> int:
    return record_grade(ws, who, query, doc, value, kind, session="session")


def current(ws: Workspace, who: str) -> dict[tuple[str, str], int]:
    frame = current_grades(ws.db, SET)
    frame = frame[frame["annotator"] == who]
    return {(q, d): int(g) for q, d, g in frame[["query_id", "doc_id", "grade"]].itertuples(index=False)}


def test_a_change_is_a_new_row_and_undo_steps_back_keeping_history(judged_ws: Workspace) -> None:
    ws = judged_ws
    grade(ws, "ana", "q1", "d1", 1)
    grade(ws, "ana", "q1", "d1", 3)  # a change of mind
    grade(ws, "ana", "q1", "d2", 0)
    grade(ws, "bob", "q1", "d1", 2)
    assert current(ws, "ana") == {("q1", "d1"): 3, ("q1", "d2"): 0}

    undone = undo(ws, SET, "ana", "session-ana")
    assert undone is not None and (undone.query_id, undone.doc_id) == ("q1", "d2")
    assert current(ws, "ana") == {("q1", "d1"): 3}
    assert undo(ws, SET, "ana", "session-ana").doc_id == "d1"  # type: ignore[union-attr]
    assert current(ws, "ana") == {("q1", "d1"): 1}  # back to the first grade
    assert current(ws, "bob") == {("q1", "d1"): 2}  # another annotator's judgments are untouched

    rows = history(ws, SET, "q1")
    assert len(rows) == 6 and rows["kind"].tolist().count("undo") == 2
    assert rows.loc[rows["kind"] != "undo", "undone"].tolist() == [False, True, True, False]
    assert undo(ws, SET, "bob", None) is not None and undo(ws, SET, "bob", None) is None  # nothing left


def test_judgments_need_an_annotator_and_a_consistent_grade(judged_ws: Workspace) -> None:
    with pytest.raises(ValidationError, match="enter your name as curator"):
        Judgment(query_set=SET, query_id="q1", doc_id="d1", grade=1, annotator="  ")
    with pytest.raises(CuratorRequired):
        undo(judged_ws, SET, " ")
    with pytest.raises(ValidationError):
        Judgment(query_set=SET, query_id="q1", doc_id="d1", kind="skip", grade=1, annotator="ana")
    with pytest.raises(ValidationError):
        Judgment(query_set=SET, query_id="q1", doc_id="d1", grade=4, annotator="ana")
    grade(judged_ws, "ana", "q1", "d3", None, kind="cant_tell")
    grade(judged_ws, "ana", "q1", "d4", None, kind="skip")
    assert current(judged_ws, "ana") == {}  # can't tell and skip say nothing about relevance


def test_cohen_kappa_matches_the_hand_computed_values(judged_ws: Workspace) -> None:
    ws = judged_ws
    ana = [3, 2, 0, 1, 3, 0]
    bob = [3, 1, 0, 1, 2, 0]
    pairs = [("q1", "d1"), ("q1", "d2"), ("q1", "d3"), ("q2", "d4"), ("q2", "d5"), ("q2", "d6")]
    for (q, d), a, b in zip(pairs, ana, bob, strict=True):
        grade(ws, "ana", q, d, (a + 1) % 4)  # a first opinion that is then changed: only the latest counts
        grade(ws, "ana", q, d, a)
        grade(ws, "bob", q, d, b)
    grade(ws, "bob", "q1", "d4", 3)  # judged by bob only: not a shared pair
    grade(ws, "eve", "q1", "d1", None, kind="cant_tell")  # no grade: eve shares no graded pair
    # Observed agreement: pairs 1, 3, 4, 6 agree -> p_o = 4/6.
    # Marginals over grades 0..3: ana [2, 1, 1, 2], bob [2, 2, 1, 1].
    # Chance agreement p_e = (2*2 + 1*2 + 1*1 + 2*1) / 6^2 = 9/36 = 1/4.
    # kappa = (p_o - p_e) / (1 - p_e) = (2/3 - 1/4) / (3/4) = 5/9.
    # Linear weights |i-j|/3: observed weighted disagreement (1 + 1)/3 = 2/3 (as counts); expected
    # sum |i-j| ana_i bob_j / 6 / 3 = (14 + 5 + 7 + 22) / 18 = 8/3; kappa_w = 1 - (2/3)/(8/3) = 3/4.
    # Quadratic weights (i-j)^2/9: observed (1 + 1)/9 = 2/9; expected (30 + 7 + 11 + 54) / 54 = 17/9;
    # kappa_w = 1 - (2/9)/(17/9) = 15/17.
    [linear] = agreement(ws, SET, weights="linear")
    [quadratic] = agreement(ws, SET, weights="quadratic")
    assert (linear.a, linear.b, linear.pairs) == ("ana", "bob", 6)
    assert linear.kappa == pytest.approx(5 / 9) and quadratic.kappa == pytest.approx(5 / 9)
    assert linear.weighted_kappa == pytest.approx(3 / 4)
    assert quadratic.weighted_kappa == pytest.approx(15 / 17)


def test_sessions_count_pairs_in_force_and_actions(judged_ws: Workspace) -> None:
    ws = judged_ws
    grade(ws, "ana", "q1", "d1", 1)
    grade(ws, "ana", "q1", "d1", 2)
    grade(ws, "ana", "q1", "d2", 2)
    undo(ws, SET, "ana", "session-ana")
    grade(ws, "bob", "q2", "d5", 0)
    summary = {s.session_id: s for s in sessions(ws)}
    assert (summary["session-ana"].pairs_judged, summary["session-ana"].actions) == (1, 4)
    assert (summary["session-bob"].pairs_judged, summary["session-bob"].actions) == (1, 1)
    ana = summary["session-ana"]
    assert 0 <= ana.seconds <= (ana.last_at - ana.started_at).total_seconds() + 1e-6
    assert [s.session_id for s in sessions(ws, "session-bob")] == ["session-bob"]


def cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "--workspace", str(ws.root), *args, "--json"], capture_output=True, text=True)


def test_cli_import_and_export_qrels_round_trip(judged_ws: Workspace, tmp_path: Path) -> None:
    ws = judged_ws
    qrels = tmp_path / "mine.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq1\td2\t0\r\nq9\td1\t1\r\nq2 d3\r\n")
    done = cli(ws, "judgments", "import", str(qrels), "--set", SET, "--annotator", "panel")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["judgments"], summary["rejected"]) == (2, 2)
    assert "q9" in Path(summary["rejects_file"]).read_text()
    assert current(ws, "panel") == {("q1", "d1"): 2, ("q1", "d2"): 0}

    trec = tmp_path / "out" / "panel.txt"
    done = cli(ws, "judgments", "export", "--set", SET, "--out", str(trec), "--judgments", "panel")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["format"] == "trec"
    assert trec.read_text().splitlines() == ["q1 0 d1 2", "q1 0 d2 0"]
    assert cli(ws, "judgments", "import", str(trec), "--set", SET, "--annotator", "again").returncode == 0
    assert current(ws, "again") == current(ws, "panel")  # TREC qrels read back as the same grades

    beir = tmp_path / "panel.tsv"
    assert cli(ws, "judgments", "export", "--set", SET, "--out", str(beir), "--judgments", "panel").returncode == 0
    assert beir.read_text().splitlines() == ["query-id\tcorpus-id\tscore", "q1\td1\t2", "q1\td2\t0"]

    grade(ws, "ana", "q1", "d1", 3)  # judged in the app: an import must not replace that history
    refused = cli(ws, "judgments", "import", str(qrels), "--set", SET, "--annotator", "ana")
    assert refused.returncode == 2 and "ana-import" in json.loads(refused.stdout)["error"]
    assert current(ws, "ana") == {("q1", "d1"): 3}
    missing = cli(ws, "judgments", "export", "--set", SET, "--out", str(beir), "--judgments", "nobody")
    assert missing.returncode == 2 and "nobody" in json.loads(missing.stdout)["error"]


def test_cli_agreement_reports_kappa(judged_ws: Workspace) -> None:
    for who, value in (("ana", 2), ("bob", 2)):
        grade(judged_ws, who, "q1", "d1", value)
        grade(judged_ws, who, "q1", "d2", 0)
    done = cli(judged_ws, "judgments", "agreement", "--set", SET)
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)["agreement"]
    assert (row["a"], row["b"], row["pairs"], row["kappa"]) == ("ana", "bob", 2, 1.0)
