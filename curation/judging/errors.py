"""Why a judging request cannot be served."""

from __future__ import annotations


class JudgingError(ValueError):
    """A judging request that cannot be served (the message says what to do)."""
