"""Errors more than one stage raises, so that no stage imports another just for an exception class."""

from __future__ import annotations

from store.locks import LockTimeout  # every database operation raises it after waiting too long for a lock

__all__ = ["CuratorRequired", "InputError", "LockTimeout", "curator_name"]


class InputError(Exception):
    """Nothing at all can be read from an input (missing file, unknown format, empty query)."""


class CuratorRequired(ValueError):
    """A decision or judgment was attempted without a curator name."""


def curator_name(curator: str, action: str = "recording decisions") -> str:
    """The curator's name, trimmed; CuratorRequired when there is none (nothing is recorded anonymously)."""
    name = curator.strip()
    if not name:
        raise CuratorRequired(f"enter your name as curator before {action}")
    return name
