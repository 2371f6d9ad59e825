"""Workspace layout, settings and forward migration of an older workspace."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from curation.core import Workspace
from curation.ingest import ingest
from store.documents import count_documents
from store.migrations import MIGRATIONS


def test_new_workspace_layout_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.open(tmp_path / "ws")
    assert {p.name for p in ws.root.iterdir()} >= {"workbench.toml", "vectors", "exports"}
    assert "[ingest]" in ws.toml_path.read_text() and "max_text_bytes" in ws.toml_path.read_text()
    ws.update_settings("ingest", "max_text_bytes", 1234)
    assert Workspace.open(ws.root).settings.ingest.max_text_bytes == 1234
    monkeypatch.setenv("SDE_WORKBENCH_INGEST__MAX_TEXT_BYTES", "99")  # the environment wins over the file
    assert Workspace.open(ws.root).settings.ingest.max_text_bytes == 99
    monkeypatch.setenv("SDE_WORKBENCH_WORKSPACE", str(tmp_path / "from-env"))
    assert Workspace.open().root == (tmp_path / "from-env").resolve()


def test_older_workspace_is_migrated_forward_on_open(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    con = duckdb.connect(str(root / "curation.duckdb"))  # a workspace made by the first release
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT now())")
    for statement in MIGRATIONS[0]:
        con.execute(statement)
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.execute(
        """INSERT INTO documents (doc_id, title, text, taxonomy_flags, source_format, content_hash, first_seen,
           last_seen) VALUES ('old', 'Old', 'kept text', [], 'jsonl', 'h', now(), now())"""
    )
    con.close()

    ws = Workspace.open(root)

    assert ws.db.schema_version == len(MIGRATIONS)
    assert count_documents(ws.db) == 1
    with ws.db.read() as read:
        assert read.execute("SELECT count(*) FROM judgments").fetchone() == (0,)


def test_newer_workspace_is_refused(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    with ws.db.write() as con:
        con.execute("INSERT INTO schema_version (version) VALUES (?)", [len(MIGRATIONS) + 5])
    with pytest.raises(RuntimeError, match="newer than this sde-workbench"):
        _ = Workspace.open(ws.root).db.schema_version


def test_failed_write_rolls_back(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "a", "text": "solar wind"}\n')
    ingest(ws, [tmp_path / "a.jsonl"])
    with pytest.raises(duckdb.Error), ws.db.write() as con:
        con.execute("DELETE FROM documents")
        con.execute("SELECT * FROM no_such_table")
    assert count_documents(ws.db) == 1


def test_the_data_version_is_shared_by_every_opener_and_survives_a_lost_version_file(ws: Workspace) -> None:
    """Pages read the data version from a file each write rewrites (no database connection per rerun): another
    opener of the workspace (a job's process) sees its writes, a rolled-back write moves nothing, and without the
    file the database still answers."""
    other = Workspace.open(ws.root)  # what a job's process opens
    before = ws.data_version()
    with other.db.write() as con:
        con.execute("CREATE TABLE scratch (x INTEGER)")
    after = ws.data_version()
    assert after != before and after == other.data_version()
    with pytest.raises(duckdb.Error), other.db.write() as con:
        con.execute("INSERT INTO scratch VALUES (1)")
        con.execute("SELECT * FROM no_such_table")
    assert ws.data_version() == after
    with ws.db.read() as con:
        stored = con.execute("SELECT max(version) FROM data_version").fetchone()[0]
    assert stored == after
    ws.db.version_path.unlink()
    assert ws.data_version() == after


def test_reads_in_a_reading_block_share_one_connection_and_see_a_write_made_inside(ws: Workspace) -> None:
    """A key press's reads share one connection (`Workspace.reading`); a write inside lets it go, and the
    reads after it see what it wrote; after the block another opener (a job) writes as before."""
    with ws.reading():
        with ws.db.read() as first:
            first.execute("SELECT 1 UNION ALL SELECT 2").fetchone()  # a result left unfinished
        opened = ws.db._local.reading.con
        with ws.db.read() as second:
            assert second.execute("SELECT 3").fetchone() == (3,)
        assert ws.db._local.reading.con is opened  # the file was opened once
        with ws.db.write() as con:
            con.execute("CREATE TABLE scratch (x INTEGER)")
            con.execute("INSERT INTO scratch VALUES (7)")
        with ws.db.read() as con:
            assert con.execute("SELECT x FROM scratch").fetchall() == [(7,)]
    with ws.db.read() as a, ws.db.read() as b:
        assert a is not b  # outside the block, one connection per read again
    other = Workspace.open(ws.root)
    with other.db.write() as con:
        con.execute("INSERT INTO scratch VALUES (8)")
    assert count_documents(ws.db) == 0
    with ws.db.read() as con:
        assert con.execute("SELECT count(*) FROM scratch").fetchone() == (2,)
