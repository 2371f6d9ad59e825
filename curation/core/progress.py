"""The one progress signature every long job reports through: tqdm in the CLI, a bar in the app."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]
"""Called with (done, total) as work advances; total may change while a job discovers its work."""
