"""Roles from the allow-list, folders a team's app may read, and when the app refuses to be served."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from curation.core import (
    AccessDenied,
    AccessSettings,
    ServingRefused,
    Workspace,
    allowed_path,
    is_local_address,
    permits,
    require,
    role_of,
    sign_in_file,
)

CLI = str(Path(sys.executable).with_name("sde-workbench"))
TEAM = AccessSettings(admins=["Lead@nasa.gov"], curators=["cur@nasa.gov", "lead@nasa.gov"], judges=["ana@nasa.gov"])


def test_roles_come_from_the_allow_list() -> None:
    assert role_of(TEAM, "lead@NASA.gov ") == "admin"  # the highest role wins; case and spaces do not matter
    assert role_of(TEAM, "cur@nasa.gov") == "curator"
    assert role_of(TEAM, "ana@nasa.gov") == "judge"
    assert role_of(TEAM, "eve@example.com") is None
    assert permits("judge", "judge") and not permits("judge", "ingest")
    assert permits("curator", "ingest") and permits("curator", "filter") and not permits("curator", "finetune")
    assert permits("admin", "settings") and permits("admin", "finetune")
    with pytest.raises(AccessDenied, match=r"judge\) may not load content"):
        require("judge", "ingest")


def test_a_team_reads_only_allowed_folders_and_a_link_cannot_lead_out(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "sde").mkdir(parents=True)
    (shared / "sde" / "docs.jsonl").write_text("{}\n")
    (shared / "escape").symlink_to("/etc")
    access = AccessSettings(allowed_folders=[str(shared)])
    assert allowed_path(access, shared / "sde" / "docs.jsonl") == (shared / "sde" / "docs.jsonl").resolve()
    for outside in (Path("/etc/passwd"), shared / "escape" / "passwd", shared / ".." / "other"):
        with pytest.raises(AccessDenied, match="outside the folders"):
            allowed_path(access, outside)
    with pytest.raises(AccessDenied, match="allowed_folders is empty"):
        allowed_path(AccessSettings(), shared / "sde" / "docs.jsonl")


def auth_file(path: Path, **drop: bool) -> Path:
    keys = {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "s3cret-cookie",
        "client_id": "workbench",
        "client_secret": "client-s3cret",
        "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
    }
    path.write_text("[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items() if k not in drop))
    return path


def test_serving_beyond_this_machine_needs_sign_in_configured_well(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    assert is_local_address("127.0.0.1") and is_local_address("::1") and is_local_address("localhost")
    assert not is_local_address("0.0.0.0") and not is_local_address("10.1.2.3")
    assert sign_in_file("127.0.0.1", None, ws.root, TEAM) is None  # alone on this machine: no sign-in
    with pytest.raises(ServingRefused, match="without sign-in"):
        sign_in_file("0.0.0.0", None, ws.root, TEAM)
    good = auth_file(tmp_path / "secrets.toml")
    assert sign_in_file("0.0.0.0", good, ws.root, TEAM) == good.resolve()
    with pytest.raises(ServingRefused, match="inside the workspace"):
        sign_in_file("0.0.0.0", auth_file(ws.root / "secrets.toml"), ws.root, TEAM)
    with pytest.raises(ServingRefused, match="lacks client_secret"):
        sign_in_file("0.0.0.0", auth_file(tmp_path / "partial.toml", client_secret=True), ws.root, TEAM)
    with pytest.raises(ServingRefused, match="nobody may use the app"):
        sign_in_file("0.0.0.0", good, ws.root, AccessSettings())


def test_app_on_all_interfaces_without_sign_in_exits_with_the_reason(tmp_path: Path) -> None:
    done = subprocess.run(
        [CLI, "--workspace", str(tmp_path / "ws"), "app", "--address", "0.0.0.0", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "refusing to serve on 0.0.0.0 without sign-in" in done.stderr
