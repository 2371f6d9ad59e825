"""Registering retrievers without hand-editing workbench.toml: a copy of an existing one with another model or
other settings (`retrievers add`), and taking one out again (`retrievers remove`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit
from pydantic import ValidationError

from embeddings.registry import DEFAULT_RETRIEVERS, RetrieverSpec, get_spec

if TYPE_CHECKING:
    from curation.core import Workspace

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class RegistryError(ValueError):
    """A retriever that cannot be added or removed as asked (the message says why and what to do)."""


def add_retriever(
    ws: Workspace, name: str, like: str, *, model: str | None = None, settings: list[str] | None = None
) -> RetrieverSpec:
    """Register `name` as a copy of retriever `like`, with `model` (a Hugging Face id or a folder; the copy then
    loads no `package`) and `settings` (`KEY=VALUE`, values read as TOML, else as text) changed.

    Only the keys that differ from a retriever's defaults are written to `[retrievers.NAME]`.
    """
    if not _NAME.match(name):
        raise RegistryError(f"retriever name {name!r}: use letters, digits, '.', '_' or '-'")
    if name in ws.settings.retrievers:
        raise RegistryError(f"retriever {name!r} exists; remove it first (`sde-workbench retrievers remove {name}`)")
    try:
        base = get_spec(ws.settings.retrievers, like)
    except KeyError as exc:
        raise RegistryError(str(exc)) from None
    if model is not None and Path(model).expanduser().is_dir():  # a folder named from here, not from the workspace
        model = str(Path(model).expanduser().resolve())
    changed = {"model": model} if model is not None else {}
    changed.update(_parse_settings(settings or []))
    said = ", ".join(f"{key}={value}" for key, value in changed.items())
    values = {**base.model_dump(), **changed, "description": f"copy of {like}" + (f" with {said}" if said else "")}
    if model is not None:
        values["package"] = None
    try:
        spec = RetrieverSpec.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise RegistryError(f"retriever {name!r}: {problems}") from None
    ws.update_settings("retrievers", name, _table(spec))
    return ws.settings.retrievers[name]


def remove_retriever(ws: Workspace, name: str) -> None:
    """Take `name` out of workbench.toml; its vectors stay on disk under vectors/ until removed by hand."""
    if name in DEFAULT_RETRIEVERS:
        raise RegistryError(
            f"{name!r} is a default retriever and cannot be removed; change it under [retrievers.{name}] instead"
        )
    if not ws.remove_setting("retrievers", name):
        known = ", ".join(n for n in ws.settings.retrievers if n not in DEFAULT_RETRIEVERS) or "none"
        raise RegistryError(f"no added retriever named {name!r} (added ones: {known})")


def _parse_settings(pairs: list[str]) -> dict[str, Any]:
    known = list(RetrieverSpec.model_fields)
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep:
            raise RegistryError(f"--set {pair!r}: expected KEY=VALUE, e.g. long_documents=truncate")
        if key not in known:
            raise RegistryError(f"--set {key!r}: not a retriever setting; known: {', '.join(known)}")
        try:
            parsed[key] = tomlkit.parse(f"v = {raw.strip()}")["v"].unwrap()
        except tomlkit.exceptions.ParseError:
            parsed[key] = raw
    return parsed


def _table(spec: RetrieverSpec) -> dict[str, Any]:
    """The spec's values that differ from a bare RetrieverSpec's (what a new name starts from)."""
    defaults = RetrieverSpec()
    values = spec.model_dump(mode="json")
    return {k: v for k, v in values.items() if v != getattr(defaults, k) and v is not None}
