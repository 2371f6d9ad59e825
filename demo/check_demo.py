#!/usr/bin/env python3
"""Validate the SDE Workbench demo data set (standard library only).

Usage: python3 demo/check_demo.py [DEMO_DIR]

Checks the indexer-export corpus (corpus/<collection_key>/documents.jsonl +
manifest.json), the planted junk list (planted_junk.tsv), the BEIR queries
(queries.jsonl) and qrels (qrels/test.tsv). Prints counts; exits 1 on any error.
"""

import json
import os
import re
import statistics
import sys
from collections import Counter, defaultdict
from datetime import datetime
from urllib.parse import urlsplit

DIVISIONS = ["Astrophysics", "Biological and Physical Sciences", "Earth Science", "Heliophysics", "Planetary Science"]
PLACEHOLDER_DIVISION = "General"
DOC_TYPES = ["Images", "Data", "Documentation", "Software and Tools", "Missions and Instruments"]
RETIRED_DOC_TYPE = "Training and Education"
DOC_FIELDS = {"url", "title", "full_text", "document_type", "division"}
MANIFEST_FIELDS = {
    "collection_key",
    "run_id",
    "document_count",
    "collection_name",
    "division",
    "document_type",
    "target",
    "exported_at",
    "schema_version",
}
JUNK_KINDS = {
    "contact",
    "gallery",
    "figure",
    "login",
    "search",
    "archive",
    "feed",
    "sitemap",
    "print",
    "pagination",
    "media",
    "error",
    "near_empty",
}
BANNED_WORDS = [
    "photo",
    "photos",
    "gallery",
    "contact",
    "figure",
    "figures",
    "login",
    "signin",
    "search",
    "tag",
    "category",
    "author",
    "feed",
    "rss",
    "sitemap",
    "print",
    "share",
    "page=",
    "archive",
]
MEDIA_EXT = (
    ".pdf",
    ".zip",
    ".gz",
    ".tar",
    ".tgz",
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".tif",
    ".tiff",
    ".mp4",
    ".mov",
    ".avi",
    ".mp3",
    ".wav",
    ".xlsx",
    ".xls",
    ".docx",
    ".doc",
    ".pptx",
    ".ppt",
    ".csv",
    ".hdf",
    ".h5",
    ".nc",
    ".fits",
    ".cdf",
    ".exe",
    ".dmg",
)
DATE_ARCHIVE = re.compile(r"/(19|20)\d\d/(0[1-9]|1[0-2])(/|$)")

# what each planted-junk kind must show (in addition to the generic rule)
KIND_FEATURE = {
    "contact": lambda u, p: "contact" in p,
    "gallery": lambda u, p: "gallery" in p or "photo" in p,
    "figure": lambda u, p: "figure" in p,
    "login": lambda u, p: "/login" in p or "/signin" in p,
    "search": lambda u, p: "search" in p and ("?q=" in u or "/search" in p),
    "archive": lambda u, p: any(s in p for s in ("/tag/", "/category/", "/author/")) or bool(DATE_ARCHIVE.search(p)),
    "feed": lambda u, p: "feed" in p or "rss" in p,
    "sitemap": lambda u, p: "sitemap" in p,
    "print": lambda u, p: "print" in u.lower() or "share" in u.lower(),
    "pagination": lambda u, p: "page=" in u.lower(),
    "media": lambda u, p: p.endswith(MEDIA_EXT),
}

MIN_GOOD_WORDS, MAX_GOOD_WORDS = 150, 450
JUNK_SHORT_WORDS = 60
NEAR_EMPTY_WORDS = 40

errors = []
warnings = []


def err(msg):
    errors.append(msg)


def words(text):
    return len(text.split())


def url_features(url):
    """Rule-filter features of a URL (empty list = looks like a clean content page)."""
    low = url.lower()
    parts = urlsplit(low)
    path = parts.path
    feats = [w for w in BANNED_WORDS if w in low]
    if parts.query:
        feats.append("query-string")
    if path.endswith(MEDIA_EXT):
        feats.append("media-extension")
    if DATE_ARCHIVE.search(path):
        feats.append("date-archive")
    return feats


def slugify(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def load_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                err(f"{path}:{n}: blank line")
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                err(f"{path}:{n}: invalid JSON ({e})")
    return rows


def main():
    demo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
    corpus_dir = os.path.join(demo, "corpus")
    if not os.path.isdir(corpus_dir):
        print(f"FAIL: no corpus folder in {demo}")
        return 1

    # ---------------- corpus ----------------
    docs = {}  # url -> record (+ _collection)
    per_collection = {}
    collections = sorted(d for d in os.listdir(corpus_dir) if os.path.isdir(os.path.join(corpus_dir, d)))
    if not 12 <= len(collections) <= 16:
        err(f"expected 12-16 collections, found {len(collections)}")
    for key in collections:
        cdir = os.path.join(corpus_dir, key)
        dpath, mpath = os.path.join(cdir, "documents.jsonl"), os.path.join(cdir, "manifest.json")
        if not os.path.isfile(dpath) or not os.path.isfile(mpath):
            err(f"{key}: missing documents.jsonl or manifest.json")
            continue
        with open(mpath, encoding="utf-8") as fh:
            man = json.load(fh)
        if set(man) != MANIFEST_FIELDS:
            err(f"{key}/manifest.json: fields {sorted(set(man) ^ MANIFEST_FIELDS)} differ from the spec")
        if man.get("collection_key") != key:
            err(f"{key}/manifest.json: collection_key {man.get('collection_key')!r} != folder name")
        if slugify(man.get("collection_name", "")) != key:
            err(f"{key}/manifest.json: collection_key is not the slug of {man.get('collection_name')!r}")
        if man.get("division") not in DIVISIONS:
            err(f"{key}/manifest.json: division {man.get('division')!r} not a real division")
        if man.get("document_type") not in DOC_TYPES:
            err(f"{key}/manifest.json: document_type {man.get('document_type')!r} not valid")
        if man.get("schema_version") != "1.0":
            err(f"{key}/manifest.json: schema_version must be '1.0'")
        if not man.get("target") or not man.get("run_id"):
            err(f"{key}/manifest.json: empty target or run_id")
        try:
            ts = datetime.fromisoformat(str(man.get("exported_at", "")).replace("Z", "+00:00"))
            if ts.year != 2026:
                err(f"{key}/manifest.json: exported_at not in 2026")
        except ValueError:
            err(f"{key}/manifest.json: exported_at is not ISO 8601")
        rows = load_jsonl(dpath)
        if man.get("document_count") != len(rows):
            err(f"{key}: manifest document_count {man.get('document_count')} != {len(rows)} lines")
        per_collection[key] = len(rows)
        for n, rec in rows:
            where = f"{key}/documents.jsonl:{n}"
            if not isinstance(rec, dict) or set(rec) != DOC_FIELDS:
                err(f"{where}: fields must be exactly {sorted(DOC_FIELDS)}")
                continue
            for f in DOC_FIELDS:
                if not isinstance(rec[f], str) or not rec[f].strip():
                    err(f"{where}: field {f} empty or not a string")
            if rec["division"] not in DIVISIONS + [PLACEHOLDER_DIVISION]:
                err(f"{where}: unknown division {rec['division']!r}")
            if rec["document_type"] not in DOC_TYPES + [RETIRED_DOC_TYPE]:
                err(f"{where}: unknown document_type {rec['document_type']!r}")
            if not rec["url"].startswith("https://"):
                err(f"{where}: url is not https")
            host = urlsplit(rec["url"]).hostname or ""
            if not (host == "nasa.gov" or host.endswith(".nasa.gov")):
                err(f"{where}: host {host} is not on nasa.gov")
            if rec["url"] in docs:
                err(f"{where}: duplicate url {rec['url']}")
            docs[rec["url"]] = dict(rec, _collection=key)

    # ---------------- planted junk ----------------
    junk = {}
    jpath = os.path.join(demo, "planted_junk.tsv")
    with open(jpath, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if not lines or lines[0] != "url\tkind":
        err("planted_junk.tsv: header must be 'url<TAB>kind'")
    for n, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 2:
            err(f"planted_junk.tsv:{n}: expected 2 columns")
            continue
        url, kind = parts
        if kind not in JUNK_KINDS:
            err(f"planted_junk.tsv:{n}: unknown kind {kind!r}")
        if url in junk:
            err(f"planted_junk.tsv:{n}: duplicate url")
        junk[url] = kind
    for url, kind in junk.items():
        rec = docs.get(url)
        if rec is None:
            err(f"planted junk url not in corpus: {url}")
            continue
        wc = words(rec["full_text"])
        feats = url_features(url)
        if not feats and wc >= JUNK_SHORT_WORDS:
            err(f"junk {url}: no rule feature and {wc} words (>= {JUNK_SHORT_WORDS})")
        path = urlsplit(url.lower()).path
        if kind in KIND_FEATURE and not KIND_FEATURE[kind](url, path):
            err(f"junk {url}: kind {kind} but URL lacks the matching feature")
        if kind == "error" and wc >= JUNK_SHORT_WORDS:
            err(f"junk {url}: error page has {wc} words")
        if kind == "near_empty" and wc >= NEAR_EMPTY_WORDS:
            err(f"junk {url}: near-empty page has {wc} words")

    # ---------------- good documents ----------------
    good = {u: r for u, r in docs.items() if u not in junk}
    good_wc = []
    nav_pages = 0
    titles = Counter()
    for url, rec in good.items():
        wc = words(rec["full_text"])
        good_wc.append(wc)
        if not MIN_GOOD_WORDS <= wc <= MAX_GOOD_WORDS:
            err(f"good page {url}: {wc} words (must be {MIN_GOOD_WORDS}-{MAX_GOOD_WORDS})")
        feats = url_features(url)
        if feats:
            err(f"good page {url}: URL has junk features {feats}")
        if rec["full_text"].startswith("Skip to main content"):
            nav_pages += 1
        titles[rec["title"]] += 1
    for t, c in titles.items():
        if c > 1:
            err(f"good title used {c} times: {t}")

    total = len(docs)
    share = len(junk) / total if total else 0.0
    if share < 0.15:
        err(f"junk share {share:.1%} < 15%")
    elif share < 0.16:
        warnings.append(f"junk share {share:.1%} is below the 16% target")
    if len(good) < 270:
        err(f"only {len(good)} good documents (need >= 270)")
    if nav_pages < 5:
        err(f"only {nav_pages} good pages start with navigation boilerplate (need several)")
    junk_colls = Counter(docs[u]["_collection"] for u in junk if u in docs)
    if len(junk_colls) < len(per_collection):
        warnings.append(f"junk present in {len(junk_colls)} of {len(per_collection)} collections")

    good_div = Counter(r["division"] for r in good.values())
    good_type = Counter(r["document_type"] for r in good.values())
    all_type = Counter(r["document_type"] for r in docs.values())
    for dv in DIVISIONS:
        if good_div[dv] < 40:
            err(f"division {dv}: {good_div[dv]} good documents (need >= 40)")
    for dt in DOC_TYPES:
        if all_type[dt] < 30:
            err(f"document type {dt}: {all_type[dt]} documents (need >= 30)")
    n_general = sum(1 for r in docs.values() if r["division"] == PLACEHOLDER_DIVISION)
    n_retired = sum(1 for r in docs.values() if r["document_type"] == RETIRED_DOC_TYPE)
    if not 3 <= n_general <= 4:
        err(f"{n_general} documents with division General (need 3 or 4)")
    if n_retired != 2:
        err(f"{n_retired} documents with retired type Training and Education (need 2)")
    median = statistics.median(good_wc) if good_wc else 0
    if not 200 <= median <= 300:
        warnings.append(f"median good word count {median} is not around 250")

    # ---------------- queries and qrels ----------------
    qpath = os.path.join(demo, "queries.jsonl")
    queries = {}
    for n, q in load_jsonl(qpath):
        if set(q) != {"_id", "text", "metadata"} or not isinstance(q.get("metadata"), dict):
            err(f"queries.jsonl:{n}: needs exactly _id, text, metadata")
            continue
        if q["_id"] in queries:
            err(f"queries.jsonl:{n}: duplicate _id {q['_id']}")
        if not q["text"].strip():
            err(f"queries.jsonl:{n}: empty text")
        if q["metadata"].get("division") not in DIVISIONS:
            err(f"queries.jsonl:{n}: metadata.division {q['metadata'].get('division')!r} invalid")
        if re.match(r"(?i)^(it|this|that|they|these|those|its|their)\b", q["text"].strip()):
            err(f"queries.jsonl:{n}: query starts with a pronoun")
        queries[q["_id"]] = q
    if len(queries) < 40:
        err(f"only {len(queries)} queries (need >= 40)")
    qdiv = Counter(q["metadata"].get("division") for q in queries.values())
    for dv in DIVISIONS:
        if qdiv[dv] == 0:
            err(f"no query for division {dv}")

    rpath = os.path.join(demo, "qrels", "test.tsv")
    with open(rpath, encoding="utf-8", newline="") as fh:
        rlines = fh.read().splitlines()
    if not rlines or rlines[0] != "query-id\tcorpus-id\tscore":
        err("qrels/test.tsv: header must be 'query-id<TAB>corpus-id<TAB>score'")
    rel = defaultdict(list)
    zeros = 0
    seen = set()
    for n, line in enumerate(rlines[1:], 2):
        parts = line.split("\t")
        if len(parts) != 3:
            err(f"qrels/test.tsv:{n}: expected 3 columns")
            continue
        qid, url, score = parts
        if (qid, url) in seen:
            err(f"qrels/test.tsv:{n}: duplicate pair")
        seen.add((qid, url))
        if qid not in queries:
            err(f"qrels/test.tsv:{n}: unknown query {qid}")
        if url not in docs:
            err(f"qrels/test.tsv:{n}: corpus-id not in corpus: {url}")
        if score not in ("0", "1"):
            err(f"qrels/test.tsv:{n}: score must be 0 or 1")
        elif score == "1":
            if url in junk:
                err(f"qrels/test.tsv:{n}: relevant document is planted junk")
            rel[qid].append(url)
        else:
            zeros += 1
    for qid in queries:
        if not 1 <= len(rel[qid]) <= 4:
            err(f"query {qid}: {len(rel[qid])} relevant documents (need 1-4)")
    if zeros == 0:
        err("qrels/test.tsv: no explicit 0 (near-miss) judgments")

    # ---------------- report ----------------
    print("SDE Workbench demo data set check")
    print(f"  folder: {demo}")
    print(f"  collections: {len(per_collection)}")
    for key in collections:
        print(f"    {key:45s} {per_collection.get(key, 0):4d} docs, {junk_colls.get(key, 0):2d} junk")
    print(f"  documents: {total}  good: {len(good)}  planted junk: {len(junk)} ({share:.1%})")
    print(f"  good word counts: min {min(good_wc, default=0)}, median {median}, max {max(good_wc, default=0)}")
    print(f"  good pages with navigation boilerplate: {nav_pages}")
    print(
        "  good documents per division: "
        + ", ".join(f"{d} {good_div[d]}" for d in DIVISIONS)
        + f", General {good_div[PLACEHOLDER_DIVISION]}"
    )
    print(
        "  documents per type (all / good): "
        + ", ".join(f"{t} {all_type[t]}/{good_type[t]}" for t in DOC_TYPES)
        + f", {RETIRED_DOC_TYPE} {all_type[RETIRED_DOC_TYPE]}"
    )
    print("  junk kinds: " + ", ".join(f"{k} {c}" for k, c in sorted(Counter(junk.values()).items())))
    print(f"  queries: {len(queries)} (" + ", ".join(f"{d} {qdiv[d]}" for d in DIVISIONS) + ")")
    print(f"  qrels: {sum(len(v) for v in rel.values())} relevant (score 1), {zeros} near-miss (score 0)")
    for w in warnings:
        print(f"  WARNING: {w}")
    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        for e in errors[:200]:
            print(f"  - {e}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
