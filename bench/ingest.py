"""Ingest throughput and memory: `sde-workbench ingest` against plain DuckDB `read_json`, same file, same run.

Generates N SDE-like documents (indexer `documents.jsonl` shape), then measures, each in a fresh
process so peak RSS is its own:
  1. reference: `CREATE TABLE t AS SELECT * FROM read_json(file)` in DuckDB;
  2. `sde-workbench ingest file --json` into a fresh workspace;
  3. the same ingest again (every row unchanged: the no-op path).
Targets (issue #2): ingest rate >= 0.5x DuckDB's, peak RSS < 1.5 GB.

    python bench/ingest.py --docs 200000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DIVISIONS = ["Astrophysics", "Biological and Physical Sciences", "Earth Science", "Heliophysics", "Planetary Science"]
TYPES = ["Images", "Data", "Documentation", "Software and Tools", "Missions and Instruments"]
WORDS = [
    "satellite",
    "orbit",
    "aerosol",
    "optical",
    "depth",
    "spectrometer",
    "calibration",
    "radiance",
    "level",
    "granule",
    "netcdf",
    "hdf5",
    "magnetosphere",
    "plasma",
    "solar",
    "wind",
    "coronal",
    "mass",
    "ejection",
    "flare",
    "exoplanet",
    "transit",
    "photometry",
    "telescope",
    "mission",
    "instrument",
    "archive",
    "dataset",
    "product",
    "resolution",
    "daily",
    "monthly",
    "global",
    "ocean",
    "temperature",
    "ice",
    "mars",
    "lunar",
    "regolith",
    "spacecraft",
    "rover",
    "microgravity",
    "biology",
    "genome",
    "radiation",
    "heliosphere",
    "galaxy",
]


def generate(path: Path, docs: int, seed: int = 7) -> None:
    """Write `docs` indexer-shaped records of about 180-400 words (the SDE median is 183 words)."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(docs):
            division = rng.choice(DIVISIONS)
            words = rng.randint(180, 400)
            record = {
                "url": f"https://science.nasa.gov/{division.split()[0].lower()}/page-{i}/",
                "title": f"{' '.join(rng.choices(WORDS, k=6)).title()} - NASA Science",
                "full_text": " ".join(rng.choices(WORDS, k=words)),
                "document_type": rng.choice(TYPES),
                "division": division,
            }
            handle.write(json.dumps(record) + "\n")


def timed(command: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS (MB) of that child alone (os.wait4), its stdout, and its CPU seconds (user + system:
    on a shared machine the wall time also counts the others' work)."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{command[0]} failed with status {status}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, out.read(), usage.ru_utime + usage.ru_stime


DUCKDB_REFERENCE = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited')", [sys.argv[1]])
print(con.execute("SELECT count(*) FROM t").fetchone()[0])
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    args = parser.parse_args()
    cli = str(Path(sys.executable).with_name("sde-workbench"))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "documents.jsonl"
        generate(data, args.docs)
        size_mb = data.stat().st_size / 2**20
        print(f"input: {args.docs:,} documents, {size_mb:,.0f} MB")

        ref_s, ref_rss, ref_out, _ = timed(
            [sys.executable, "-c", DUCKDB_REFERENCE, str(data), str(Path(tmp) / "ref.duckdb")]
        )
        assert int(ref_out.split()[-1]) == args.docs
        ws = Path(tmp) / "workspace"
        ing_s, ing_rss, ing_out, _ = timed([cli, "--workspace", str(ws), "ingest", str(data), "--json"])
        first = json.loads(ing_out)
        again_s, again_rss, again_out, _ = timed([cli, "--workspace", str(ws), "ingest", str(data), "--json"])
        second = json.loads(again_out)
        assert first["inserted"] == args.docs and second["unchanged"] == args.docs, (first, second)

    ref_rate, ing_rate, again_rate = args.docs / ref_s, args.docs / ing_s, args.docs / again_s
    print(f"{'':28}{'seconds':>10}{'docs/s':>12}{'peak RSS MB':>14}")
    print(f"{'duckdb read_json (ref)':28}{ref_s:10.1f}{ref_rate:12,.0f}{ref_rss:14,.0f}")
    print(f"{'sde-workbench ingest':28}{ing_s:10.1f}{ing_rate:12,.0f}{ing_rss:14,.0f}")
    print(f"{'re-ingest (all unchanged)':28}{again_s:10.1f}{again_rate:12,.0f}{again_rss:14,.0f}")
    print(
        f"ingest / duckdb rate: {ing_rate / ref_rate:.2f} (target >= 0.50); peak RSS {ing_rss:,.0f} MB (target < 1536)"
    )


if __name__ == "__main__":
    main()
