"""The Judge queue is shared across sessions under `queue_version`: judging keeps it, a new run replaces it."""

from __future__ import annotations

from pathlib import Path

from curation.core import Workspace
from curation.judging import JudgingSetup, Judgment, RankingSource, build_queue, queue_version, record
from tests import judged_data


def test_queue_version_changes_with_a_new_run_not_with_judgments(ws: Workspace, tmp_path: Path) -> None:
    judged_data.build(ws, tmp_path)
    setup = JudgingSetup(query_set=judged_data.SET, a=RankingSource(run="A:tiny"), b=RankingSource(run="B:tiny"), k=3)
    first = queue_version(ws, setup)
    assert build_queue(ws, setup, p=0.9).a["q1"][0][0] == "d3"
    judgment = Judgment(
        query_set=judged_data.SET, query_id="q1", doc_id="d1", kind="grade", grade=2,
        annotator="ann", session_id="s", source=setup.source,
    )  # fmt: skip
    record(ws, judgment)
    assert queue_version(ws, setup) == first  # a key press does not rank again
    judged_data.store_run(ws, "A", {"q1": ["d1"], "q2": ["d4"], "q3": ["d6"]})  # run A made anew
    assert queue_version(ws, setup) != first
    assert queue_version(ws, setup.model_copy(update={"kept_only": True, "division": "Heliophysics"})) != first
