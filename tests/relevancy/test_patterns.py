"""Curation patterns: resolution (include over exclude, specificity, scope), COSMOS wildcards, the per-collection
word count, history, YAML round trip, the preview with its projected NDCG change, and the real NASA data."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from curation.core import Workspace, demo_dir
from curation.demo import build_demo
from curation.ingest import IngestOptions, ingest, normalize_url
from curation.relevancy import (
    Pattern,
    PatternError,
    add_pattern,
    effective_patterns,
    export_rules,
    import_rules,
    pattern_table,
    preview_pattern,
    remove_pattern,
    resolve_scope,
    rule_matrix,
    run_rules,
    set_active,
)
from store import verdicts as verdict_store
from tests.judged_data import add_queries, grade, store_run

SITE = "https://science.nasa.gov"
BODY = " ".join(["heliophysics"] * 200)
NASA = Path(__file__).resolve().parents[3] / "shared" / "data" / "nasa"


def _rules(ws: Workspace) -> dict[str, tuple[bool, str | None]]:
    run_rules(ws)
    table = verdict_store.verdict_table(ws.db)
    return {row.doc_id: (bool(row.kept), row.rule if isinstance(row.rule, str) else None) for row in table.itertuples()}


def _add(ws: Workspace, kind: str, pattern: str, match: str = "wildcard", **extra: object) -> Pattern:
    return add_pattern(ws, Pattern(kind=kind, match=match, pattern=pattern, **extra), "ana")


def test_wildcard_and_exact_follow_cosmos_syntax() -> None:
    wild = Pattern(kind="exclude", match="wildcard", pattern="https://science.nasa.gov/*/gallery/*")
    assert wild.regex() == r"^science\.nasa\.gov/.*/gallery/.*$"
    exact = Pattern(kind="exclude", match="exact", pattern="https://Science.nasa.gov/a(1)/")
    assert exact.regex() == r"^science\.nasa\.gov/a\(1\)/?$"
    assert exact.specificity() > wild.specificity() > Pattern(kind="exclude", match="regex", pattern="/x").specificity()
    longer = Pattern(kind="exclude", match="wildcard", pattern="science.nasa.gov/mars/*")
    assert longer.specificity() > Pattern(kind="exclude", match="wildcard", pattern="science.nasa.gov/*").specificity()
    with pytest.raises(ValueError, match="needs --value"):
        Pattern(kind="title", match="exact", pattern="x")
    with pytest.raises(ValueError, match="title templates"):
        Pattern(kind="title", match="exact", pattern="x", value="{title.__class__}")


def test_include_beats_exclude_and_most_specific_names_the_verdict(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    add_documents(
        [{"url": f"{SITE}/mars/{p}", "title": p, "text": BODY} for p in ("a", "b", "keep", "plain")]
        + [{"url": f"{SITE}/moon/x", "title": "x", "text": BODY}]
    )
    broad = _add(ws, "exclude", "science.nasa.gov/*")
    narrow = _add(ws, "exclude", "science.nasa.gov/mars/*")
    exact = _add(ws, "exclude", f"{SITE}/mars/a", match="exact")
    keep = _add(ws, "include", "science.nasa.gov/mars/keep")

    got = _rules(ws)

    assert got[f"{SITE}/mars/a"] == (False, exact.label())
    assert got[f"{SITE}/mars/b"] == (False, narrow.label())
    assert got[f"{SITE}/moon/x"] == (False, broad.label())
    assert got[f"{SITE}/mars/keep"] == (True, keep.label())
    # a deactivated pattern stops deciding; its history keeps both rows
    set_active(ws, narrow.pattern_id, False, "ana", "too broad")
    assert _rules(ws)[f"{SITE}/mars/b"] == (False, broad.label())
    remove_pattern(ws, broad.pattern_id, "ana")
    assert _rules(ws)[f"{SITE}/moon/x"] == (True, None)


def test_scope_limits_a_pattern_to_its_collection_and_title_patterns_fill_templates(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    add_documents([{"url": f"{SITE}/a/1", "title": "One", "text": BODY}], collection="Alpha Pages")
    add_documents([{"url": f"{SITE}/b/1", "title": "Two", "text": BODY}], collection="Beta")
    assert resolve_scope(ws, "Alpha Pages") == resolve_scope(ws, "alpha_pages") == "alpha_pages"
    with pytest.raises(PatternError, match="no collection"):
        resolve_scope(ws, "Gamma")
    _add(ws, "exclude", "*", scope="alpha_pages")
    _add(ws, "title", "*", scope="beta", value="{title} | {collection}")
    _add(ws, "division", "science.nasa.gov/b/*", value="Heliophysics")

    got = _rules(ws)

    assert got[f"{SITE}/a/1"][0] is False and got[f"{SITE}/b/1"] == (True, None)
    with ws.db.read() as con:
        row = con.execute(
            "SELECT title, division FROM verdicts WHERE doc_id = ? AND judge = 'rules'", [f"{SITE}/b/1"]
        ).fetchone()
    assert row == ("Two | beta", "Heliophysics")
    with pytest.raises(PatternError, match="RE2"):
        _add(ws, "exclude", "(?<=x)y", match="regex")


def test_word_count_compares_with_the_median_of_the_documents_own_collection(
    ws: Workspace, add_documents: Callable[..., None]
) -> None:
    short = " ".join(["aerosol"] * 60)
    add_documents([{"url": f"{SITE}/news/{i}", "title": "n", "text": BODY} for i in range(5)], collection="news")
    add_documents(
        [{"url": f"{SITE}/data/{i}", "title": "d", "text": short} for i in range(3)]
        + [{"url": f"{SITE}/data/tiny", "title": "t", "text": "five words " * 5}],
        collection="datasets",
    )
    add_documents([{"url": f"{SITE}/news/tiny", "title": "t", "text": "five words " * 15}], collection="news")
    ws.update_settings("rules", "min_words_fraction", 0.5)
    got = _rules(ws)
    # 60 words: under 0.5 x the workspace median (200) but not under 0.5 x the datasets' median (60)
    assert all(got[f"{SITE}/data/{i}"] == (True, None) for i in range(3))
    assert got[f"{SITE}/data/tiny"] == (False, "min_words")  # 10 < 0.5 x 60
    assert got[f"{SITE}/news/tiny"] == (False, "min_words")  # 30 < 0.5 x 200
    ws.update_settings("rules", "min_words_fraction", 0.0)
    assert _rules(ws)[f"{SITE}/data/tiny"] == (True, None)  # not under the floor of 10 words
    ws.update_settings("rules", "min_words_floor", 11)
    assert _rules(ws)[f"{SITE}/data/tiny"] == (False, "min_words")


def test_rule_set_yaml_round_trip_and_tables(ws: Workspace, add_documents: Callable[..., None], tmp_path: Path) -> None:
    add_documents([{"url": f"{SITE}/a/{i}", "title": "a", "text": BODY} for i in range(4)], collection="Alpha")
    mine = _add(ws, "exclude", "science.nasa.gov/a/1", scope="alpha", reason="print copy")
    set_active(ws, "query_string", False, "ana", "this source uses query strings for pages")
    path = tmp_path / "rules.yaml"
    assert export_rules(ws, path) == len(effective_patterns(ws))
    assert "scope: Alpha" in path.read_text()

    other = Workspace.open(tmp_path / "other")
    ingest(other, [next(tmp_path.glob("rows-*.jsonl"))], IngestOptions(format="jsonl", collection="Alpha"))
    first = import_rules(other, path, "bo")
    assert (first.added, first.changed) == (1, 1)  # the curator pattern, and query_string switched off
    assert import_rules(other, path, "bo").model_dump() == {"added": 0, "changed": 0, "unchanged": first.unchanged + 2}
    theirs = {p.pattern_id: p for p in effective_patterns(other)}
    assert theirs[mine.pattern_id].scope == "alpha" and theirs["query_string"].active is False

    run_rules(ws)
    table = pattern_table(ws).set_index("pattern_id")
    assert table.loc[mine.pattern_id, "decides"] == 1 and table.loc[mine.pattern_id, "scope"] == "Alpha"
    matrix = rule_matrix(ws)
    assert matrix.set_index("rule").loc[mine.label(), "dropped_share"] == 0.25


def test_preview_counts_judged_drops_and_projects_ndcg_by_hand(
    ws: Workspace, add_documents: Callable[..., None], tmp_path: Path
) -> None:
    add_documents([{"doc_id": d, "url": f"{SITE}/p/{d}", "title": f"T{d}", "text": BODY} for d in ("d1", "d2", "d3")])
    add_queries(ws, tmp_path, "tiny", {"q1": ("solar wind", None)})
    grade(ws, "ana", {("q1", "d1"): 3, ("q1", "d2"): 1})
    store_run(ws, "A", {"q1": ["d3", "d1", "d2"]}, query_set="tiny")
    run_rules(ws)

    junk = preview_pattern(ws, Pattern(kind="exclude", match="exact", pattern=f"{SITE}/p/d3"))
    assert (junk.matched, junk.changed, junk.newly_dropped, junk.judged_relevant_dropped) == (1, 1, 1, [])
    assert junk.sample[0].title == "Td3" and junk.sample[0].kept_before and not junk.sample[0].kept_after
    # NDCG@10 (linear gain): before 0 + 3/log2(3) + 1/log2(4) over 3 + 1/log2(3) = 0.659; after [d1, d2]: 1
    (change,) = junk.ndcg
    assert (change.before, change.after, change.change) == (0.659, 1.0, 0.341)

    good = preview_pattern(ws, Pattern(kind="exclude", match="exact", pattern=f"{SITE}/p/d1"))
    assert [(j.doc_id, j.query_id, j.grade) for j in good.judged_relevant_dropped] == [("d1", "q1", 3)]
    assert good.ndcg[0].after == 0.1738  # [d3, d2]: (1/log2(3)) / 3.631
    assert effective_patterns(ws)[-1].pattern_id == "query_string"  # nothing was saved


def _planted_junk() -> set[str]:
    path = demo_dir() / "planted_junk.tsv"
    rows = list(csv.DictReader(path.open(), delimiter="\t")) if path.exists() else []
    if not rows:
        pytest.skip("the demo corpus with its planted junk is not in this checkout yet")
    return {normalize_url(row["url"]) for row in rows}


def test_real_nasa_dataset_pages_survive_the_defaults_and_one_include_keeps_them_all(ws: Workspace) -> None:
    if not (NASA / "ej_datasets.jsonl").exists():
        pytest.skip(f"{NASA} is not available")
    junk = _planted_junk()
    build_demo(ws, retriever=None)
    mapping = {"title": "dataset", "text": "description", "url": "source_link"}
    ingest(ws, [NASA / "ej_datasets.jsonl"], IngestOptions(format="jsonl", collection="EJ", column_map=mapping))
    ingest(ws, [NASA / "scraped_pages.jsonl"], IngestOptions(format="jsonl", collection="NASA Science"))

    got = _rules(ws)

    with ws.db.read() as con:
        ej = [(d, u) for d, u in con.execute("SELECT doc_id, url FROM documents WHERE collection = 'ej'").fetchall()]
    landing = [d for d, u in ej if "search.earthdata.nasa.gov/search" not in u]  # not a search-query URL
    assert len(landing) > 100
    wrongly = [d for d in landing if got[d][1] in ("min_words", "exclude:search_results")]
    assert wrongly == []
    assert any("cmr.earthdata.nasa.gov/search/concepts/" in d and got[d][0] for d in landing)
    dropped_junk = sum(not got[d][0] for d in junk if d in got)
    assert dropped_junk >= 0.9 * len(junk)

    _add(ws, "include", "*", scope="ej", reason="EJ records are curated datasets")
    got = _rules(ws)
    assert all(got[d][0] for d, _ in ej)


def test_llm_suggestions_land_inactive_and_a_curator_accepts_one(
    ws: Workspace, add_documents: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from curation.cli import app
    from tests.openai_stub import StubLLM

    add_documents(
        [{"url": f"{SITE}/listing/{t}", "title": f"Listing {t}", "text": BODY} for t in ("mars", "moon")]
        + [{"url": f"{SITE}/mission/juno", "title": "Juno", "text": BODY}],
        collection="Planets",
    )
    answer = {"patterns": [{"pattern": "science.nasa.gov/listing/*", "reason": "listings"}]}
    server = StubLLM(verdict=lambda prompt: answer if "collection:planets" in prompt else {"patterns": []})
    monkeypatch.setenv("STUB_KEY", "sk-test")
    ws.update_settings("llm", "api_key_env", "STUB_KEY")
    try:
        args = ["--workspace", str(ws.root), "rules", "suggest", "--collection", "Planets", "--json"]
        done = CliRunner().invoke(app, [*args, "--model", "openai-compatible:stub", "--base-url", server.url])
    finally:
        server.close()
    assert done.exit_code == 0, done.output
    (suggested,) = json.loads(done.stdout.strip().splitlines()[-1])["suggested"]
    assert (suggested["provenance"], suggested["active"], suggested["scope"]) == ("llm-suggested", False, "planets")
    assert _rules(ws)[f"{SITE}/listing/mars"] == (True, None)  # inactive: decides nothing yet

    set_active(ws, suggested["pattern_id"], True, "ana", "accepted")

    got = _rules(ws)
    assert got[f"{SITE}/listing/mars"] == (False, f"exclude:{suggested['pattern_id']}")
    assert got[f"{SITE}/mission/juno"] == (True, None)
