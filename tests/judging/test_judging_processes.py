"""Two processes judging one workspace at once lose nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from curation.core import Workspace
from store.judgments import current_grades, judgment_history
from tests.judged_data import SET, add_documents, add_queries

JUDGMENTS = 40
UNDO_EVERY = 8
DOCS = [f"d{i}" for i in range(1, 9)]
JUDGE = """
import sys
from curation.judging.judgments import Judgment, record, undo
from curation.core.workspace import Workspace

ws = Workspace.open(sys.argv[1])
who, n, every, docs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")
for i in range(n):
    query, doc, grade = f"q{i % 2 + 1}", docs[i % len(docs)], (i + len(who)) % 4
    record(ws, Judgment(query_set="tiny", query_id=query, doc_id=doc, grade=grade, annotator=who,
                        session_id=f"{who}-session", source="blind-pool:a/vector+b/fts@10"))
    if i % every == every - 1:
        undo(ws, "tiny", who, f"{who}-session")
"""


def expected(who: str) -> dict[tuple[str, str], int]:
    """What the script leaves in force: replay its judgments and undos in order."""
    live: list[tuple[str, str, int]] = []
    for i in range(JUDGMENTS):
        live.append((f"q{i % 2 + 1}", DOCS[i % len(DOCS)], (i + len(who)) % 4))
        if i % UNDO_EVERY == UNDO_EVERY - 1:
            live.pop()
    return {(q, d): g for q, d, g in live}  # the latest live row per pair counts


def test_two_processes_judging_at_once_lose_nothing(ws: Workspace, tmp_path: Path) -> None:
    add_documents(ws, tmp_path, dict.fromkeys(DOCS, "Heliophysics"))
    add_queries(ws, tmp_path, SET, {"q1": ("solar wind", None), "q2": ("coronal holes", None)})
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", JUDGE, str(ws.root), who, str(JUDGMENTS), str(UNDO_EVERY), ",".join(DOCS)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("ana", "bobby")
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err

    rows = judgment_history(ws.db, SET)
    undos = JUDGMENTS // UNDO_EVERY
    assert len(rows) == 2 * (JUDGMENTS + undos)
    assert rows["judgment_id"].is_unique
    grades = current_grades(ws.db, SET)
    for who in ("ana", "bobby"):
        mine = grades[grades["annotator"] == who]
        assert {(q, d): int(g) for q, d, g in mine[["query_id", "doc_id", "grade"]].itertuples(index=False)} == (
            expected(who)
        )
        undone = rows[(rows["annotator"] == who) & rows["undone"]]
        assert len(undone) == undos and (rows.loc[rows["annotator"] == who, "kind"] == "undo").sum() == undos
