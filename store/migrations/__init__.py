"""Versioned schema of curation.duckdb.

`MIGRATIONS[i]` takes a workspace from version i to i + 1. Entries are only ever appended (to the last round's
module): an older workspace is brought forward on open by running the entries it has not seen, in one transaction.
"""

from __future__ import annotations

from store.migrations.first_round import FIRST_ROUND
from store.migrations.second_round import SECOND_ROUND

MIGRATIONS: list[list[str]] = [*FIRST_ROUND, *SECOND_ROUND]
