"""The embed job on a Ray cluster: the same job, with the encoding spread over a pool of encoder actors.

The driver (this process) does what needs the workspace: it reads the documents to do from DuckDB, cuts them
into passages, and writes each batch of whole documents to the retriever's LanceDB table, exactly as the local
engine does; so the job stays incremental and resumable (kill the driver, run again: every document has one
vector set). Ray Data carries the passage texts to the actors (`map_batches`, one actor per GPU, or CPU actors
where there is none) and their vectors back. Ray is an optional extra: `pip install sde-workbench[ray]`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from curation.core import ProgressCallback
from curation.retrieval.embed_job import (
    EmbedResult,
    _documents_to_do,
    _embed_lock,
    _passage_rows,
    _write,
    current_fingerprint,
    embed,
    open_encoder,
    table_name,
)
from curation.retrieval.errors import RayUnavailable
from embeddings.chunking import Chunker
from embeddings.quantization import to_storage
from embeddings.registry import get_spec, model_location, revision
from store import documents as document_store
from store import vectors

if TYPE_CHECKING:
    from curation.core import Workspace

# Passages sent to the actors in one Ray Data run: each run starts its actor pool (a model load per actor), so
# runs are large; the driver holds one run's texts and vectors.
ROUND_PASSAGES = 50_000


class _Encode:
    """A Ray actor holding one copy of the model; encodes the passages of whole write batches."""

    def __init__(self, spec_json: str, location: str, model_revision: str | None, device: str, batch: int) -> None:
        from embeddings.encoder import load_encoder
        from embeddings.registry import RetrieverSpec

        spec = RetrieverSpec.model_validate_json(spec_json)
        self.encoder = load_encoder(spec, location, device=device, batch_size=batch, revision=model_revision)

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, Any]:
        texts = [str(t) for t in rows["text"]]
        return {"batch": rows["batch"], "item": rows["item"], "vector": self.encoder.encode_passages(texts)}


def _start_ray(address: str | None, workers: int | None) -> Any:
    try:
        import ray
    except ImportError as err:
        raise RayUnavailable("the Ray engine needs Ray: pip install 'sde-workbench[ray]'") from err
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:  # a local instance on this machine's cores
                ray.init(num_cpus=workers or None, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise RayUnavailable(f"cannot reach the Ray cluster at {address or 'a local instance'}: {err}") from err
    return ray


def embed_on_ray(
    ws: Workspace,
    retriever: str,
    *,
    address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
) -> EmbedResult:
    """`embed` with the encoding on Ray: `workers` encoder actors (default: one per GPU of the cluster, else
    two on CPUs), each with `gpus_per_worker` GPUs. bm25 has no model to run: it is indexed here."""
    spec = get_spec(ws.settings.retrievers, retriever)
    if spec.kind == "bm25":
        return embed(ws, retriever, progress=progress)
    started = time.monotonic()
    ray = _start_ray(address, workers)
    gpus = float(ray.cluster_resources().get("GPU", 0))
    gpus_per_worker = gpus_per_worker or (1.0 if gpus else 0.0)
    workers = workers or (int(gpus // gpus_per_worker) if gpus_per_worker else 2) or 1
    name = table_name(retriever)
    table_fingerprint = current_fingerprint(ws, retriever)
    chunker = _chunker(ws, retriever)
    batch = batch_size or ws.settings.embedding.batch_size
    actor_args = (
        spec.model_dump_json(),
        model_location(retriever, spec, ws.root),
        revision(retriever, spec, ws.root),
        "cuda" if gpus_per_worker else "cpu",
        batch,
    )
    embedded = passages = 0
    with _embed_lock(ws, retriever):
        todo, skipped = _documents_to_do(ws, name, table_fingerprint, progress)
        step = ws.settings.embedding.docs_per_write
        batches = [todo[start : start + step] for start in range(0, len(todo), step)]
        for work, rows in _rounds(ws, batches, chunker):
            for i, vecs in _encoded(ray, rows, actor_args, workers, gpus_per_worker, batch):
                _write(ws, name, work[i], rows[i], to_storage(vecs, spec.precision), table_fingerprint)
                embedded += len(work[i])
                passages += len(rows[i]["text"])
                if progress:
                    progress(embedded, len(todo))
        vectors.build_indexes(ws.vectors_uri, name, ws.settings.vectors, metric=spec.metric)
    return EmbedResult(
        retriever=retriever,
        embedded=embedded,
        skipped=skipped,
        passages=passages,
        device=f"ray:{workers}x{'gpu' if gpus_per_worker else 'cpu'}",
        seconds=round(time.monotonic() - started, 3),
    )


def _rounds(
    ws: Workspace, batches: list[list[tuple[str, bool]]], chunker: Chunker
) -> Iterator[tuple[list[list[tuple[str, bool]]], list[dict[str, list[Any]]]]]:
    """Write batches grouped into runs of about ROUND_PASSAGES passages, each with its passage rows."""
    work: list[list[tuple[str, bool]]] = []
    rows: list[dict[str, list[Any]]] = []
    for batch in batches:
        work.append(batch)
        rows.append(_passage_rows(document_store.get_documents(ws.db, [doc_id for doc_id, _ in batch]), chunker))
        if sum(len(r["text"]) for r in rows) >= ROUND_PASSAGES:
            yield work, rows
            work, rows = [], []
    if work:
        yield work, rows


def _chunker(ws: Workspace, retriever: str) -> Chunker:
    """The passages the local engine would cut: the model's own chunker (loaded on the driver's CPU, for its
    tokenizer; the actors do the encoding)."""
    return open_encoder(ws, retriever, device="cpu").chunker()


def _encoded(
    ray: Any,
    rows: list[dict[str, list[Any]]],
    actor_args: tuple[Any, ...],
    workers: int,
    gpus_per_worker: float,
    batch: int,
) -> Iterator[tuple[int, np.ndarray]]:
    """(write batch, its vectors in passage order) for each write batch, as soon as all its passages are back."""
    texts = [(i, j, text) for i, r in enumerate(rows) for j, text in enumerate(r["encode"])]
    dataset = ray.data.from_items([{"batch": i, "item": j, "text": t} for i, j, t in texts])
    encoded = dataset.map_batches(
        _Encode,
        fn_constructor_args=actor_args,
        batch_size=batch,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_gpus=gpus_per_worker or None,
    )
    pending = {i: [None] * len(r["encode"]) for i, r in enumerate(rows)}
    missing = {i: len(r["encode"]) for i, r in enumerate(rows)}
    for i, r in enumerate(rows):
        if not r["encode"]:
            yield i, np.zeros((0, 0), dtype=np.float32)
    for block in encoded.iter_batches(batch_size=None, batch_format="numpy"):
        for i, j, vector in zip(block["batch"], block["item"], block["vector"], strict=True):
            pending[int(i)][int(j)] = vector
            missing[int(i)] -= 1
            if missing[int(i)] == 0:
                yield int(i), np.stack(pending.pop(int(i)))
