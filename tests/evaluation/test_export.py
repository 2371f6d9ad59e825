"""Export: training pairs, BEIR and TREC round trips, split determinism and the no-leak guard."""

from __future__ import annotations

from pathlib import Path

import datasets
import orjson
import pandas as pd
import pytest

from curation.core import Workspace, benchmark_annotator, retrieval_text
from curation.evaluation import (
    ExportError,
    ExportOptions,
    LeakError,
    SplitError,
    SplitQuery,
    assign_splits,
    check_no_leak,
    export_benchmark,
    load_qrels,
    parse_split,
)
from curation.ingest import import_benchmark
from curation.retrieval import NoStoredRun
from curation.training import export_pairs
from store.runs import load_run
from tests import judged_data as data
from tests.judged_data import beir_slice


@pytest.fixture
def tiny(ws: Workspace, tmp_path: Path) -> Workspace:
    return data.build(ws, tmp_path)


def passage(doc: str) -> str:
    return retrieval_text(f"Title {doc}", f"Text of document {doc}.")


def test_pairs_take_negatives_judged_then_ranked_then_random(tiny: Workspace, tmp_path: Path) -> None:
    result = export_pairs(tiny, ExportOptions(query_set=data.SET, out=tmp_path / "pairs", negatives_from="A"))
    out = Path(result.out)
    frame = pd.read_parquet(out / "train.parquet")
    assert list(frame.columns) == ["anchor", "positive", "negative"]
    rows = list(frame.itertuples(index=False, name=None))
    # q1: positives d1 (3) then d2 (1); its negatives are the judged-not-relevant d3 first, then run A's
    # unjudged d5 (A ranks d3 d1 d2 d5).
    assert rows[:2] == [
        ("solar wind speed", passage("d1"), passage("d3")),
        ("solar wind speed", passage("d2"), passage("d5")),
    ]
    # q2: no judged negative; run A ranks d5, d6 (unjudged) above d4, so d5 is the hard negative.
    assert rows[2] == ("mars crater ages", passage("d4"), passage("d5"))
    # q3: A's top documents d5, d6 are both judged positives: never negatives; random unjudged ones instead.
    q3 = [r for r in rows if r[0] == "galaxy rotation curves"]
    assert [r[1] for r in q3] == [passage("d6"), passage("d5")]
    assert all(r[2] not in (passage("d5"), passage("d6")) for r in q3)
    assert result.negatives == {"judged": 1, "ranked": 2, "random": 2}
    assert result.runs == ["A:tiny"]
    # The same rows through every format.
    from_disk = datasets.load_from_disk(str(out / "dataset"))["train"]
    assert from_disk.column_names == ["anchor", "positive", "negative"]
    assert from_disk.to_pandas().equals(frame)
    jsonl = [orjson.loads(line) for line in (out / "train.jsonl").read_bytes().splitlines()]
    assert [tuple(r.values()) for r in jsonl] == rows
    assert datasets.load_dataset("parquet", data_files=str(out / "train.parquet"), split="train").num_rows == 5
    manifest = orjson.loads((out / "export.json").read_bytes())
    assert manifest["rows"] == {"train": 5} and "train.parquet" in manifest["files"]


def test_threshold_moves_grade_one_documents_to_negatives(tiny: Workspace, tmp_path: Path) -> None:
    result = export_pairs(tiny, ExportOptions(query_set=data.SET, out=tmp_path / "p", threshold=2))
    frame = pd.read_parquet(Path(result.out) / "train.parquet")
    # At threshold 2, q1's d2 (grade 1) is a judged negative: ordered after d3 (grade 0).
    q1 = frame[frame["anchor"] == "solar wind speed"]
    assert list(q1["positive"]) == [passage("d1")]
    assert list(q1["negative"]) == [passage("d3")]
    assert passage("d5") in set(frame[frame["anchor"] == "galaxy rotation curves"]["negative"])


def test_split_is_deterministic_by_query_text_and_guarded(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(SplitError, match="sum to 0.9"):
        parse_split("train=0.8,test=0.1")
    with pytest.raises(SplitError, match="NAME=FRACTION"):
        parse_split("train=0.8,test")
    fractions = parse_split("train=0.6,dev=0.2,test=0.2")
    queries = {f"q{i}": f"question number {i}" for i in range(20)}
    queries["dup"] = "  Question NUMBER 3 "  # the same question as q3 under another id
    split_queries = {q: SplitQuery(t) for q, t in queries.items()}
    first = assign_splits(split_queries, fractions, seed=7)
    assert first == assign_splits(dict(reversed(list(split_queries.items()))), fractions, seed=7)
    assert first["dup"] == first["q3"]
    sizes = {s: len({q for q, sp in first.items() if sp == s and q != "dup"}) for s in fractions}
    assert sizes == {"train": 12, "dev": 4, "test": 4}
    assert any(assign_splits(split_queries, fractions, seed=s) != first for s in range(8, 12))
    with pytest.raises(LeakError, match="'test' split"):
        check_no_leak(
            {"train": ["q5", "q6"], "test": ["dup5"]}, {**split_queries, "dup5": SplitQuery("Question  number 5")}
        )

    # Export end to end: the held-out queries never reach the training pairs.
    docs = {f"d{i}": "Earth Science" for i in range(20)}
    data.add_documents(ws, tmp_path, docs)
    data.add_queries(ws, tmp_path, "big", {q: (t, None) for q, t in queries.items() if q != "dup"})
    data.grade(ws, "alice", {(f"q{i}", f"d{i}"): 2 for i in range(20)}, query_set="big")
    result = export_pairs(ws, ExportOptions(query_set="big", out=tmp_path / "split", split=fractions, seed=7))
    assert result.queries == {"train": 12, "dev": 4, "test": 4}
    dataset = datasets.load_from_disk(str(Path(result.out) / "dataset"))
    assert set(dataset) == {"train", "dev", "test"}
    train_anchors = set(dataset["train"]["anchor"])
    held_out = {t for q, t in queries.items() if first[q] != "train"}
    assert len(train_anchors) == 12 and not train_anchors & held_out
    assert set(dataset["test"]["anchor"]) == {t for q, t in queries.items() if first[q] == "test" and q != "dup"}
    with pytest.raises(ExportError, match="split named 'train'"):
        export_pairs(ws, ExportOptions(query_set="big", split={"a": 0.5, "b": 0.5}))


def _snapshot(ws: Workspace, query_set: str) -> tuple[list, list, dict]:
    with ws.db.read() as con:
        documents = con.execute("SELECT doc_id, url, title, text, metadata FROM documents ORDER BY doc_id").fetchall()
        queries = con.execute(
            "SELECT query_id, text, metadata FROM queries WHERE query_set = ? ORDER BY query_id", [query_set]
        ).fetchall()
    return documents, queries, load_qrels(ws, query_set, benchmark_annotator(query_set)).grades


def test_beir_export_reimports_unchanged(scifact: Path, tmp_path: Path) -> None:
    source = Workspace.open(tmp_path / "source")
    import_benchmark(source, beir_slice(scifact, tmp_path / "slice"), "sf")
    data.grade(source, benchmark_annotator("sf"), {("0", "4983"): 0} | _benchmark_pairs(source, "sf"), "sf")
    result = export_benchmark(source, "beir", ExportOptions(query_set="sf", out=tmp_path / "beir"))
    out = Path(result.out)
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [
        "corpus.jsonl",
        "export.json",
        "queries.jsonl",
        "test.tsv",
    ]
    assert (out / "qrels" / "test.tsv").read_text().startswith("query-id\tcorpus-id\tscore\n")

    again = Workspace.open(tmp_path / "again")
    imported = import_benchmark(again, out, "sf")
    assert imported.rejected == 0
    assert _snapshot(again, "sf") == _snapshot(source, "sf")
    assert _snapshot(again, "sf")[2]["0"]["4983"] == 0  # an explicit "not relevant" survives

    # Into the workspace it came from: every document is unchanged.
    with source.db.read() as con:
        before = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    reimport = import_benchmark(source, out, "sf")
    with source.db.read() as con:
        last = con.execute(
            "SELECT inserted, updated, unchanged FROM ingests ORDER BY ingest_id DESC LIMIT 1"
        ).fetchone()
    assert reimport.documents == before and last == (0, 0, before)


def _benchmark_pairs(ws: Workspace, query_set: str) -> dict[tuple[str, str], int]:
    grades = load_qrels(ws, query_set, benchmark_annotator(query_set)).grades
    return {(q, d): g for q, docs in grades.items() for d, g in docs.items()}


def test_beir_split_folders_each_import(tiny: Workspace, tmp_path: Path) -> None:
    split = {"train": 0.67, "test": 0.33}
    result = export_benchmark(tiny, "beir", ExportOptions(query_set=data.SET, out=tmp_path / "b", split=split))
    out = Path(result.out)
    assert result.queries == {"train": 2, "test": 1}
    assert (out / "train" / "qrels" / "train.tsv").exists() and (out / "test" / "qrels" / "test.tsv").exists()
    seen = {}
    for split in ("train", "test"):
        target = Workspace.open(tmp_path / f"ws-{split}")
        import_benchmark(target, out / split, split)
        seen[split] = load_qrels(target, split, benchmark_annotator(split)).grades
    assert not set(seen["train"]) & set(seen["test"])
    assert seen["train"] | seen["test"] == load_qrels(tiny, data.SET).grades


def test_trec_round_trip(tiny: Workspace, tmp_path: Path) -> None:
    result = export_benchmark(tiny, "trec", ExportOptions(query_set=data.SET, out=tmp_path / "t"))
    out = Path(result.out)
    assert result.runs == ["B:tiny", "A:tiny"] or result.runs == ["A:tiny", "B:tiny"]
    # Read back as trec_eval does: whitespace-separated columns; a run is ordered by descending score.
    qrels = pd.read_csv(out / "qrels.txt", sep=" ", header=None, names=["q", "iter", "d", "g"], dtype=str)
    grades: dict[str, dict[str, int]] = {}
    for q, d, g in qrels[["q", "d", "g"]].itertuples(index=False):
        grades.setdefault(q, {})[d] = int(g)
    assert grades == load_qrels(tiny, data.SET).grades
    for run_name, file in (("A:tiny", "A_tiny.txt"), ("B:tiny", "B_tiny.txt")):
        read = pd.read_csv(out / "runs" / file, sep=" ", header=None, names=["q", "Q0", "d", "rank", "score", "tag"])
        assert set(read["Q0"]) == {"Q0"} and set(read["tag"]) == {file.removesuffix(".txt")}
        read = read.astype({"q": str}).sort_values(["q", "score"], ascending=[True, False])
        stored = load_run(tiny.db, run_name)
        expected = stored.groupby("query_id")["doc_id"].apply(list).to_dict()
        assert read.groupby("q")["d"].apply(list).to_dict() == expected
    only_a = export_benchmark(tiny, "trec", ExportOptions(query_set=data.SET, out=tmp_path / "t", runs=["A"]))
    assert only_a.runs == ["A:tiny"] and not (out / "runs" / "B_tiny.txt").exists()
    with pytest.raises(NoStoredRun):
        export_benchmark(tiny, "trec", ExportOptions(query_set=data.SET, out=tmp_path / "t2", runs=["C"]))


def test_exports_hold_no_api_keys_and_spare_foreign_folders(
    tiny: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-do-not-export-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    options = ExportOptions(query_set=data.SET, split={"train": 0.5, "test": 0.5})
    for result in (export_pairs(tiny, options), *(export_benchmark(tiny, kind, options) for kind in ("beir", "trec"))):
        assert Path(result.out).parent == tiny.exports_dir
        for file in Path(result.out).rglob("*"):
            assert not file.is_file() or secret.encode() not in file.read_bytes(), file
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not an earlier export"):
        export_benchmark(tiny, "beir", ExportOptions(query_set=data.SET, out=foreign))
    assert (foreign / "notes.txt").read_text() == "keep me"
