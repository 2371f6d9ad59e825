"""A curator's judging history carried between workspaces: every row, merged without loss or duplication."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from curation.core import Workspace
from curation.judging import agreement, export_full, history, import_full, undo
from store.judgments import current_grades
from tests.judged_data import SET, add_documents, add_queries, record_grade

CLI = str(Path(sys.executable).with_name("sde-workbench"))


def workspace(root: Path) -> Workspace:
    ws = Workspace.open(root / "workspace")
    add_documents(ws, root, {f"d{i}": "Heliophysics" for i in range(1, 5)})
    add_queries(ws, root, SET, {"q1": ("solar wind speed", None), "q2": ("coronal holes", None)})
    return ws


def grade(ws: Workspace, who: str, query: str, doc: str, value: int | None, kind: str = "grade") -> int:
    return record_grade(ws, who, query, doc, value, kind, session="laptop")


def in_force(ws: Workspace) -> set[tuple]:
    return set(current_grades(ws.db, SET)[["query_id", "doc_id", "annotator", "grade"]].itertuples(index=False))


def recorded(ws: Workspace) -> list[tuple]:
    """Every row as recorded, ids left out (they are local to a workspace), undo rows as what they undo."""
    rows = history(ws, SET)
    by_id = rows.set_index("judgment_id")
    out = []
    for r in rows.itertuples(index=False):
        undone = None if pd.isna(r.undoes) else tuple(by_id.loc[int(r.undoes), ["query_id", "doc_id", "created_at"]])
        grade_value = None if pd.isna(r.grade) else int(r.grade)
        out.append((r.query_id, r.doc_id, r.kind, grade_value, r.annotator, r.session_id, r.created_at, undone))
    return sorted(out, key=str)


def test_full_export_moves_every_row_and_a_second_import_changes_nothing(tmp_path: Path) -> None:
    offline = workspace(tmp_path / "offline")
    grade(offline, "ana", "q1", "d1", 1)
    grade(offline, "ana", "q1", "d1", 3)  # a change of mind
    grade(offline, "ana", "q1", "d2", 0)
    undo(offline, SET, "ana", "laptop-ana")  # takes back d2
    grade(offline, "ana", "q2", "d3", None, kind="cant_tell")
    grade(offline, "ana", "q2", "d4", None, kind="skip")
    grade(offline, "bob", "q1", "d1", 2)
    grade(offline, "bob", "q2", "d3", 1)

    out = tmp_path / "offline.jsonl"
    exported = export_full(offline, SET, out)
    assert exported.rows == 8 and exported.queries == 2

    team = Workspace.open(tmp_path / "team")  # knows neither the set nor its queries yet
    merged = import_full(team, out)
    assert (merged.added, merged.already_there, merged.rejected) == (8, 0, 0)
    assert merged.annotators == ["ana", "bob"]
    assert recorded(team) == recorded(offline)
    expected = {("q1", "d1", "ana", 3), ("q1", "d1", "bob", 2), ("q2", "d3", "bob", 1)}
    assert in_force(team) == in_force(offline) == expected
    assert undo(team, SET, "ana", "laptop-ana").doc_id == "d4"  # type: ignore[union-attr]  # history continues

    again = import_full(team, out)
    assert (again.added, again.already_there) == (0, 8)
    assert len(history(team, SET)) == 9  # the 8 rows and the undo just made, nothing doubled


def test_merge_keeps_both_histories_and_the_latest_judgment_counts(tmp_path: Path) -> None:
    offline = workspace(tmp_path / "offline")
    grade(offline, "ana", "q1", "d1", 0)  # made first, on a laptop
    grade(offline, "ana", "q1", "d2", 3)
    team = workspace(tmp_path / "team")
    grade(team, "bob", "q1", "d1", 1)
    grade(team, "bob", "q1", "d2", 3)
    grade(team, "ana", "q1", "d1", 2)  # ana changed her mind later, in the team's workspace

    only_ana = export_full(offline, SET, tmp_path / "ana.jsonl", annotator="ana")
    assert only_ana.rows == 2
    merged = import_full(team, tmp_path / "ana.jsonl")
    assert merged.added == 2 and len(history(team, SET)) == 5
    # the laptop's older grade of (q1, d1) got a higher local id but does not override the later one
    assert ("q1", "d1", "ana", 2) in in_force(team) and ("q1", "d2", "ana", 3) in in_force(team)
    (kappa,) = agreement(team, SET)
    assert (kappa.a, kappa.b, kappa.pairs) == ("ana", "bob", 2)


def test_bad_lines_are_rejected_by_line_and_the_rest_lands(tmp_path: Path) -> None:
    offline = workspace(tmp_path / "offline")
    grade(offline, "ana", "q1", "d1", 2)
    grade(offline, "ana", "q1", "d2", 1)
    undo(offline, SET, "ana", "laptop-ana")
    out = tmp_path / "offline.jsonl"
    export_full(offline, SET, out)
    lines = out.read_text().splitlines()
    judgment_lines = [i for i, line in enumerate(lines) if "judgment" in json.loads(line)]
    broken = judgment_lines[1]  # the row the undo undoes
    lines[broken] = lines[broken].replace('"grade": 1', '"grade": "very"')
    out.write_text("\n".join(lines) + "\n")

    merged = import_full(Workspace.open(tmp_path / "team"), out)
    assert (merged.added, merged.rejected) == (1, 2)  # the broken row and the undo of it
    rejects = Path(merged.rejects_file).read_text()  # type: ignore[arg-type]
    assert f",{broken + 1}," in rejects and "undoes row 1" in rejects


def test_cli_round_trip(tmp_path: Path) -> None:
    offline = workspace(tmp_path / "offline")
    grade(offline, "ana", "q1", "d1", 2)
    grade(offline, "bob", "q1", "d1", 3)
    out = tmp_path / "full.jsonl"

    def cli(root: Path, *args: str) -> dict:
        done = subprocess.run([CLI, "--workspace", str(root), *args, "--json"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert (
        cli(tmp_path / "offline" / "workspace", "judgments", "export", "--set", SET, "--out", str(out), "--full")[
            "rows"
        ]
        == 2
    )
    team = tmp_path / "team"
    assert cli(team, "judgments", "import", str(out))["added"] == 2
    assert cli(team, "judgments", "import", str(out))["added"] == 0
    refused = subprocess.run(
        [CLI, "--workspace", str(team), "judgments", "import", str(tmp_path / "x.tsv")], capture_output=True, text=True
    )
    assert refused.returncode != 0 and "--set and --annotator" in refused.stderr
