"""The workspace's DuckDB file: short-lived connections under an inter-process lock.

Nothing keeps a connection open between operations, so a long CLI job and the Streamlit app can
share one workspace: each operation takes the lock (shared to read, exclusive to write), opens the
file, works, and closes it. A write block is one transaction: an exception or a kill -9 inside it
leaves the file as it was before the block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import duckdb

from store.locks import file_lock
from store.migrations import MIGRATIONS

Connection = duckdb.DuckDBPyConnection


def fetch_dicts(con: Connection, sql: str, params: object = None) -> list[dict[str, Any]]:
    """The rows of `sql` as dicts keyed by column name, the shape store/ hands to callers."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class Database:
    """One DuckDB file plus its lock; migrated to the newest schema on first open."""

    def __init__(self, path: Path, *, lock_timeout: float = 600.0, memory_limit: str = "1GB") -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.version_path = self.path.with_name(self.path.name + ".version")
        self.lock_timeout = lock_timeout
        self.config = {"memory_limit": memory_limit}
        self._migrated = False
        self._local = threading.local()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection; many readers (in any process) may hold one at once. Inside `reading()`, a
        cursor of the thread's one shared connection."""
        self._ensure_migrated()
        shared = getattr(self._local, "reading", None)
        if shared is not None:  # a cursor: its own results and registrations, over the database already open
            cursor = shared.connection().cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        with file_lock(self.lock_path, exclusive=False, timeout=self.lock_timeout):
            con = self._connect(read_only=True)
            try:
                yield con
            finally:
                con.close()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The reads of this thread inside the block share one connection, opened at the first and closed at the
        end (a page's dozen small reads cost one open of the file, not twelve); a write inside lets it go first.
        Writers of other processes wait for the block's end, so keep it to one page's reads."""
        if getattr(self._local, "reading", None) is not None:
            yield
            return
        self._local.reading = _SharedRead(self)
        try:
            yield
        finally:
            self._local.reading.close()
            self._local.reading = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write connection inside one transaction, exclusive across processes; committing it moves the
        data version on."""
        self._ensure_migrated()
        shared = getattr(self._local, "reading", None)
        if shared is not None:  # this thread's shared read would block the write: it reopens at the next read
            shared.close()
        with self._write_unmigrated(publish=True) as con:
            yield con
            con.execute("UPDATE data_version SET version = version + 1")

    def version(self) -> int:
        """The data version: it changes with every committed write of any table, so whatever is derived from
        the tables can be cached under it (a rolled-back write leaves it as it was).

        Pages ask for it on every rerun, so it is read from a small file next to the database that each write
        rewrites after its commit, under the exclusive lock (opening the database costs tens of milliseconds at
        SDE scale; reading the file, microseconds). Without the file, the database answers."""
        self._ensure_migrated()
        try:
            return int(self.version_path.read_text())
        except (OSError, ValueError):
            with self.read() as con:
                return _data_version(con)

    @property
    def schema_version(self) -> int:
        with self.read() as con:
            return _current_version(con)

    @contextmanager
    def _write_unmigrated(self, *, publish: bool = False) -> Iterator[Connection]:
        """One transaction under the exclusive lock; with `publish`, the data version committed is written to
        the version file before the lock is let go (a process killed in between leaves the file one write
        behind until the next write or the next process's first open)."""
        with file_lock(self.lock_path, exclusive=True, timeout=self.lock_timeout):
            con = self._connect(read_only=False)
            try:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
                if publish:
                    written = self.version_path.with_name(self.version_path.name + ".tmp")
                    written.write_text(str(_data_version(con)))
                    written.replace(self.version_path)
            finally:
                con.close()

    def _connect(self, *, read_only: bool) -> Connection:
        """Open the file, retrying while a process outside our lock (a DuckDB shell, say) holds it."""
        deadline = time.monotonic() + self.lock_timeout
        wait = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=self.config)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, 1.0)

    def _ensure_migrated(self) -> None:
        if self._migrated:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._write_unmigrated(publish=True) as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now())"
            )
            current = _current_version(con)
            if current > len(MIGRATIONS):
                raise RuntimeError(
                    f"{self.path} has schema version {current}, newer than this sde-workbench "
                    f"({len(MIGRATIONS)}); upgrade sde-workbench to open it"
                )
            for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in statements:
                    con.execute(statement)
                con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
        self._migrated = True


class _SharedRead:
    """The connection of a `Database.reading()` block: opened (under the shared lock) when first asked for."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stack: ExitStack | None = None
        self.con: Connection | None = None

    def connection(self) -> Connection:
        if self.con is None:
            self.stack = ExitStack()
            self.stack.enter_context(file_lock(self.db.lock_path, exclusive=False, timeout=self.db.lock_timeout))
            self.con = self.db._connect(read_only=True)
        return self.con

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        if self.stack is not None:
            self.stack.close()
            self.stack = None


def _data_version(con: Connection) -> int:
    row = con.execute("SELECT max(version) FROM data_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _current_version(con: Connection) -> int:
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0
