"""The SDE taxonomy: divisions, document types, tree paths and collection keys.

Exports spell these loosely ("earth_science", "EARTH SCIENCE", "/Earth Science/Data/..."). Known
spellings are mapped onto the canonical names; anything else is kept exactly as written. The store
flags values outside these lists (and "General", and retired types) so a curator can fix them.
"""

from __future__ import annotations

import re
from functools import cache

DIVISIONS: tuple[str, ...] = (
    "Astrophysics",
    "Biological and Physical Sciences",
    "Earth Science",
    "Heliophysics",
    "Planetary Science",
)
PLACEHOLDER_DIVISION = "General"
DOCUMENT_TYPES: tuple[str, ...] = (
    "Images",
    "Data",
    "Documentation",
    "Software and Tools",
    "Missions and Instruments",
)
RETIRED_DOCUMENT_TYPES: tuple[str, ...] = ("Training and Education",)


def _key(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", value.lower().replace("&", "and"))


_DIVISION_KEYS = {_key(d): d for d in (*DIVISIONS, PLACEHOLDER_DIVISION)}
_DIVISION_KEYS.update(
    {
        "bps": "Biological and Physical Sciences",
        "biologicalphysicalsciences": "Biological and Physical Sciences",
        "planetary": "Planetary Science",
        "earth": "Earth Science",
        "helio": "Heliophysics",
        "astro": "Astrophysics",
    }
)
_TYPE_KEYS = {_key(t): t for t in (*DOCUMENT_TYPES, *RETIRED_DOCUMENT_TYPES)}
_TYPE_KEYS.update(
    {
        "image": "Images",
        "dataset": "Data",
        "datasets": "Data",
        "software": "Software and Tools",
        "softwaretools": "Software and Tools",
        "tools": "Software and Tools",
        "missions": "Missions and Instruments",
        "instruments": "Missions and Instruments",
        "missionsinstruments": "Missions and Instruments",
        "docs": "Documentation",
    }
)


@cache
def normalize_division(value: str | None) -> str | None:
    """The canonical division for a known spelling; anything else is returned as written (and flagged on store)."""
    if value is None or not value.strip():
        return None
    return _DIVISION_KEYS.get(_key(value), value)


@cache
def normalize_document_type(value: str | None) -> str | None:
    """The canonical document type for a known spelling; anything else is returned as written."""
    if value is None or not value.strip():
        return None
    return _TYPE_KEYS.get(_key(value), value)


@cache
def division_from_tree_path(tree_path: str | None) -> str | None:
    """The division named by a tree path's first segment ('/Earth Science/...' or 'Astrophysics/...')."""
    if not tree_path:
        return None
    first = next((part for part in tree_path.strip().split("/") if part.strip()), None)
    if first is None:
        return None
    canonical = _DIVISION_KEYS.get(_key(first))
    return canonical


@cache
def collection_key(name: str) -> str:
    """Slugify a collection name the way SDE does: 'NASA Applied Sciences' -> 'nasa_applied_sciences'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
