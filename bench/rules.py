"""Curation patterns and near-duplicates at SDE scale, and the acceptance figures on real NASA data.

On `--docs` generated pages (20 collections with their own navigation lines, 5% junk URLs, 2% near-duplicate
copies on a mirror host with other navigation and one word changed):
  1. `filter --judge rules` with two curator patterns per collection: seconds and peak RSS (targets on 2 cores:
     under 30 s, under 3 GB); reference: one DuckDB pass counting the words of every page;
  2. `dedup` (MinHash LSH, rensa): seconds and peak RSS (targets: under 5 minutes, under 3 GB);
  3. recall of the stored clusters against exact Jaccard on a sample (planted pairs plus random pages);
  4. rensa against datasketch on the same sample: seconds per signature and recall at the same LSH bands.
Then, on ../shared/data/nasa (EJ datasets as their own collection, the scraped pages, the demo corpus): EJ
landing pages dropped by the word count or the search-results pattern, the kept share by rule, the demo's
planted junk dropped, and what one include pattern for the EJ collection keeps.

    nice -n 10 python bench/rules.py --docs 300000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import deque
from itertools import combinations
from pathlib import Path

from ingest import WORDS, timed  # bench/ingest.py, next to this script

from curation.core import Workspace, demo_dir
from curation.demo import build_demo
from curation.ingest import IngestOptions, ingest, normalize_url
from curation.relevancy import Pattern, lsh_bands, lsh_pairs, run_rules, save_patterns, shingles, signatures, verdicts
from store import duplicates as duplicate_store

CLI = str(Path(sys.executable).with_name("sde-workbench"))
NASA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nasa"
COLLECTIONS = 20
JUNK = ["tag/{w}/", "search?q={w}", "page/{n}/", "login", "category/{w}/", "news?page={n}"]


def generate(path: Path, docs: int, seed: int = 11) -> list[tuple[str, str]]:
    """Write the pages; returns the (original url, copy url) planted pairs."""
    rng = random.Random(seed)
    navs = [[f"Site {c} {w}" for w in rng.sample(WORDS, 6)] for c in range(COLLECTIONS)]
    mirror_nav = ["Mirror home", "About this mirror", "Report a broken link"]
    originals: deque[dict] = deque(maxlen=5000)  # copies come from recent pages; memory stays flat
    pairs = []
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(docs):
            if originals and rng.random() < 0.02:
                source = rng.choice(originals)
                body = source["body"].split(" ")
                body[len(body) // 2] = "edited"
                url = source["url"].replace("https://", "https://mirror.example.org/")
                record = {"url": url, "title": source["title"], "text": "\n".join([*mirror_nav, " ".join(body)])}
                record["collection"] = "mirror"
                pairs.append((normalize_url(source["url"]), normalize_url(url)))
            else:
                c = rng.randrange(COLLECTIONS)
                junk = rng.random() < 0.05
                tail = rng.choice(JUNK).format(w=rng.choice(WORDS), n=rng.randint(2, 9)) if junk else f"page-{i}"
                url = f"https://site{c}.nasa.gov/{rng.choice(WORDS)}/{tail}"
                body = " ".join(rng.choices(WORDS, k=rng.randint(180, 400)))
                record = {"url": url, "title": " ".join(rng.choices(WORDS, k=6)), "collection": f"site {c}"}
                record["text"] = "\n".join([*navs[c], body])
                if not junk:
                    originals.append({"url": url, "title": record["title"], "body": body})
            handle.write(json.dumps(record) + "\n")
    return pairs


def exact_pairs(tokens: dict[str, set[str]], threshold: float) -> set[frozenset[str]]:
    """Pairs of the sample at or above the Jaccard threshold, exactly (an inverted index finds candidates)."""
    index: dict[str, list[str]] = {}
    for doc_id, shingle_set in tokens.items():
        for s in shingle_set:
            index.setdefault(s, []).append(doc_id)
    candidates = {frozenset(p) for docs in index.values() if len(docs) < 50 for p in combinations(docs, 2)}
    return {p for p in candidates if jaccard(*(tokens[d] for d in p)) >= threshold}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def recall(found: set[frozenset[str]], truth: set[frozenset[str]]) -> float:
    return len(found & truth) / len(truth) if truth else 1.0


def compare_libraries(tokens: dict[str, set[str]], truth: set[frozenset[str]], threshold: float, num_perm: int) -> None:
    from datasketch import MinHash, MinHashLSH

    ids = list(tokens)
    sets = [sorted(tokens[d]) for d in ids]
    bands = lsh_bands(num_perm, threshold)
    start = time.perf_counter()
    hashes = signatures(sets, num_perm)
    rensa_s = time.perf_counter() - start
    rensa_pairs = lsh_pairs(hashes, list(range(len(ids))), threshold=threshold, num_perm=num_perm)
    start = time.perf_counter()
    sketches = MinHash.bulk([[s.encode() for s in t] for t in sets], num_perm=num_perm)
    datasketch_s = time.perf_counter() - start
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=(bands, num_perm // bands))
    for i, m in enumerate(sketches):
        lsh.insert(str(i), m)
    ds_pairs = {
        frozenset((ids[i], ids[int(j)]))
        for i, m in enumerate(sketches)
        for j in lsh.query(m)
        if int(j) > i and m.jaccard(sketches[int(j)]) >= threshold
    }
    rensa_found = {frozenset((ids[i], ids[j])) for i, j, _ in rensa_pairs}
    per = 1e6 / len(ids)
    print(f"  rensa      {rensa_s * per:8.1f} us/signature  recall {recall(rensa_found, truth):.3f}")
    print(f"  datasketch {datasketch_s * per:8.1f} us/signature  recall {recall(ds_pairs, truth):.3f}")
    print(f"  rensa is {datasketch_s / rensa_s:.1f}x faster per signature")


def scale(args: argparse.Namespace, folder: Path) -> None:
    rows = folder / "pages.jsonl"
    planted = generate(rows, args.docs)
    ws = Workspace.open(folder / "ws")
    started = time.perf_counter()
    ingest(ws, [rows], IngestOptions(format="jsonl"))
    print(f"{args.docs:,} pages ({len(planted):,} planted copies) ingested in {time.perf_counter() - started:.0f} s")
    patterns = []
    for c in range(COLLECTIONS):
        patterns.append(
            Pattern(kind="exclude", match="wildcard", pattern=f"site{c}.nasa.gov/orbit/*", scope=f"site_{c}")
        )
        patterns.append(Pattern(kind="include", match="exact", pattern=f"https://site{c}.nasa.gov/orbit/page-1"))
    save_patterns(ws, patterns, "bench")

    reference = "import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
    reference += "print(c.execute(\"SELECT sum(len(regexp_extract_all(text, '\\\\S+'))) FROM documents\").fetchone())"
    ref_s, _, _, ref_cpu = timed([sys.executable, "-c", reference, str(ws.root / "curation.duckdb")])
    rules_s, rules_mb, out, rules_cpu = timed([CLI, "-w", str(ws.root), "filter", "--judge", "rules", "--json"])
    print(f"rules:  {rules_s:6.1f} s ({rules_cpu:.1f} s CPU), peak {rules_mb:,.0f} MB  {json.loads(out)}")
    print("        (target < 30 s, < 3 GB)")
    print(f"        reference, one DuckDB pass counting words: {ref_s:.1f} s ({ref_cpu:.1f} s CPU); "
          f"rules {rules_s / ref_s:.1f}x")  # fmt: skip
    dedup_s, dedup_mb, out, dedup_cpu = timed([CLI, "-w", str(ws.root), "dedup", "--json"])
    print(f"dedup:  {dedup_s:6.1f} s ({dedup_cpu:.1f} s CPU), peak {dedup_mb:,.0f} MB  {json.loads(out)}")
    print("        (target < 300 s, < 3 GB)")

    rng = random.Random(3)
    sample_ids = {d for pair in rng.sample(planted, min(args.sample // 2, len(planted))) for d in pair}
    settings = ws.settings.dedup
    boilerplate = duplicate_store.boilerplate_lines(
        ws.db, share=settings.boilerplate_share, min_pages=settings.boilerplate_min_pages
    )
    tokens: dict[str, set[str]] = {}
    for batch in duplicate_store.document_batches(ws.db):
        for doc_id, collection, text in batch.itertuples(index=False):
            if doc_id in sample_ids or (len(tokens) < args.sample and rng.random() < args.sample / args.docs):
                tokens[doc_id] = set(shingles(text, boilerplate.get(collection, set()), settings.shingle_words))
    truth = exact_pairs(tokens, settings.threshold)
    clusters = json.loads(timed([CLI, "-w", str(ws.root), "dedup", "--list", "--json"])[2])["clusters"]
    found = {frozenset(p) for c in clusters for p in combinations(c["members"], 2) if set(p) <= tokens.keys()}
    print(f"recall of dedup against exact Jaccard >= {settings.threshold} on {len(tokens):,} sampled pages "
          f"({len(truth):,} true pairs): {recall(found, truth):.3f}")  # fmt: skip
    compare_libraries(tokens, truth, settings.threshold, settings.num_perm)


def nasa(folder: Path) -> None:
    """The acceptance figures on real NASA content."""
    if not (NASA / "ej_datasets.jsonl").exists():
        print(f"{NASA} not found: NASA figures skipped")
        return
    ws = Workspace.open(folder / "nasa")
    build_demo(ws, retriever=None)
    mapping = {"title": "dataset", "text": "description", "url": "source_link"}
    ingest(ws, [NASA / "ej_datasets.jsonl"], IngestOptions(format="jsonl", collection="EJ", column_map=mapping))
    ingest(ws, [NASA / "scraped_pages.jsonl"], IngestOptions(format="jsonl", collection="NASA Science"))
    run_rules(ws)
    table = verdicts(ws).set_index("doc_id")
    ej = table[table["collection"] == "ej"]
    landing = ej[~ej["url"].str.contains("search.earthdata.nasa.gov/search", regex=False)]
    wrong = landing[landing["rule"].isin(["min_words", "exclude:search_results"])]
    print(f"EJ landing pages dropped by the word count or search_results: {len(wrong)} of {len(landing)}")
    print(f"EJ kept: {int(ej['kept'].sum())} of {len(ej)}; dropped by rule: "
          f"{ej.loc[~ej['kept'].astype(bool), 'rule'].value_counts().to_dict()}")  # fmt: skip
    junk = {normalize_url(r["url"]) for r in csv.DictReader((demo_dir() / "planted_junk.tsv").open(), delimiter="\t")}
    dropped = sum(not table.loc[d, "kept"] for d in junk if d in table.index)
    print(f"demo planted junk dropped: {dropped} of {len(junk)} ({dropped / len(junk):.0%})")
    kept = table[table["kept"].astype(bool)]
    shares = (kept["collection"].value_counts() / table["collection"].value_counts()).dropna().round(3)
    print(f"kept share by collection: {shares.to_dict()}")
    rules = table.loc[~table["kept"].astype(bool), "rule"].value_counts()
    print(f"dropped by rule (all collections): {rules.to_dict()}")
    save_patterns(ws, [Pattern(kind="include", match="wildcard", pattern="*", scope="ej")], "bench")
    run_rules(ws)
    table = verdicts(ws)
    ej = table[table["collection"] == "ej"]
    print(f"after one include pattern for the EJ collection: {int(ej['kept'].sum())} of {len(ej)} EJ records kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=300_000)
    parser.add_argument("--sample", type=int, default=4000, help="pages sampled for recall")
    parser.add_argument("--skip-scale", action="store_true", help="only the NASA figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        nasa(Path(tmp))
        if not args.skip_scale:
            scale(args, Path(tmp))


if __name__ == "__main__":
    main()
