"""Near-duplicates on real NASA pages: copies under another host, with other navigation lines and one sentence
edited, cluster with their originals; distinct pages about the same topics (all of science.nasa.gov's chrome
in common) never do; a curator keeps one per cluster in one action."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curation.core import Workspace
from curation.ingest import IngestOptions, ingest
from curation.relevancy import (
    duplicate_clusters,
    find_duplicates,
    find_semantic_duplicates,
    keep_one,
    minhash_pairs,
    shingles,
    verdicts,
)

NASA = Path(__file__).resolve().parents[3] / "shared" / "data" / "nasa"
MIRROR_NAV = ["Mirror of NASA Science", "Home", "About this mirror", "Report a broken link", "Mirror terms of use"]
COPIES = 10


def _edit_one_sentence(lines: list[str]) -> list[str]:
    """Change a word in the middle line that is a sentence."""
    sentences = [i for i, line in enumerate(lines) if len(line.split()) > 12]
    i = sentences[len(sentences) // 2]
    words = lines[i].split()
    words[len(words) // 2] = "reportedly"
    return [*lines[:i], " ".join(words), *lines[i + 1 :]]


@pytest.fixture
def planted(ws: Workspace, tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    """The 30 real pages, and copies of the first 10 on a mirror host; {copy url: original url}."""
    if not (NASA / "scraped_pages.jsonl").exists():
        pytest.skip(f"{NASA} is not available")
    rows = [json.loads(line) for line in (NASA / "scraped_pages.jsonl").read_text().splitlines() if line.strip()]
    ingest(ws, [NASA / "scraped_pages.jsonl"], IngestOptions(format="jsonl", collection="science"))
    copies, pairs = [], {}
    for row in rows[:COPIES]:
        url = row["url"].replace("https://science.nasa.gov/", "https://mirror.example.org/nasa/")
        url = url.replace("https://www.ligo.caltech.edu/", "https://mirror.example.org/ligo/")
        text = "\n".join([*MIRROR_NAV, *_edit_one_sentence(row["full_text"].splitlines())])
        copies.append({"url": url, "title": row["title"], "text": text})
        pairs[url.rstrip("/")] = row["url"].rstrip("/")
    path = tmp_path / "mirror.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in copies) + "\n")
    ingest(ws, [path], IngestOptions(format="jsonl", collection="mirror"))
    return ws, pairs


def test_planted_copies_cluster_and_distinct_pages_do_not(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, pairs = planted

    result = find_duplicates(ws)

    clusters = duplicate_clusters(ws)
    together = {frozenset(c.members) for c in clusters}
    found = sum(frozenset({copy, original}) in together for copy, original in pairs.items())
    assert found >= 0.9 * len(pairs)
    originals = set(pairs.values())
    assert all(len(set(c.members) - originals) == 1 for c in clusters)  # never two distinct pages together
    assert (result.documents, result.clusters, result.duplicates, result.largest) == (40, found, found, 2)
    assert all(c.reason and c.canonical in c.members for c in clusters)


def test_keep_one_drops_the_rest_with_the_reason(planted: tuple[Workspace, dict[str, str]]) -> None:
    ws, _ = planted
    find_duplicates(ws)
    cluster = duplicate_clusters(ws)[0]
    other = next(d for d in cluster.members if d != cluster.canonical)

    assert keep_one(ws, cluster.id, other, "ana") == 1

    table = verdicts(ws).set_index("doc_id")
    assert bool(table.loc[other, "kept"]) and not bool(table.loc[cluster.canonical, "kept"])
    assert list(table.loc[cluster.canonical, "reasons"]) == [f"duplicate of {other}"]
    with pytest.raises(ValueError, match="not a member"):
        keep_one(ws, cluster.id, "nope", "ana")


def test_boilerplate_lines_do_not_make_pages_alike() -> None:
    chrome = {f"menu item {i}" for i in range(40)}
    a = "\n".join([*sorted(chrome), "Mars has two small moons named Phobos and Deimos that orbit close in."])
    b = "\n".join([*sorted(chrome), "Jupiter has a great red spot that is a storm larger than the Earth."])
    assert minhash_pairs([shingles(a, set(), 5), shingles(b, set(), 5)], threshold=0.8, num_perm=128)
    assert not minhash_pairs([shingles(a, chrome, 5), shingles(b, chrome, 5)], threshold=0.8, num_perm=128)


def test_semantic_clusters_come_from_a_retrievers_document_vectors(ws: Workspace, tiny_model_dir: Path) -> None:
    from curation.retrieval import embed
    from tests.retrieval_data import add_retriever, corpus_rows, load_rows

    rows = corpus_rows()
    copy = {**rows[0], "doc_id": "copy-of-0", "url": "https://mirror.example.org/0/0"}
    load_rows(ws, [*rows, copy], ws.root / "rows.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    embed(ws, "tiny")

    result = find_semantic_duplicates(ws, "tiny", threshold=0.9999)  # the random model: only the copy is that close

    assert (result.documents, result.clusters, result.largest) == (len(rows) + 1, 1, 2)
    (cluster,) = duplicate_clusters(ws, "semantic:tiny")
    assert set(cluster.members) == {rows[0]["doc_id"], "copy-of-0"}
    assert cluster.canonical == rows[0]["doc_id"] and cluster.reason == "the shortest URL"
