"""Which torch device encodes: the fastest one present unless the user names one.

torch is imported on first use, so commands and pages that never encode start quickly.
"""

from __future__ import annotations


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
