"""Model revisions: what identifies the weights in a local model folder, so vectors, runs and maps made with
other weights are known to be stale even when the folder's path did not change (`finetune --overwrite`).

A folder saved by the workbench's fine-tuning carries an id written at save time; any other folder (a
downloaded model, a package's weights, the Hugging Face cache) is identified by a hash of its weight files,
computed once per process for each (path, size, modification time) of those files.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

REVISION_FILE = "sde_workbench_revision.txt"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".gguf")
_CHUNK = 1 << 22

_hashes: dict[tuple[tuple[str, int, int], ...], str] = {}
_lock = threading.Lock()


def write_revision(folder: Path) -> str:
    """Stamp a freshly saved model folder with a new revision id; returns it."""
    revision = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    (folder / REVISION_FILE).write_text(revision + "\n", encoding="utf-8")
    return revision


def model_revision(folder: Path) -> str:
    """The revision of the model in `folder`: its stamped id, else a hash of its weight files."""
    stamp = folder / REVISION_FILE
    if stamp.is_file():
        return stamp.read_text(encoding="utf-8").strip()
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix in WEIGHT_SUFFIXES and path.is_file() and not _in_checkpoint(path, folder)
    )
    key = tuple((str(path), (s := path.stat()).st_size, s.st_mtime_ns) for path in files)
    with _lock:
        if key not in _hashes:
            _hashes[key] = _hash_files(folder, files)
        return _hashes[key]


def _in_checkpoint(path: Path, folder: Path) -> bool:
    return any(part.startswith(("checkpoint", ".")) for part in path.relative_to(folder).parts[:-1])


def _hash_files(folder: Path, files: list[Path]) -> str:
    digest = hashlib.blake2b(digest_size=12)
    for path in files:
        digest.update(str(path.relative_to(folder)).encode() + b"\x00")
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return "sha-" + digest.hexdigest() if files else "no-weights"
