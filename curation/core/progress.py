"""The one progress signature every long job reports through: tqdm in the CLI, a bar in the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

ProgressCallback = Callable[[int, int], None]
"""Called with (done, total) as work advances; total may change while a job discovers its work."""


class ProgressEstimate:
    """The text of a progress bar that shows the time left, estimated from the rate since the first report
    (for bars that have no ETA of their own, like Streamlit's)."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self.first: tuple[float, int] | None = None

    def text(self, done: int, total: int) -> str:
        now = time.monotonic()
        if self.first is None:
            self.first = (now, done)
        started, done_then = self.first
        said = f"{done:,}/{total:,} {self.unit}"
        if done <= done_then or done >= total:
            return said
        left = (total - done) * (now - started) / (done - done_then)
        return f"{said}, about {timedelta(seconds=round(left))} left"
