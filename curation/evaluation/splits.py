"""Query splits for export: by query, deterministic, and guarded so no evaluation query is trained on.

Queries that would teach a model the answer to one another always land in the same split: queries with the
same text (ignoring case and spacing), queries generated from the same document (`metadata.source_doc`), and
queries with the same set of relevant documents; these links are followed transitively. A split is a seeded
permutation of these groups cut at the asked fractions: the same set, fractions and seed give the same split
in every export format. The leak guard checks the same links between the training split and every other, so
it also refuses splits made elsewhere (a benchmark's own files) that would leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

TRAIN = "train"
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class SplitError(ValueError):
    """A split specification that cannot be used (the message says why)."""


class LeakError(RuntimeError):
    """Training pairs would contain a query of an evaluation split."""


def parse_split(text: str) -> dict[str, float]:
    """`train=0.8,dev=0.1,test=0.1` as {name: fraction}; fractions must be positive and sum to 1."""
    fractions: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        name = name.strip()
        try:
            fraction = float(value)
        except ValueError:
            fraction = float("nan")
        if not sep or not _NAME.match(name) or not fraction > 0:
            raise SplitError(f"split part {part.strip()!r}: expected NAME=FRACTION, e.g. train=0.8,test=0.2")
        if name in fractions:
            raise SplitError(f"split {name!r} is named twice")
        fractions[name] = fraction
    if abs(sum(fractions.values()) - 1.0) > 1e-6:
        raise SplitError(f"split fractions sum to {sum(fractions.values()):g}, not 1")
    return fractions


def query_key(text: str) -> str:
    """What makes two queries the same question: their text, ignoring case and spacing."""
    return " ".join(text.lower().split())


class SplitQuery(NamedTuple):
    """What splitting needs to know of a query: its text, the document it was generated from, its positives."""

    text: str
    source_doc: str | None = None
    positives: frozenset[str] = frozenset()


def query_groups(queries: dict[str, SplitQuery]) -> list[list[str]]:
    """Query ids grouped so that linked queries (same text, same source document, same relevant documents)
    share a group; groups and their members in a stable order."""
    parent = {q: q for q in queries}

    def root(q: str) -> str:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    first: dict[tuple[str, object], str] = {}
    for query_id, query in sorted(queries.items()):
        for link in _links(query):
            other = first.setdefault(link, query_id)
            parent[root(query_id)] = root(other)
    groups: dict[str, list[str]] = {}
    for query_id in sorted(queries):
        groups.setdefault(root(query_id), []).append(query_id)
    return sorted(groups.values(), key=lambda ids: sorted(query_key(queries[q].text) for q in ids))


def assign_splits(queries: dict[str, SplitQuery], fractions: dict[str, float], seed: int) -> dict[str, str]:
    """{query_id: split}; groups of linked queries (see `query_groups`) are dealt out whole, split sizes in
    groups following the fractions (largest remainder)."""
    groups = query_groups(queries)
    order = np.random.default_rng(seed).permutation(len(groups))
    exact = np.array(list(fractions.values())) * len(groups)
    sizes = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - sizes), kind="stable")[: len(groups) - sizes.sum()]:
        sizes[index] += 1
    bounds = np.cumsum(sizes)
    names = list(fractions)
    return {
        query_id: names[int(np.searchsorted(bounds, i, side="right"))]
        for i, g in enumerate(order)
        for query_id in groups[g]
    }


def check_no_leak(members: dict[str, list[str]], queries: dict[str, SplitQuery], train: str = TRAIN) -> None:
    """Refuse a split whose training queries are linked to a query of another split: the same text, the same
    source document, or the same relevant documents (the positives the pairs would train on)."""
    for query_id, link, other, other_split in _leaks(members, queries, train):
        raise LeakError(
            f"training query {query_id!r} shares its {_LINK_NAMES[link]} with query {other!r} of the "
            f"{other_split!r} split"
        )


def leaking_queries(members: dict[str, list[str]], queries: dict[str, SplitQuery], train: str = TRAIN) -> set[str]:
    """Training queries linked to a query of another split (those `check_no_leak` refuses)."""
    return {query_id for query_id, *_ in _leaks(members, queries, train)}


def _leaks(
    members: dict[str, list[str]], queries: dict[str, SplitQuery], train: str
) -> Iterator[tuple[str, str, str, str]]:
    """(training query, kind of link, linked query, its split) for each training query linked to another split
    (a query listed in both is linked to itself)."""
    held_out: dict[tuple[str, object], tuple[str, str]] = {}
    for split, ids in members.items():
        if split != train:
            for query_id in sorted(ids):
                for link in _links(queries[query_id]):
                    held_out.setdefault(link, (query_id, split))
    for query_id in sorted(members.get(train, [])):
        found = next((link for link in _links(queries[query_id]) if link in held_out), None)
        if found is not None:
            yield query_id, found[0], *held_out[found]


_LINK_NAMES = {"text": "text", "source_doc": "source document", "positives": "relevant documents"}


def _links(query: SplitQuery) -> Iterable[tuple[str, object]]:
    yield ("text", query_key(query.text))
    if query.source_doc:
        yield ("source_doc", query.source_doc)
    if query.positives:
        yield ("positives", query.positives)
