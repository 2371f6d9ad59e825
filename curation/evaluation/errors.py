"""Why an evaluation or an export cannot be made as asked (the messages say what to change)."""

from __future__ import annotations


class EvaluationError(ValueError):
    """The evaluation asked for cannot be made (unknown metric, nothing judged relevant, ...)."""


class ExportError(ValueError):
    """An export that cannot be made (the message says what to change)."""
