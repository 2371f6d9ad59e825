"""A wheel that runs: it ships the app, its pages and the demo corpus, and the installed code finds them there.

The wheel is built from this checkout and installed into a fresh virtual environment that sees the test
environment's third-party packages but not this checkout (no editable finder, a working directory elsewhere).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("sde_workbench-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; the test environment's site-packages lend the dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python*/site-packages"))
    # A plain path entry: the .pth files there (this checkout's editable finder among them) are not run.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    return venv / "bin" / "python"


def _run(python: Path, code: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(python), "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_wheel_holds_the_app_pages_demo_and_every_module(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sde_workbench/app.py" in names
    for page in (REPO / "pages").glob("*.py"):
        assert f"sde_workbench/pages/{page.name}" in names
    for file in (REPO / "demo").rglob("*"):
        if file.is_file() and "__pycache__" not in file.parts:
            assert f"sde_workbench/demo/{file.relative_to(REPO / 'demo').as_posix()}" in names
    for top in ("curation", "embeddings", "store"):
        for module in (REPO / top).rglob("*.py"):
            assert module.relative_to(REPO).as_posix() in names


def test_the_installed_code_finds_the_app_and_builds_the_demo(installed: Path, tmp_path: Path) -> None:
    code = (
        "import json, curation\n"
        "from curation.core import Workspace, app_file, demo_dir\n"
        "from curation.demo import build_demo\n"
        f"built = build_demo(Workspace.open({str(tmp_path / 'ws')!r}), retriever=None)\n"
        "print(json.dumps({'curation': curation.__file__, 'app': str(app_file()), 'demo': str(demo_dir()),"
        " 'built': built.model_dump()}))\n"
    )
    found = json.loads(_run(installed, code, tmp_path).splitlines()[-1])
    site = str(installed.parents[1])
    assert all(found[key].startswith(site) for key in ("curation", "app", "demo")), found
    assert not any(str(REPO) in found[key] for key in ("curation", "app", "demo"))
    assert found["built"]["documents"] > 300 and found["built"]["queries"] > 40 and found["built"]["judgments"] > 80


def test_the_installed_app_serves(installed: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = "from curation.cli import main; main()"
    args = ["--workspace", str(tmp_path / "ws"), "app", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen([str(installed), "-c", command, *args], cwd=tmp_path, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as reply:
                    assert reply.read() == b"ok"
                    break
            except OSError:
                assert server.poll() is None, "the app exited"
                assert time.monotonic() < deadline, "the app did not come up"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
