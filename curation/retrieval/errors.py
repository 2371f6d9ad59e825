"""What stops a search, a run or an embed job for reasons the user can fix; commands and pages report these plainly."""

from __future__ import annotations

from embeddings.device import DeviceUnavailable
from embeddings.registry import RetrieverUnavailable, UnknownRetriever


class SearchError(ValueError):
    """A search that cannot run as asked (no vectors yet, bad filter, unknown query set)."""


class RayUnavailable(RuntimeError):
    """The Ray engine cannot run: Ray is not installed, or its cluster cannot be reached."""


class NoStoredRun(LookupError):
    """A name is neither a stored run of a query set nor a retriever that could make one."""


# What stops a search or a run for reasons the user can fix; commands and pages report these plainly.
RETRIEVAL_ERRORS: tuple[type[Exception], ...] = (
    UnknownRetriever,
    RetrieverUnavailable,
    DeviceUnavailable,
    SearchError,
    RayUnavailable,
)
