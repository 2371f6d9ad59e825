"""`rules` and `dedup` on the command line: one JSON object each, collections by name, failures in one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from curation.cli import app
from curation.core import Workspace

SITE = "https://science.nasa.gov"
BODY = " ".join(f"word{i}" for i in range(120))


def _cli(ws: Workspace, *args: str) -> dict:
    done = CliRunner().invoke(app, ["--workspace", str(ws.root), *args, "--json"])
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, done.output
    return json.loads(lines[0])


def test_rules_commands_speak_json(ws: Workspace, add_documents: Callable[..., None], tmp_path: Path) -> None:
    add_documents([{"url": f"{SITE}/data/{i}", "title": f"D{i}", "text": BODY} for i in range(3)], collection="EJ Data")
    add_documents([{"url": f"{SITE}/data/{i}", "title": "copy", "text": BODY} for i in (7, 8)], collection="Other")
    curator = ["--curator", "ana"]

    added = _cli(ws, "rules", "add", "--kind", "exclude", "--pattern", f"{SITE}/data/*", "--collection", "EJ Data",
                 "--reason", "test", *curator)  # fmt: skip
    assert (added["match"], added["scope"], added["author"]) == ("wildcard", "ej_data", "ana")
    preview = _cli(ws, "rules", "preview", "--kind", "include", "--pattern", f"{SITE}/data/1")
    assert preview["matched"] == 1 and preview["sample"][0]["title"] == "D1"
    assert _cli(ws, "filter", "--judge", "rules")["dropped"] == 3
    listed = {p["pattern_id"]: p for p in _cli(ws, "rules", "list", "--collection", "ej_data")["patterns"]}
    assert listed[added["pattern_id"]]["decides"] == 3 and listed[added["pattern_id"]]["scope"] == "EJ Data"
    assert _cli(ws, "rules", "reject", added["pattern_id"], *curator)["active"] is False
    assert _cli(ws, "rules", "export", str(tmp_path / "r.yaml"))["patterns"] == len(listed)
    assert _cli(ws, "rules", "import", str(tmp_path / "r.yaml"), *curator) == {
        "added": 0,
        "changed": 0,
        "unchanged": len(listed),
    }
    assert _cli(ws, "rules", "remove", added["pattern_id"], *curator) == {"removed": added["pattern_id"]}
    bad = _cli(ws, "rules", "add", "--kind", "exclude", "--pattern", "x", "--collection", "Nope", *curator)
    assert "no collection" in bad["error"]

    found = _cli(ws, "dedup")
    assert found == {"documents": 5, "clusters": 1, "duplicates": 4, "largest": 5}
    (cluster,) = _cli(ws, "dedup", "--list")["clusters"]
    assert set(cluster) == {"id", "canonical", "members"} and len(cluster["members"]) == 5
