"""The staging area of one ingest: mapped rows written as Parquet parts outside the database.

Large JSONL inputs are split into byte ranges of whole lines that worker processes read, parse,
validate, map and write as parts themselves, so neither lines nor rows travel between processes
and only counts and rejects come back. Other inputs are mapped block by block in-process. Each part
row carries an `ordinal` (file index, line or row) so duplicates can be resolved in input order when
the parts are merged.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import count, islice
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curation.core import Reject
from curation.ingest.formats import is_jsonl
from curation.ingest.jsonl_blocks import jsonl_range_lines, jsonl_ranges
from curation.ingest.mapping import MappedBlock, MappingContext, map_items, map_jsonl_block
from curation.ingest.records import read_records

STAGING_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("division", pa.string()),
        ("document_type", pa.string()),
        ("collection", pa.string()),
        ("tree_path", pa.string()),
        ("source_format", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("metadata", pa.string()),
        ("ordinal", pa.int64()),
    ]
)
BLOCK_LINES = 2_000  # rows per part when mapping in-process
BLOCK_BYTES = 4 * 2**20  # bytes of whole lines per block when workers parse a JSONL file
PARALLEL_MIN_BYTES = 32 * 2**20
_FILE_SHIFT = 2**40  # ordinal = file index * 2**40 + line or row number


@dataclass
class StagedBlock:
    """What staging one block did: rows written, rows met, rows parsed, bytes consumed, rejects."""

    rows: int
    read: int
    parsed: int
    size: int
    rejects: list[Reject]


def write_part(block: MappedBlock, part: Path, file_index: int) -> StagedBlock:
    """Write a block's good rows as one Parquet part (none if it has no good rows)."""
    if block.rows:
        columns = {name: [row[name] for row in block.rows] for name in STAGING_SCHEMA.names[:-1]}
        columns["ordinal"] = [file_index * _FILE_SHIFT + line for line in columns["source_line"]]
        pq.write_table(pa.Table.from_pydict(columns, schema=STAGING_SCHEMA), part, compression="none")
    return StagedBlock(len(block.rows), block.read, block.parsed, block.size, block.rejects)


def stage_jsonl_block(
    file: Path, first_line: int, offset: int, size: int, ctx: MappingContext, part: Path, file_index: int
) -> StagedBlock:
    """Worker entry point: read, parse, map and write one block of JSONL lines."""
    lines = jsonl_range_lines(file, offset, size)
    return write_part(map_jsonl_block(first_line, lines, ctx), part, file_index)


class StagingArea:
    """A folder of parts for one ingest, removed when the ingest ends (or by the next one after a crash)."""

    def __init__(self, parent: Path, workers: int) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(parent)
        self.folder = parent / f"ingest-{os.getpid()}-{uuid.uuid4().hex}"
        self.folder.mkdir()
        self.workers = workers
        self.rows = 0
        self._parts = count()

    @property
    def glob(self) -> str:
        return str(self.folder / "*.parquet")

    def stage(
        self, file: Path, ctx: MappingContext, file_index: int, progress: Callable[[int], None]
    ) -> Iterator[StagedBlock]:
        """Stage one input file block by block, in order; large JSONL files use a pool of processes."""
        if self.workers > 1 and is_jsonl(file) and file.stat().st_size >= PARALLEL_MIN_BYTES:
            blocks = self._parallel_jsonl(file, ctx, file_index)
        else:
            items = read_records(file, progress)
            blocks = (
                write_part(map_items(chunk, ctx), self._next_part(), file_index)
                for chunk in iter(lambda: list(islice(items, BLOCK_LINES)), [])
            )
        for block in blocks:
            self.rows += block.rows
            yield block

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _next_part(self) -> Path:
        return self.folder / f"part-{next(self._parts):07d}.parquet"

    def _parallel_jsonl(self, file: Path, ctx: MappingContext, file_index: int) -> Iterator[StagedBlock]:
        """At most two blocks per worker are in flight, so memory stays flat on any input size."""
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["curation.ingest.staging"])
        met = 0
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            pending: deque[Future[StagedBlock]] = deque()
            for first_line, offset, size in jsonl_ranges(file, BLOCK_BYTES):
                part = self._next_part()
                pending.append(pool.submit(stage_jsonl_block, file, first_line, offset, size, ctx, part, file_index))
                while len(pending) >= 2 * self.workers or (pending and pending[0].done()):
                    block = pending.popleft().result()
                    met += block.read
                    yield block
            while pending:
                block = pending.popleft().result()
                met += block.read
                yield block
        if not met:
            yield StagedBlock(0, 0, 0, 0, [Reject(file=str(file), reason="empty file (only blank lines)")])


def _remove_orphans(parent: Path) -> None:
    """Delete staging folders of ingests that were killed (their process no longer exists)."""
    for folder in parent.glob("ingest-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
