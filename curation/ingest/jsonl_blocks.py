"""JSONL files cut into blocks of whole lines, each with the number of its first line, for parallel parsing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import islice
from pathlib import Path


def jsonl_ranges(path: Path, block_bytes: int) -> Iterator[tuple[int, int, int]]:
    """Blocks of whole lines of a JSONL file as (first line number, byte offset, byte size).

    Worker processes read their own block (`jsonl_range_lines`), so the lines never travel between
    processes; here the file is only scanned for line ends.
    """
    with open(path, "rb") as handle:
        first, offset = 1, 0
        while chunk := handle.read(block_bytes):
            if b"\n" not in chunk:  # one line longer than a block: read on to its end
                pieces = [chunk]
                while more := handle.read(block_bytes):
                    pieces.append(more)
                    if b"\n" in more:
                        break
                chunk = b"".join(pieces)
            cut = chunk.rfind(b"\n") + 1 or len(chunk)  # no line end left: the last line, unterminated
            yield first, offset, cut
            first += chunk.count(b"\n", 0, cut) + (not chunk[:cut].endswith(b"\n"))
            offset += cut
            handle.seek(offset)


def jsonl_range_lines(path: Path, offset: int, size: int) -> list[bytes]:
    """The lines of one block from `jsonl_ranges`, each with its line end, as iterating the file gives them."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        return list(io.BytesIO(handle.read(size)))


def jsonl_blocks(path: Path, lines_per_block: int = 2_000) -> Iterator[tuple[int, list[bytes]]]:
    """Raw lines of a JSONL file in blocks, each with the number of its first line."""
    with open(path, "rb") as handle:
        first = 1
        while lines := list(islice(handle, lines_per_block)):
            yield first, lines
            first += len(lines)
