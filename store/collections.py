"""Collections as people name them ("PDS Geosciences Node") beside the keys documents carry
("pds_geosciences_node"), and the documents of one facet value, for the pages that list them."""

from __future__ import annotations

import pandas as pd

from store.database import Database

FACETS = ("division", "document_type", "collection")


def save_collection_names(db: Database, names: dict[str, str]) -> None:
    """Remember each collection key's name as typed or given by a manifest (a later name replaces it)."""
    if not names:
        return
    frame = pd.DataFrame({"collection": list(names), "name": list(names.values())})  # noqa: F841 - read by DuckDB
    with db.write() as con:
        con.execute(
            "INSERT INTO collection_names SELECT collection, name FROM frame "
            "ON CONFLICT (collection) DO UPDATE SET name = excluded.name"
        )


def collection_names(db: Database) -> dict[str, str]:
    with db.read() as con:
        return dict(con.execute("SELECT collection, name FROM collection_names").fetchall())


def documents_with(db: Database, facet: str, value: str | None, limit: int = 500) -> pd.DataFrame:
    """doc_id, title, url and facets of the documents whose `facet` is `value` (None: the ones without)."""
    if facet not in FACETS:
        raise ValueError(f"cannot list documents by {facet!r}")
    test = f"{facet} IS NULL" if value is None else f"{facet} = ?"
    with db.read() as con:
        return con.execute(
            f"SELECT doc_id, title, url, division, document_type, collection FROM documents WHERE {test} "
            f"ORDER BY title, doc_id LIMIT {int(limit)}",
            [] if value is None else [value],
        ).df()
