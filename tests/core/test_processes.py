"""Two processes on one workspace, and kill -9 in the middle of an ingest."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curation.core import Workspace
from store.documents import count_documents, recent_ingests

CLI = str(Path(sys.executable).with_name("sde-workbench"))
WORDS = "solar wind plasma magnetosphere aerosol ocean radiance spectrometer exoplanet transit crater regolith".split()


def write_corpus(path: Path, docs: int, prefix: str = "d") -> Path:
    with open(path, "w") as handle:
        for i in range(docs):
            text = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(400))
            handle.write(json.dumps({"id": f"{prefix}{i}", "title": f"Doc {i}", "text": text}) + "\n")
    return path


def cli(ws: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CLI, "--workspace", str(ws), *args, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_cli_ingest_and_another_writer_at_once_lose_nothing(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    big = write_corpus(tmp_path / "big.jsonl", 20_000)
    small = [write_corpus(tmp_path / f"small{i}.jsonl", 5, prefix=f"s{i}-") for i in range(15)]
    writer = cli(ws.root, "ingest", str(big))
    # Meanwhile a second process (as the app would) keeps writing and reading the same workspace.
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys\n"
                "from curation.core.workspace import Workspace\n"
                "from curation.ingest.load import ingest\n"
                "from curation.core.status import workspace_status\n"
                "ws = Workspace.open(sys.argv[1])\n"
                "for path in sys.argv[2:]:\n"
                "    assert ingest(ws, [path]).inserted == 5\n"
                "    workspace_status(ws)\n"
            ),
            str(ws.root),
            *map(str, small),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out, err = writer.communicate(timeout=600)

    assert other.returncode == 0, other.stderr
    assert writer.returncode == 0, err
    assert json.loads(out)["inserted"] == 20_000
    assert count_documents(ws.db) == 20_000 + 15 * 5
    assert len(recent_ingests(ws.db, limit=100)) == 16


def _writer_holds_lock(lock: Path) -> bool:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _kill_when(process: subprocess.Popen[str], ready: object, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        assert process.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGKILL)  # the ingest and its worker processes
    process.wait()


@pytest.mark.parametrize("phase", ["staging", "merge"])
def test_kill_9_mid_ingest_leaves_workspace_as_it_was_and_rerun_completes(tmp_path: Path, phase: str) -> None:
    ws = Workspace.open(tmp_path / "ws")
    first = write_corpus(tmp_path / "first.jsonl", 3, prefix="old")
    assert subprocess.run([CLI, "--workspace", str(ws.root), "ingest", str(first)], capture_output=True).returncode == 0
    big = write_corpus(tmp_path / "big.jsonl", 30_000)
    staging = ws.root / "tmp"

    process = cli(ws.root, "ingest", str(big))
    if phase == "staging":
        _kill_when(process, lambda: any(staging.glob("ingest-*/part-*.parquet")))
    else:
        # The write lock held for 50 ms running, after staging began: the merge transaction, not a quick check.
        def merging() -> bool:
            if not (any(staging.glob("ingest-*")) and _writer_holds_lock(ws.db.lock_path)):
                return False
            time.sleep(0.05)
            return _writer_holds_lock(ws.db.lock_path)

        _kill_when(process, merging)

    assert count_documents(ws.db) == 3
    assert len(recent_ingests(ws.db)) == 1
    rerun = subprocess.run(
        [CLI, "--workspace", str(ws.root), "ingest", str(big), "--json"], capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["inserted"] == 30_000
    assert count_documents(ws.db) == 30_003
    assert not list(staging.glob("ingest-*"))  # the killed run's staging area was cleaned up
