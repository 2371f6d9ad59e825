"""The CLI: --json prints exactly one JSON object; nothing readable means exit 2 with a one-line reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from curation.cli import app

CLI = str(Path(sys.executable).with_name("sde-workbench"))


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, "--workspace", str(tmp_path / "ws"), *args], capture_output=True, text=True)


def test_ingest_json_is_one_object_on_stdout(tmp_path: Path) -> None:
    data = tmp_path / "pages.jsonl"
    data.write_text('{"url": "https://a.nasa.gov/x", "full_text": "aerosol optical depth"}\n{"bad json\n')
    done = run(tmp_path, "ingest", str(data), "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert {k: summary[k] for k in ("read", "inserted", "updated", "unchanged", "rejected")} == {
        "read": 2,
        "inserted": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    assert Path(summary["rejects_file"]).is_file()


def test_nothing_readable_exits_2_with_one_line(tmp_path: Path) -> None:
    missing = run(tmp_path, "ingest", str(tmp_path / "nope.jsonl"), "--json")
    assert missing.returncode == 2
    assert json.loads(missing.stdout) == {"error": f"{tmp_path / 'nope.jsonl'}: no such file or folder"}
    assert missing.stderr.strip().count("\n") == 0 and "no such file" in missing.stderr
    (tmp_path / "notes.txt").write_text("hello")
    unknown = run(tmp_path, "ingest", str(tmp_path / "notes.txt"))
    assert unknown.returncode == 2 and "unknown format" in unknown.stderr and "Traceback" not in unknown.stderr


def test_status_and_import_benchmark_json(tmp_path: Path) -> None:
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "title": "T", "text": "coronal mass ejection"}\n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "what is a CME"}\n')
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    runner = CliRunner()
    imported = runner.invoke(
        app, ["--workspace", str(tmp_path / "ws"), "import-benchmark", str(beir), "--name", "b", "--json"]
    )
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout) == {
        "documents": 1,
        "queries": 1,
        "judgments": 1,
        "rejected": 0,
        "rejects_file": None,
    }
    status = runner.invoke(app, ["--workspace", str(tmp_path / "ws"), "status", "--json"])
    data = json.loads(status.stdout)
    assert data["documents"] == 1 and data["by_collection"] == {"b": 1}
    assert data["query_sets"] == {"b": 1} and data["judgments"] == 1


def test_bad_column_map_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "ingest", str(tmp_path), "--map", "body"])
    assert result.exit_code == 2 and "FIELD=COLUMN" in result.stderr


def test_app_serves_on_127_0_0_1(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [CLI, "--workspace", str(tmp_path / "ws"), "app", "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its group holds the Streamlit server it starts: stopped with it below
    )
    try:
        assert server.stdout is not None
        assert json.loads(server.stdout.readline())["url"] == f"http://127.0.0.1:{port}"
        deadline, health = time.monotonic() + 90, ""
        while time.monotonic() < deadline and health != "ok" and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as response:
                    health = response.read().decode()
            except OSError:
                time.sleep(0.5)
        assert health == "ok", "the app did not come up"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
