"""The bm25 index (`sde-workbench embed -r bm25`) against the floor of any LanceDB full-text index, same run.

N SDE-like documents (`bench/ingest.py`'s generator, 180-400 words) are ingested into a fresh workspace, then:
  1. reference: the documents' text read from DuckDB in one query, written to a LanceDB table in one write,
     and its FTS index built (what any bm25 index over these documents costs, with no chunking);
  2. the embed job: documents read in bulk, cut into passages, written, compacted, every index built.
Target (issue #16): 300k documents within 60 s on 2 cores.

    python bench/bm25.py --docs 300000
    python bench/bm25.py --docs 30000        # quick
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import generate  # noqa: E402
from curation.core import Workspace  # noqa: E402
from curation.ingest import ingest  # noqa: E402
from curation.retrieval import embed  # noqa: E402


def reference(ws: Workspace, folder: Path) -> float:
    """Seconds for one DuckDB read, one LanceDB write and the FTS index of the whole texts."""
    import lancedb
    from lancedb.index import FTS

    started = time.perf_counter()
    with ws.db.read() as con:
        table = con.execute("SELECT doc_id, title || '\n' || text AS text FROM documents").to_arrow_table()
    written = lancedb.connect(folder).create_table("reference", table, mode="overwrite")
    written.create_index("text", config=FTS())
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=30_000)
    args = parser.parse_args()
    os.environ.setdefault("LANCEDB_LOG", "error")
    with tempfile.TemporaryDirectory(prefix="bench-bm25-") as tmp:
        source = Path(tmp) / "documents.jsonl"
        generate(source, args.docs)
        ws = Workspace.open(Path(tmp) / "workspace")
        ingest(ws, [source])
        ref = reference(ws, Path(tmp) / "reference")
        result = embed(ws, "bm25")
        assert result.embedded == args.docs, result
        print(f"{args.docs:,} documents, {result.passages:,} passages, {os.cpu_count()} cores")
        print(f"reference: one read, one write, FTS index   {ref:8.1f} s")
        print(f"embed -r bm25                               {result.seconds:8.1f} s")
        target = 60 * args.docs / 300_000
        print(f"ratio job / reference {result.seconds / ref:.2f}; target {target:.0f} s at this size (60 s at 300k)")


if __name__ == "__main__":
    main()
