"""A tiny judged workspace built through the real loaders and store: six documents, three queries,
graded judgments and two stored runs. Shared by the evaluation, export and page tests."""

from __future__ import annotations

from pathlib import Path

import orjson
import pandas as pd

from curation.core import Workspace
from curation.ingest import IngestOptions, import_queries, ingest
from store.judgments import replace_annotator_judgments
from store.runs import save_run

SET = "tiny"
BENCHMARK = "benchmark:tiny"
DOCS = {
    "d1": "Heliophysics",
    "d2": "Heliophysics",
    "d3": "Earth Science",
    "d4": "Planetary Science",
    "d5": "Astrophysics",
    "d6": "Heliophysics",
}
QUERIES = {
    "q1": ("solar wind speed", {"division": "Earth Science"}),
    "q2": ("mars crater ages", None),
    "q3": ("galaxy rotation curves", None),
}
# Graded judgments: q1 has an explicit not-relevant (d3 = 0).
GRADES = {("q1", "d1"): 3, ("q1", "d2"): 1, ("q1", "d3"): 0, ("q2", "d4"): 2, ("q3", "d5"): 1, ("q3", "d6"): 2}
RUN_A = {"q1": ["d3", "d1", "d2", "d5"], "q2": ["d5", "d6", "d4"], "q3": ["d5", "d6"]}
RUN_B = {"q1": ["d1", "d2", "d3"], "q2": ["d4"]}  # q3 unanswered


def add_documents(ws: Workspace, folder: Path, docs: dict[str, str]) -> None:
    path = folder / "docs.jsonl"
    path.write_bytes(
        b"\n".join(
            orjson.dumps({"doc_id": d, "title": f"Title {d}", "text": f"Text of document {d}.", "division": div})
            for d, div in docs.items()
        )
    )
    ingest(ws, [path], IngestOptions(format="jsonl"))


def add_queries(ws: Workspace, folder: Path, query_set: str, queries: dict[str, tuple[str, dict | None]]) -> None:
    path = folder / f"{query_set}-queries.jsonl"
    path.write_bytes(
        b"\n".join(orjson.dumps({"_id": q, "text": t, "metadata": m or {}}) for q, (t, m) in queries.items())
    )
    import_queries(ws, path, query_set, origin="test", rejects=[])


def grade(ws: Workspace, annotator: str, grades: dict[tuple[str, str], int], query_set: str = SET) -> None:
    rows = [{"query_id": q, "doc_id": d, "grade": g} for (q, d), g in grades.items()]
    replace_annotator_judgments(ws.db, query_set, annotator, rows)


def store_run(ws: Workspace, retriever: str, ranked: dict[str, list[str]], query_set: str = SET) -> str:
    rows = [
        {"query_id": q, "rank": i, "doc_id": d, "score": 1.0 - i / 100, "passage": None}
        for q, docs in ranked.items()
        for i, d in enumerate(docs, start=1)
    ]
    name = f"{retriever}:{query_set}"
    save_run(
        ws.db,
        {"name": name, "retriever": retriever, "query_set": query_set, "mode": "vector", "k": 100},
        pd.DataFrame(rows, columns=["query_id", "rank", "doc_id", "score", "passage"]),
    )
    return name


def build(ws: Workspace, folder: Path) -> Workspace:
    """The tiny set with the benchmark's graded judgments and runs of retrievers A and B."""
    add_documents(ws, folder, DOCS)
    add_queries(ws, folder, SET, QUERIES)
    grade(ws, BENCHMARK, GRADES)
    store_run(ws, "A", RUN_A)
    store_run(ws, "B", RUN_B)
    return ws


def write_beir(
    folder: Path,
    docs: dict[str, str],
    queries: dict[str, str],
    qrels: dict[str, dict[tuple[str, str], int]],
) -> Path:
    """A BEIR folder: docs {id: text}, queries {id: text}, and one qrels/<split>.tsv per split of `qrels`."""
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_bytes(
        b"".join(orjson.dumps({"_id": d, "title": f"Title {d}", "text": t}) + b"\n" for d, t in docs.items())
    )
    (folder / "queries.jsonl").write_bytes(
        b"".join(orjson.dumps({"_id": q, "text": t}) + b"\n" for q, t in queries.items())
    )
    for split, grades in qrels.items():
        lines = "".join(f"{q}\t{d}\t{g}\n" for (q, d), g in grades.items())
        (folder / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + lines)
    return folder


def beir_slice(scifact: Path, folder: Path, queries: int = 12, extra_docs: int = 30) -> Path:
    """The first queries of SciFact with their judged documents plus a few others, as a BEIR folder."""
    qrels = pd.read_csv(scifact / "qrels" / "train.tsv", sep="\t", dtype=str)
    lines = (scifact / "queries.jsonl").read_bytes().splitlines()
    chosen = [orjson.loads(line) for line in lines if orjson.loads(line)["_id"] in set(qrels["query-id"])][:queries]
    ids = {q["_id"] for q in chosen}
    qrels = qrels[qrels["query-id"].isin(ids)]
    wanted = set(qrels["corpus-id"])
    corpus = []
    with open(scifact / "corpus.jsonl", "rb") as handle:
        for line in handle:
            doc = orjson.loads(line)
            if doc["_id"] in wanted or len(corpus) < extra_docs:
                corpus.append(line.rstrip(b"\n"))
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_bytes(b"\n".join(corpus) + b"\n")
    (folder / "queries.jsonl").write_bytes(b"\n".join(orjson.dumps(q) for q in chosen) + b"\n")
    qrels.to_csv(folder / "qrels" / "train.tsv", sep="\t", index=False, lineterminator="\r\n")
    return folder


def record_grade(
    ws: Workspace, who: str, query: str, doc: str, value: int | None, kind: str = "grade", *, session: str = "session"
) -> int:
    """One judgment as the Judge page records it (session `{session}-{who}`, a blind-pool source)."""
    from curation.judging import Judgment, record

    return record(
        ws,
        Judgment(
            query_set=SET, query_id=query, doc_id=doc, kind=kind, grade=value, annotator=who,  # type: ignore[arg-type]
            session_id=f"{session}-{who}", source="blind-pool:a/vector+b/fts@10",
        ),
    )  # fmt: skip
