"""Training sources of a mix: `DIR[:WEIGHT]` entries, each an `export pairs` folder, a dataset saved to disk, or a
Parquet or JSONL file with `anchor, positive[, negative...]` columns.

A replay source (general pairs mixed back in against forgetting, as INDUS-SDE-ST's Stage 2 did with its
Stage-1 pairs) is an entry like any other: its weight says how much of it each epoch sees.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, Field

from curation.training.errors import FinetuneError
from curation.training.pairs import PAIR_COLUMNS

_NEGATIVE = re.compile(r"^negative(_\d+)?$")


class MixSource(BaseModel):
    """One source of a training mix and its weight (batches drawn = round(pairs x weight) / batch size)."""

    path: Path
    weight: float = Field(1.0, gt=0)
    name: str = ""


def parse_mix(entries: list[str]) -> list[MixSource]:
    """`DIR[:WEIGHT]` entries as sources with unique names (a path's own ':' is kept when no number follows)."""
    sources: list[MixSource] = []
    for entry in entries:
        path, sep, weight = entry.rpartition(":")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            path, value = entry, 1.0
        if not sep:
            path = entry
        if value <= 0:
            raise FinetuneError(f"--mix {entry!r}: a weight must be above 0")
        source = Path(path).expanduser().resolve()
        name, n = _slug(source), 1
        while name in {s.name for s in sources}:
            n += 1
            name = f"{_slug(source)}-{n}"
        sources.append(MixSource(path=source, weight=value, name=name))
    if not sources:
        raise FinetuneError("name at least one training source: --pairs DIR or --mix DIR[:WEIGHT]")
    return sources


def load_pairs(path: Path):  # noqa: ANN201 (datasets is imported here only: seconds to import)
    """The `train` pairs of a source with its pair columns (anchor, positive, then any negatives)."""
    from datasets import Dataset, DatasetDict, load_dataset, load_from_disk

    folder = path / "dataset" if (path / "dataset").is_dir() else path
    try:
        if path.is_file() and path.suffix in {".parquet", ".jsonl", ".json"}:
            kind = "parquet" if path.suffix == ".parquet" else "json"
            loaded = load_dataset(kind, data_files=str(path), split="train")
        else:
            loaded = load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as exc:
        raise FinetuneError(f"{path} holds no training pairs; make them with `sde-workbench export pairs`") from exc
    if isinstance(loaded, DatasetDict):
        if "train" not in loaded:
            raise FinetuneError(f"{path} has no train split (splits: {', '.join(loaded)})")
        loaded = loaded["train"]
    assert isinstance(loaded, Dataset)
    negatives = [c for c in loaded.column_names if _NEGATIVE.match(c)]
    columns = [c for c in PAIR_COLUMNS[:2] if c in loaded.column_names] + negatives
    if columns[:2] != ["anchor", "positive"]:
        raise FinetuneError(f"{path}: pairs need columns anchor and positive (found {', '.join(loaded.column_names)})")
    if len(loaded) == 0:
        raise FinetuneError(f"{path}: the train split is empty")
    return loaded.select_columns(columns)


def _slug(path: Path) -> str:
    name = path.stem if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "pairs"
