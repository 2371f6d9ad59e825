"""The record of trainings: what each trained and how, its checkpoints' metrics, and the checkpoint table
(the leaderboard with the base, the best and the last model of a training as rows, each with its 1-bit
variant)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from curation.evaluation import Leaderboard, leaderboard, parse_benchmarks
from curation.training.errors import FinetuneError
from store import trainings as training_store

if TYPE_CHECKING:
    from curation.core import Workspace


class TrainingRecord(BaseModel):
    """One recorded training."""

    training_id: str
    retriever: str
    best_retriever: str | None
    base: str
    base_revision: str | None
    sources: list[dict[str, Any]]
    loss: str
    hyperparameters: dict[str, Any]
    tool_version: str | None
    device: str
    processes: int
    steps: int | None
    final_loss: float | None
    select_metric: str | None
    best_step: int | None
    losses: list[tuple[int, float]] | None
    started_at: datetime
    seconds: float | None


def list_trainings(ws: Workspace) -> list[TrainingRecord]:
    """Every training of the workspace, newest first."""
    return [TrainingRecord.model_validate(row) for row in training_store.list_trainings(ws.db)]


def training_checkpoints(ws: Workspace, training_id: str) -> list[dict[str, Any]]:
    """Rows step, epoch, benchmark, metric, value of a training's evaluations (step 0 is the base model)."""
    return training_store.training_checkpoints(ws.db, training_id)


def checkpoint_table(
    ws: Workspace, training: str, benchmarks: str | list[str], *, metrics: list[str] | None = None
) -> Leaderboard:
    """The leaderboard of a training (by id or by its retriever's name): base, best and last model as rows,
    each followed by its 1-bit variant where it has one, on `benchmarks` (SET[:SPLIT])."""
    found = [t for t in list_trainings(ws) if training in (t.training_id, t.retriever)]
    if not found:
        raise FinetuneError(f"no training {training!r}; see `sde-workbench trainings`")
    record = found[0]
    rows = [record.base, *([record.best_retriever] if record.best_retriever else []), record.retriever]
    rows = [r for r in rows if r in ws.settings.retrievers]
    return leaderboard(ws, rows, parse_benchmarks(ws, benchmarks), metrics=metrics, binary=True)
