"""Fine-tuning trainings and the metrics of their checkpoints: what was trained, how, and how each evaluated
checkpoint scored, so a training can be compared, reproduced and its best checkpoint found again."""

from __future__ import annotations

import json
from typing import Any

from store.database import Database, fetch_dicts

TRAINING_FIELDS = (
    "training_id", "retriever", "best_retriever", "base", "base_revision", "sources", "loss", "hyperparameters",
    "tool_version", "device", "processes", "steps", "final_loss", "select_metric", "best_step", "losses",
    "started_at", "seconds",
)  # fmt: skip
_JSON = ("sources", "hyperparameters", "losses")


def save_training(db: Database, training: dict[str, Any], checkpoints: list[dict[str, Any]]) -> None:
    """Store (or replace) a training and its checkpoint rows (step, epoch, benchmark, metric, value)."""
    row = {k: json.dumps(training.get(k)) if k in _JSON else training.get(k) for k in TRAINING_FIELDS}
    with db.write() as con:
        con.execute("DELETE FROM training_checkpoints WHERE training_id = ?", [row["training_id"]])
        con.execute("DELETE FROM trainings WHERE training_id = ?", [row["training_id"]])
        con.execute(
            f"INSERT INTO trainings ({', '.join(TRAINING_FIELDS)}) "
            f"VALUES ({', '.join('$' + k for k in TRAINING_FIELDS)})",
            row,
        )
        if checkpoints:
            con.executemany(
                "INSERT INTO training_checkpoints VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [row["training_id"], c["step"], c.get("epoch"), c["benchmark"], c["metric"], c["value"]]
                    for c in checkpoints
                ],
            )


def list_trainings(db: Database) -> list[dict[str, Any]]:
    """Every training, newest first."""
    with db.read() as con:
        rows = fetch_dicts(con, f"SELECT {', '.join(TRAINING_FIELDS)} FROM trainings ORDER BY started_at DESC")
    return [{k: json.loads(v) if k in _JSON and v is not None else v for k, v in r.items()} for r in rows]


def training_checkpoints(db: Database, training_id: str) -> list[dict[str, Any]]:
    """A training's checkpoint rows, by step, benchmark and metric."""
    with db.read() as con:
        return fetch_dicts(
            con,
            "SELECT step, epoch, benchmark, metric, value FROM training_checkpoints WHERE training_id = ? "
            "ORDER BY step, benchmark, metric",
            [training_id],
        )
