"""Why a map cannot be made or used as asked."""

from __future__ import annotations


class MapError(ValueError):
    """A map that cannot be made or used as asked (full-text retriever, too few documents, no map yet)."""


class MapBusy(RuntimeError):
    """Another process is projecting the same retriever."""
