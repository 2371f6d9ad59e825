"""The rules stage: SDE's cheap filters, evaluated in DuckDB, each verdict naming the rule that fired."""

from __future__ import annotations

import csv
from collections.abc import Callable

import pytest

from curation.core import Workspace, demo_dir
from curation.demo import build_demo
from curation.ingest import normalize_url
from curation.relevancy import DEFAULT_EXCLUDE_PATTERNS, run_rules
from store import verdicts as verdict_store

BODY = " ".join(f"word{i}" for i in range(200))
SITE = "https://science.nasa.gov"
JUNK_URLS = {
    "exclude:login": f"{SITE}/user/login",
    "exclude:search_results": f"{SITE}/search/?terms=mars",
    "exclude:tag_archive": f"{SITE}/tag/jupiter/",
    "exclude:category_archive": f"{SITE}/category/news/",
    "exclude:author_archive": f"{SITE}/author/jdoe/",
    "exclude:date_archive": f"{SITE}/2023/07/",
    "exclude:feed": f"{SITE}/news/feed/",
    "exclude:sitemap": f"{SITE}/sitemap.xml",
    "exclude:privacy": f"{SITE}/about/privacy-policy",
    "exclude:print_share": f"{SITE}/missions/juno/print/",
    "exclude:sort": f"{SITE}/missions/?sort=name",
    "exclude:pagination": f"{SITE}/news/page/3/",
    "exclude:binary_file": f"{SITE}/docs/handbook.pdf",
    "exclude:media_file": f"{SITE}/img/nebula.JPG",
    "exclude:code_file": f"{SITE}/static/app.js",
    "exclude:cms_artifact": f"{SITE}/wp-content/uploads/x/",
    "exclude:query_string": f"{SITE}/data/set?id=42",
    "path_word:gallery": f"{SITE}/missions/hubble/gallery/",
    "path_word:contact": f"{SITE}/contact-us",
    "path_word:figures": f"{SITE}/paper/figures/3",
}
REAL_URLS = [
    f"{SITE}/mission/juno",
    "https://search.earthdata.nasa.gov/datasets/modis",  # "search" in the host is no search page
    f"{SITE}/earth/climate/sea-level-data",
    f"{SITE}/learn/photosynthesis-in-oceans",  # 'photo' only inside a word
]


def test_each_rule_drops_its_kind_of_page_and_real_pages_stay(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    assert set(DEFAULT_EXCLUDE_PATTERNS) == {r.split(":", 1)[1] for r in JUNK_URLS if r.startswith("exclude:")}
    add_documents([{"url": u, "title": "page", "text": BODY} for u in [*JUNK_URLS.values(), *REAL_URLS]])
    add_documents([{"url": f"{SITE}/mission/tiny", "title": "tiny", "text": "only five words right here"}])

    result = run_rules(ws)

    expected = {normalize_url(u): rule for rule, u in JUNK_URLS.items()} | {f"{SITE}/mission/tiny": "min_words"}
    table = verdict_store.verdict_table(ws.db)
    fired = {row.doc_id: row.rule for row in table.itertuples() if not row.kept}
    assert fired == expected
    assert verdict_store.kept_doc_ids(ws.db) == {normalize_url(u) for u in REAL_URLS}
    assert (result.judged, result.kept, result.dropped) == (len(table), len(REAL_URLS), len(expected))
    assert result.median_words == 200
    reasons = table.set_index("doc_id")["reasons"]
    assert "5 words" in reasons[f"{SITE}/mission/tiny"][0]


def test_rules_follow_workbench_toml_and_rerun_replaces_verdicts(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    add_documents(
        [
            {"url": f"{SITE}/a", "title": "a", "text": BODY},
            {"url": f"{SITE}/b", "title": "b", "text": " ".join(BODY.split()[:80])},
            {"url": f"{SITE}/gallery/c", "title": "c", "text": BODY},
        ]
    )
    ws.update_settings("rules", "min_words_fraction", 0.5)
    assert run_rules(ws).dropped == 2  # 80 < 0.5 x 200 and the gallery

    ws.update_settings("rules", "min_words_fraction", 0.3)
    ws.update_settings("rules", "path_words", ["contact"])
    result = run_rules(ws)

    assert result.dropped == 0
    with ws.db.read() as con:
        assert con.execute("SELECT count(*) FROM verdicts WHERE judge = 'rules'").fetchone() == (3,)


def test_a_changed_page_loses_its_stale_verdict(ws: Workspace, add_documents: Callable[..., None]) -> None:
    add_documents([{"url": f"{SITE}/a", "title": "a", "text": BODY}, {"url": f"{SITE}/b", "title": "b", "text": BODY}])
    run_rules(ws)
    assert verdict_store.kept_doc_ids(ws.db) == {f"{SITE}/a", f"{SITE}/b"}

    add_documents([{"url": f"{SITE}/b", "title": "b", "text": BODY + " revised"}])

    assert verdict_store.kept_doc_ids(ws.db) == {f"{SITE}/a"}
    assert verdict_store.verdict_counts(ws.db)["by_verdict"] == {"kept": 1, "unjudged": 1}


def test_limit_judges_only_the_first_documents(ws: Workspace, add_documents: Callable[..., None]) -> None:
    add_documents([{"url": f"{SITE}/p{i}", "title": "p", "text": BODY} for i in range(5)])
    assert run_rules(ws, limit=2).judged == 2
    assert len(verdict_store.verdict_table(ws.db)) == 2


def _planted_junk() -> dict[str, str]:
    path = demo_dir() / "planted_junk.tsv"
    rows = list(csv.DictReader(path.open(), delimiter="\t")) if path.exists() else []
    if not rows:
        pytest.skip("the demo corpus with its planted junk is not in this checkout yet")
    return {normalize_url(row["url"]): row["kind"] for row in rows}


def test_demo_corpus_planted_junk_is_dropped_and_real_pages_kept(ws: Workspace) -> None:
    junk = _planted_junk()
    build_demo(ws, retriever=None)  # the rules need no vectors

    run_rules(ws)

    table = verdict_store.verdict_table(ws.db)
    dropped = set(table.loc[~table["kept"].astype(bool), "doc_id"])
    kept = set(table.loc[table["kept"].astype(bool), "doc_id"])
    assert junk.keys() <= dropped, f"planted junk kept: {sorted(junk.keys() - dropped)[:10]}"
    assert dropped == set(junk), f"real pages dropped: {sorted(dropped - set(junk))[:10]}"
    assert kept and kept.isdisjoint(junk)
