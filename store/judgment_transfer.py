"""Every judgment row of a set as it was recorded, read out and merged into another workspace.

Row ids are local to a workspace, so an undo row travels with the row it undoes (`undoes_row`, that row's
position in the same batch, or its local id when it is already stored) and the merge maps it to a new id.
"""

from __future__ import annotations

from typing import Any

from store.database import Database, fetch_dicts

ROW_COLUMNS = ("query_id", "doc_id", "kind", "grade", "annotator", "session_id", "source", "created_at")


def set_rows(db: Database, query_set: str, annotator: str | None = None) -> list[dict[str, Any]]:
    """Every row of a set (of one annotator when given), undo rows included, in the order they were made."""
    with db.read() as con:
        return fetch_dicts(
            con,
            f"""
            SELECT judgment_id, {", ".join(ROW_COLUMNS)}, undoes FROM judgments
            WHERE query_set = $set AND ($who IS NULL OR annotator = $who)
            ORDER BY created_at, judgment_id
            """,
            {"set": query_set, "who": annotator},
        )


def set_queries(db: Database, query_set: str, query_ids: set[str]) -> list[dict[str, Any]]:
    """The queries (id, text, origin, metadata) of a set among `query_ids`."""
    with db.read() as con:
        rows = fetch_dicts(
            con,
            """
            SELECT query_id, text, origin, metadata::VARCHAR AS metadata FROM queries
            WHERE query_set = ? ORDER BY query_id
            """,
            [query_set],
        )
    return [r for r in rows if r["query_id"] in query_ids]


def merge_rows(
    db: Database, query_set: str, origin: str, queries: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> int:
    """Add the set and the queries it lacks (stored ones are left as they are), then append `rows` in order.

    A row's `undoes` is either `("new", i)` (the i-th row of `rows`) or `("stored", judgment_id)`. One
    transaction: a failed merge leaves the workspace as it was. Returns the rows added.
    """
    new_ids: list[int] = []
    with db.write() as con:
        con.execute(
            "INSERT INTO query_sets (name, origin) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [query_set, origin]
        )
        if queries:
            con.executemany(
                """
                INSERT INTO queries (query_set, query_id, text, origin, metadata) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (query_set, query_id) DO NOTHING
                """,
                [[query_set, q["query_id"], q["text"], q["origin"], q.get("metadata")] for q in queries],
            )
        for row in rows:
            undoes = row.get("undoes")
            target = None if undoes is None else (new_ids[undoes[1]] if undoes[0] == "new" else undoes[1])
            new_ids.append(
                int(
                    con.execute(
                        f"""
                        INSERT INTO judgments (query_set, {", ".join(ROW_COLUMNS)}, undoes)
                        VALUES (?, {", ".join("?" for _ in ROW_COLUMNS)}, ?) RETURNING judgment_id
                        """,
                        [query_set, *(row[c] for c in ROW_COLUMNS), target],
                    ).fetchone()[0]
                )
            )
    return len(new_ids)
