"""How every command reports: one JSON object on stdout with --json, readable text otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import orjson
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

EXIT_NOTHING_DONE = 2
console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


def emit(result: BaseModel | dict[str, Any], *, as_json: bool, title: str | None = None) -> None:
    """Print a command's summary: exactly one JSON object, or a small table for people."""
    data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    if as_json:
        sys.stdout.write(orjson.dumps(data, default=str).decode() + "\n")
        sys.stdout.flush()
        return
    table = Table(title=title, show_header=False, box=None)
    for key, value in data.items():
        table.add_row(f"[bold]{key}[/bold]", _render(value))
    console.print(table)


def emit_rows(key: str, rows: list[dict[str, Any]], *, as_json: bool, title: str | None = None) -> None:
    """Print a list of records: `{key: rows}` as one JSON object, or a table for people."""
    if as_json:
        emit({key: rows}, as_json=True)
        return
    table = Table(title=title)
    for column in rows[0] if rows else ["(none)"]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(_render(value)) for value in row.values()))
    console.print(table)


def _render(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else str(value)


def fail(reason: str, *, as_json: bool, code: int = EXIT_NOTHING_DONE) -> NoReturn:
    """Stop with a one-line reason on stderr (and as {"error": ...} on stdout with --json)."""
    line = " ".join(reason.split())
    if as_json:
        sys.stdout.write(orjson.dumps({"error": line}).decode() + "\n")
    err_console.print(Text.assemble(("error: ", "red"), line), soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def failures_as_exit(as_json: bool, *errors: type[Exception]) -> Iterator[None]:
    """Turn the expected errors of a command into `fail`, so users never see a traceback for them."""
    try:
        yield
    except errors as exc:
        fail(str(exc), as_json=as_json)
