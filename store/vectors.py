"""LanceDB: one table of passages per retriever under the workspace's `vectors/` folder, or on object storage.

A row is one passage of one document: doc_id, passage index, passage text, the content_hash it was
made from (staleness is derived by comparing it with the document's), the filter columns, and the
vector (float32, float16, or packed sign bits for binary retrievers; no vector for bm25). A table's
schema metadata records the retriever fingerprint it was built under, so vectors made with other
settings are never mixed with new ones.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa

from store.settings import VectorSettings

if TYPE_CHECKING:
    import lancedb

FILTER_COLUMNS = ("division", "document_type", "collection")
Metric = Literal["cosine", "hamming"]
_FINGERPRINT = b"sde_workbench.fingerprint"
Location = Path | str  # a local folder, or an object-store URI (s3://bucket/prefix): LanceDB opens both


@functools.cache
def _connect(vectors_dir: str) -> lancedb.DBConnection:
    """One connection per location and process; lancedb is imported here, on first use, to keep start-up fast.

    Object stores take their credentials and endpoint from the environment (AWS_*, GOOGLE_*, AZURE_*)."""
    # LanceDB's Rust log warns on every table it creates; keep its errors, unless the user chose a level.
    os.environ.setdefault("LANCEDB_LOG", "error")
    import lancedb

    # Strong consistency: every read sees the latest commit of a concurrent embed job.
    return lancedb.connect(vectors_dir, read_consistency_interval=timedelta(0))


def _open(vectors_dir: Location, name: str) -> Any:
    return _connect(str(vectors_dir)).open_table(name)


def exists(vectors_dir: Location, name: str) -> bool:
    return name in _connect(str(vectors_dir)).list_tables().tables


def _open_if_any(vectors_dir: Location, name: str) -> Any | None:
    """The table, or None when there is none yet (or another process is still creating it)."""
    if not exists(vectors_dir, name):
        return None
    try:
        return _open(vectors_dir, name)
    except ValueError:  # listed, but its first commit is not written yet
        return None


def fingerprint(vectors_dir: Location, name: str) -> str | None:
    """The retriever fingerprint a table was built under, None when there is no table."""
    table = _open_if_any(vectors_dir, name)
    if table is None:
        return None
    metadata = table.schema.metadata or {}
    return metadata.get(_FINGERPRINT, b"").decode() or None


def drop(vectors_dir: Location, name: str) -> None:
    if exists(vectors_dir, name):
        _connect(str(vectors_dir)).drop_table(name)


def present_documents(vectors_dir: Location, name: str) -> pa.Table:
    """doc_id, content_hash and filter columns of every document with vectors (one row each)."""
    columns = ["doc_id", "content_hash", *FILTER_COLUMNS]
    table = _open_if_any(vectors_dir, name)
    if table is None:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    return table.search().where("passage = 0").select(columns).to_arrow()


def passage_count(vectors_dir: Location, name: str) -> int:
    table = _open_if_any(vectors_dir, name)
    return table.count_rows() if table is not None else 0


def storage_bytes(vectors_dir: Location, name: str) -> int:
    """Bytes the table's current version occupies on disk."""
    table = _open_if_any(vectors_dir, name)
    return int(table.stats()["total_bytes"]) if table is not None else 0


def passages_table(columns: dict[str, Sequence[Any]], vectors: np.ndarray | None) -> pa.Table:
    """Rows for `write_documents`: the passage columns plus a fixed-size-list vector column."""
    table = pa.table(
        {
            "doc_id": pa.array(columns["doc_id"], pa.string()),
            "passage": pa.array(columns["passage"], pa.int32()),
            "text": pa.array(columns["text"], pa.string()),
            "content_hash": pa.array(columns["content_hash"], pa.string()),
            **{c: pa.array(columns[c], pa.string()) for c in FILTER_COLUMNS},
        }
    )
    if vectors is None:
        return table
    flat = pa.array(np.ascontiguousarray(vectors).ravel())
    return table.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]))


def write_documents(
    vectors_dir: Location, name: str, rows: pa.Table, *, replace: Iterable[str], table_fingerprint: str
) -> None:
    """Add the passages of some documents, first deleting the old passages of those in `replace`.

    Each step is one LanceDB commit. A crash between them leaves those documents without vectors
    (the next embed redoes them), never with two sets. The caller holds the retriever's embed lock.
    """
    table = _open_if_any(vectors_dir, name)
    if table is None:  # "overwrite" also clears what a process killed while creating the table left
        metadata = {**(rows.schema.metadata or {}), _FINGERPRINT: table_fingerprint.encode()}
        _connect(str(vectors_dir)).create_table(name, rows.replace_schema_metadata(metadata), mode="overwrite")
        return
    stale = list(replace)
    if stale:
        table.delete(in_list("doc_id", stale))
    table.add(rows)


def retag_documents(vectors_dir: Location, name: str, changes: Iterable[dict[str, Any]]) -> int:
    """Copy changed division / document type / collection values onto stored passages.

    These columns serve filtered search, so they follow the documents even when the text (and so the
    vectors) did not change. `changes` holds doc_id plus the three columns; rows sharing values are
    updated together.
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    for change in changes:
        groups.setdefault(tuple(change[c] for c in FILTER_COLUMNS), []).append(change["doc_id"])
    if not groups:
        return 0
    table = _open(vectors_dir, name)
    for values, doc_ids in groups.items():
        table.update(where=in_list("doc_id", doc_ids), values=dict(zip(FILTER_COLUMNS, values, strict=True)))
    return sum(len(ids) for ids in groups.values())


def build_indexes(vectors_dir: Location, name: str, settings: VectorSettings, *, metric: Metric | None) -> None:
    """Compact the batches an embed job wrote and bring every index up to date.

    Scalar indexes serve doc_id lookups and filters; the full-text index serves bm25, fts and hybrid
    search; an ANN index is built once the table reaches `ann_min_rows` passages (exact search below
    that is fast enough) and rebuilt when the table has more than doubled since it was trained.
    """
    table = _open_if_any(vectors_dir, name)
    if table is None:
        return
    table.optimize(cleanup_older_than=timedelta(hours=1))
    indexed = {tuple(index.columns): index for index in table.list_indices()}
    from lancedb.index import FTS, Bitmap, BTree, HnswSq, IvfFlat, IvfPq, IvfSq

    configs: dict[str, Any] = {"doc_id": BTree(), "text": FTS(), **dict.fromkeys(FILTER_COLUMNS, Bitmap())}
    for column, config in configs.items():
        if (column,) not in indexed:
            table.create_index(column, config=config)
    rows = table.count_rows()
    if metric is None or rows < settings.ann_min_rows:
        return
    vector_index = indexed.get(("vector",))
    if vector_index is None or (vector_index.num_indexed_rows or 0) * 2 < rows:
        ann = {"IVF_SQ": IvfSq, "IVF_PQ": IvfPq, "IVF_HNSW_SQ": HnswSq}[settings.ann_index]
        config = IvfFlat(distance_type="hamming") if metric == "hamming" else ann(distance_type="cosine")
        table.create_index("vector", config=config, replace=True)


class Passages:
    """One passage table opened once for many searches (every query of a run)."""

    def __init__(self, vectors_dir: Location, name: str) -> None:
        self.table = _open(vectors_dir, name)

    def nearest(
        self,
        vectors: np.ndarray,
        *,
        limit: int,
        where: str | None,
        metric: Metric,
        settings: VectorSettings,
        with_vectors: bool = False,
    ) -> pa.Table:
        """The `limit` passages closest to each row of `vectors`, searched in one call: column `query_index`
        (the row), then `_distance` (smallest first within a query)."""
        columns = ["doc_id", "passage", "text", "_distance", *(["vector"] if with_vectors else [])]
        rows = np.atleast_2d(vectors)
        query = self.table.search(list(rows), vector_column_name="vector").distance_type(metric)
        query = query.nprobes(settings.nprobes).refine_factor(settings.refine_factor)
        if where:
            query = query.where(where, prefilter=True)
        found = query.limit(limit).select(columns).to_arrow()
        if "query_index" not in found.column_names:  # LanceDB adds it only for two or more vectors
            found = found.add_column(0, "query_index", pa.array(np.zeros(found.num_rows, np.int32)))
        return found

    def scan(self, columns: Sequence[str], *, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """Every passage's `columns`, streamed in record batches (for exact search over all of them)."""
        yield from self.table.search().select(list(columns)).to_batches(batch_rows)

    def full_text(self, text: str, *, limit: int, where: str | None) -> pa.Table:
        """The `limit` passages best matching `text` by BM25 (column `_score`, largest first)."""
        query = self.table.search(text, query_type="fts", fts_columns="text")
        if where:
            query = query.where(where, prefilter=True)
        return query.limit(limit).select(["doc_id", "passage", "text", "_score"]).to_arrow()


def version(vectors_dir: Location, name: str) -> int | None:
    """The table's version: it grows with every change of its rows or indexes (None when there is no table)."""
    table = _open_if_any(vectors_dir, name)
    return int(table.version) if table is not None else None


def vector_width(vectors_dir: Location, name: str) -> int:
    """Components per stored vector (bytes for packed sign bits); 0 without a table or a vector column."""
    table = _open_if_any(vectors_dir, name)
    if table is None or "vector" not in table.schema.names:
        return 0
    return int(table.schema.field("vector").type.list_size)


def document_count(vectors_dir: Location, name: str) -> int:
    """Documents with passages in the table (each has a passage 0)."""
    table = _open_if_any(vectors_dir, name)
    return table.count_rows("passage = 0") if table is not None else 0


def write_transformed_copy(
    vectors_dir: Location,
    source: str,
    target: str,
    transform: Callable[[np.ndarray], np.ndarray],
    *,
    table_fingerprint: str,
    settings: VectorSettings,
    metric: Metric,
    batch_rows: int = 65_536,
) -> None:
    """Write table `target` as a copy of `source` whose vectors went through `transform` (float to sign
    bits, say), replacing an older one; a vector index is built from `ann_min_rows` passages."""
    columns = ["doc_id", "passage", "text", "content_hash", *FILTER_COLUMNS, "vector"]
    batches = scan_vectors(vectors_dir, source, batch_rows=batch_rows, columns=columns)
    connection = _connect(str(vectors_dir))
    created = None
    for batch in batches:
        flat = batch.column("vector")
        dimension = flat.type.list_size
        values = flat.flatten().to_numpy(zero_copy_only=False).reshape(len(batch), dimension)
        changed = transform(values)
        vector = pa.FixedSizeListArray.from_arrays(pa.array(changed.ravel()), changed.shape[1])
        rows = pa.Table.from_batches([batch]).drop_columns(["vector"]).append_column("vector", vector)
        if created is None:
            metadata = {_FINGERPRINT: table_fingerprint.encode()}
            created = connection.create_table(target, rows.replace_schema_metadata(metadata), mode="overwrite")
        else:
            created.add(rows)
    if created is not None and created.count_rows() >= settings.ann_min_rows:
        from lancedb.index import IvfFlat

        created.create_index("vector", config=IvfFlat(distance_type=metric), replace=True)


def scan_vectors(
    vectors_dir: Location,
    name: str,
    *,
    batch_rows: int = 65_536,
    where: str | None = None,
    columns: Sequence[str] = ("doc_id", "vector"),
) -> Iterator[pa.RecordBatch]:
    """Every passage's doc_id and vector (or other `columns`) of the passages matching `where`, streamed in
    record batches."""
    query = _open(vectors_dir, name).search()
    if where:
        query = query.where(where)
    yield from query.select(list(columns)).to_batches(batch_rows)


def quote(value: str) -> str:
    """A string literal for a LanceDB filter."""
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(quote(v) for v in values)})"
