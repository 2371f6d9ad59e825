"""A workspace folder: settings, the DuckDB file, LanceDB vectors and exports, opened together."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import BaseModel

from curation.core.settings import WorkbenchSettings, load_settings
from store.database import Database

WORKSPACE_ENV = "SDE_WORKBENCH_WORKSPACE"
DEFAULT_WORKSPACE = Path("workspace")


class Workspace:
    """Paths and handles of one workspace; cheap to create, connections are opened per operation."""

    def __init__(self, root: Path, settings: WorkbenchSettings) -> None:
        self.root = root
        self.settings = settings
        self.db = Database(
            root / "curation.duckdb",
            lock_timeout=settings.store.lock_timeout,
            memory_limit=settings.store.memory_limit,
        )

    @classmethod
    def open(cls, root: Path | str | None = None) -> Workspace:
        """Open (creating if needed) the workspace at `root`, `$SDE_WORKBENCH_WORKSPACE` or ./workspace."""
        path = Path(root or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE).expanduser().resolve()
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"workspace {path} is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        for sub in ("vectors", "exports"):
            (path / sub).mkdir(exist_ok=True)
        toml_path = path / "workbench.toml"
        if not toml_path.exists():
            toml_path.write_text(default_settings_toml())
        return cls(path, load_settings(toml_path))

    def reading(self) -> AbstractContextManager[None]:
        """The reads inside the block share one database connection (see `Database.reading`): for a key press's
        handful of reads. Writers elsewhere wait for the block, so it holds no long work."""
        return self.db.reading()

    def data_version(self) -> int:
        """Changes with every committed write to the workspace's tables (ingest, rules, verdicts, judgments,
        maps, jobs): pages cache what they derive from the tables under it."""
        return self.db.version()

    @property
    def toml_path(self) -> Path:
        return self.root / "workbench.toml"

    @property
    def vectors_dir(self) -> Path:
        """The local folder of the vector tables (with `[vectors] uri` set, only their locks live here)."""
        return self.root / "vectors"

    @property
    def vectors_uri(self) -> str:
        """Where the vector tables live: `[vectors] uri` (object storage) or the local `vectors/` folder."""
        return self.settings.vectors.uri or str(self.vectors_dir)

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def maps_dir(self) -> Path:
        """Fitted map reducers (their points are in the database)."""
        path = self.root / "maps"
        path.mkdir(exist_ok=True)
        return path

    @property
    def rejects_dir(self) -> Path:
        path = self.exports_dir / "rejects"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def update_settings(self, section: str, key: str, value: Any) -> None:
        """Write one setting into workbench.toml, keeping the user's comments, and reload."""
        document = tomlkit.parse(self.toml_path.read_text())
        table = document.setdefault(section, tomlkit.table())
        for part in key.split(".")[:-1]:
            table = table.setdefault(part, tomlkit.table())
        table[key.split(".")[-1]] = value
        self.toml_path.write_text(tomlkit.dumps(document))
        self.settings = load_settings(self.toml_path)

    def remove_setting(self, section: str, key: str) -> bool:
        """Delete one key (or table) of a section of workbench.toml, keeping the rest; returns whether it was there."""
        document = tomlkit.parse(self.toml_path.read_text())
        table = document.get(section)
        if table is None or key not in table:
            return False
        del table[key]
        self.toml_path.write_text(tomlkit.dumps(document))
        self.settings = load_settings(self.toml_path)
        return True


def default_settings_toml() -> str:
    """workbench.toml for a new workspace: every section with its defaults and what each key does."""
    document = tomlkit.document()
    document.add(tomlkit.comment("SDE Workbench settings. Environment variables SDE_WORKBENCH_<SECTION>__<KEY>"))
    document.add(tomlkit.comment("override these values. API keys never go here: set them in the environment."))
    defaults = WorkbenchSettings.model_construct()
    for name, field in WorkbenchSettings.model_fields.items():
        value = getattr(defaults, name, None)
        if value is None and field.default_factory is not None:
            value = field.default_factory()
        document.add(tomlkit.nl())
        document.add(name, _to_table(value))
    return tomlkit.dumps(document)


def _to_table(value: BaseModel | dict[str, Any]) -> tomlkit.items.Table:
    table = tomlkit.table()
    if isinstance(value, dict):
        for key, item in value.items():
            table.add(key, _to_table(item) if isinstance(item, (BaseModel, dict)) else item)
        return table
    for key, field in type(value).model_fields.items():
        item = getattr(value, key)
        if isinstance(item, (BaseModel, dict)):
            table.add(key, _to_table(item))
            continue
        if item is None:
            table.add(tomlkit.comment(f"{key} = (unset)" + (f"  # {field.description}" if field.description else "")))
            continue
        table.add(key, item.value if hasattr(item, "value") else item)
        if field.description:
            table.item(key).comment(field.description)
    return table
