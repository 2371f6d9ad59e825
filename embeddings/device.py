"""Which torch device encodes: the fastest one present unless the user names one.

torch is imported on first use, so commands and pages that never encode start quickly.
"""

from __future__ import annotations

import os


class DeviceUnavailable(RuntimeError):
    """The device asked for does not exist on this machine."""


def detect_device() -> str:
    """cuda, then mps, then cpu."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_device(requested: str | None = None) -> str:
    """`requested` ("cuda", "cuda:1", "mps", "cpu"; None or "auto" for the fastest present), checked."""
    if not requested or requested == "auto":
        return detect_device()
    import torch

    kind, _, index = requested.partition(":")
    if kind == "cpu":
        return "cpu"
    if kind == "cuda" and torch.cuda.is_available():
        if not index or (index.isdigit() and int(index) < torch.cuda.device_count()):
            return requested
    elif kind == "mps" and torch.backends.mps.is_available():
        return "mps"
    raise DeviceUnavailable(
        f"device {requested!r} is not available here (found: {detect_device()}); "
        "use --device auto or --device cpu, or set [embedding] device in workbench.toml"
    )


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def set_threads(threads: int | None) -> int:
    """Make torch and the Hugging Face tokenizer use `threads` CPU threads (the usable cores when None).

    torch's default counts every core of the machine and oversubscribes busy or narrowed ones (20x slower
    measured on 2 shared cores); the tokenizer's thread pool reads RAYON_NUM_THREADS when it starts.
    """
    import torch

    chosen = threads or usable_cores()
    torch.set_num_threads(chosen)
    os.environ["RAYON_NUM_THREADS"] = str(chosen)
    if chosen == 1:
        os.environ["TOKENIZERS_PARALLELISM"] = "false"
    return chosen
