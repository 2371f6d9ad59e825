"""Errors of training."""


class FinetuneError(ValueError):
    """A fine-tune that cannot start (the message says what to change)."""
