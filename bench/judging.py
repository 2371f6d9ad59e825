"""Judging speed: what one key press costs, and what the Judge page reads, on a workspace with many judgments.

Measures, on a workspace holding `--existing` judgments over `--queries` queries:
  1. reference: one bare DuckDB INSERT on a fresh connection to the same file (the floor of a short write);
  2. `record()` of one judgment (lock, connection, insert, commit), and `undo()`;
  3. the reads the Judge page makes per key press: the annotator's judgments in force (queue progress), the
     current query's and the session summary; and Cohen's kappa between the annotators (the page keeps it
     for 30 s, so it is not redone on every key press).
Target (issue #6: "judging must be fast, one action per judgment"): `record()` within a small factor of
the bare insert, and a key press (record + reads) a fraction of a second.

    python bench/judging.py --queries 1000 --existing 100000 --rounds 200
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from curation.core import Workspace
from curation.judging import Judgment, agreement, record, sessions, undo
from store.judgments import current_for_query, replace_annotator_judgments
from store.queries import upsert_queries

SET = "bench"


def timed(action: Callable[[int], object], rounds: int) -> list[float]:
    """Milliseconds of each of `rounds` calls of action(i)."""
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(name: str, times: list[float], reference: float | None = None) -> str:
    p50, p95 = statistics.median(times), statistics.quantiles(times, n=20)[18]
    ratio = f"  {p50 / reference:5.1f}x reference" if reference else ""
    return f"{name:<44} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--existing", type=int, default=100_000, help="judgments already in the workspace")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.open(Path(tmp) / "ws")
        query_ids = [f"q{i}" for i in range(args.queries)]
        upsert_queries(ws.db, SET, [{"query_id": q, "text": f"query {q}"} for q in query_ids], origin="benchmark")
        per_annotator = args.existing // 4
        for n, who in enumerate(("panel-a", "panel-b", "panel-c", "panel-d")):
            rows = [
                {"query_id": query_ids[i % args.queries], "doc_id": f"d{i // args.queries}", "grade": (i + n) % 4}
                for i in range(per_annotator)
            ]
            replace_annotator_judgments(ws.db, SET, who, rows)
        print(f"workspace: {args.queries:,} queries, {4 * per_annotator:,} judgments by 4 annotators")

        def bare_insert(i: int) -> None:
            con = duckdb.connect(str(ws.db.path))
            con.execute(
                "INSERT INTO judgments (query_set, query_id, doc_id, kind, grade, annotator) "
                "VALUES (?, ?, ?, 'grade', 1, 'reference')",
                [SET, query_ids[i % args.queries], f"r{i}"],
            )
            con.close()

        def judge(i: int) -> None:
            record(
                ws,
                Judgment(
                    query_set=SET, query_id=query_ids[i % args.queries], doc_id=f"d{i}", grade=i % 4,
                    annotator="ana", session_id="bench", source="blind-pool:a/vector+b/fts@10",
                ),
            )  # fmt: skip

        def page_reads(i: int) -> None:
            current_for_query(ws.db, SET, annotator="ana")
            current_for_query(ws.db, SET, query_id=query_ids[i % args.queries])
            sessions(ws, "bench", "ana")

        reference = timed(bare_insert, args.rounds)
        recorded = timed(judge, args.rounds)
        undone = timed(lambda i: undo(ws, SET, "ana", "bench"), args.rounds // 4)
        reads = timed(page_reads, max(args.rounds // 4, 5))
        kappa = timed(lambda i: agreement(ws, SET), 5)
        press = [r + p for r, p in zip(recorded, reads * (len(recorded) // len(reads) + 1), strict=False)]
        base = statistics.median(reference)
        print(summary("reference: bare DuckDB insert, fresh connection", reference))
        print(summary("record() one judgment", recorded, base))
        print(summary("undo()", undone, base))
        print(summary("page reads (in force, session)", reads))
        print(summary("kappa of 4 annotators (page: cached 30 s)", kappa))
        print(summary("one key press (record + page reads)", press))


if __name__ == "__main__":
    main()
