"""The embed job: passages and vectors per retriever in LanceDB, kept in step with the documents.

Incremental and resumable: a run embeds only documents whose current content hash has no vectors,
replaces stale ones, and writes in batches of whole documents, so a killed run loses at most one
batch and the next run picks up where it stopped (see `store.vectors.write_documents`).
"""

from __future__ import annotations

import re
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from curation.core import ProgressCallback, retrieval_text
from embeddings.chunking import Chunker
from embeddings.device import pick_device, set_threads
from embeddings.quantization import to_storage
from embeddings.registry import get_spec, model_location, retriever_fingerprint, revision
from store import documents as document_store
from store import vectors
from store.locks import job_lock

BULK_DOCS_PER_WRITE = 10_000  # bm25 has no model work: few large writes (and DuckDB reads) are what cost least

if TYPE_CHECKING:  # the encoder imports torch: loaded only when a model is
    from curation.core import Workspace
    from embeddings.encoder import Encoder


class EmbedBusy(RuntimeError):
    """Another process is embedding for the same retriever."""


class EmbedResult(BaseModel):
    """What one embed run did; `skipped` documents already had current vectors."""

    retriever: str
    embedded: int
    skipped: int
    passages: int
    device: str
    seconds: float


def table_name(retriever: str) -> str:
    """The LanceDB table of a retriever (names are kept to letters, digits, '-' and '_')."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", retriever)


def open_encoder(ws: Workspace, retriever: str, *, device: str | None = None, batch_size: int | None = None) -> Encoder:
    """The encoder of a dense retriever (model loaded once per process), on the configured device."""
    from embeddings.encoder import load_encoder

    spec = get_spec(ws.settings.retrievers, retriever)
    location = model_location(retriever, spec, ws.root)
    chosen = pick_device(device or ws.settings.embedding.device)
    return load_encoder(
        spec,
        location,
        device=chosen,
        batch_size=batch_size or ws.settings.embedding.batch_size,
        revision=revision(retriever, spec, ws.root),
    )


def current_fingerprint(ws: Workspace, retriever: str) -> str:
    """What a retriever's vectors, runs and maps must have been made under to be current: its settings and
    the revision of its weights here."""
    return retriever_fingerprint(retriever, get_spec(ws.settings.retrievers, retriever), ws.root)


def embed(
    ws: Workspace,
    retriever: str,
    *,
    device: str | None = None,
    batch_size: int | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
) -> EmbedResult:
    """Bring `retriever`'s vectors up to date with the documents, then its indexes.

    Raises UnknownRetriever, RetrieverUnavailable (with how to get the model), DeviceUnavailable
    or EmbedBusy; never leaves a document with two vector sets. `threads` (else `[embedding] threads`, else
    the usable cores) sets torch's and the tokenizer's CPU threads.
    """
    started = time.monotonic()
    spec = get_spec(ws.settings.retrievers, retriever)
    name = table_name(retriever)
    encoder = None
    if spec.kind != "bm25":
        set_threads(threads or ws.settings.embedding.threads)
        encoder = open_encoder(ws, retriever, device=device, batch_size=batch_size)
    chunker = encoder.chunker() if encoder else Chunker(spec.chunk_tokens, spec.chunk_overlap)
    table_fingerprint = current_fingerprint(ws, retriever)
    embedded = passages = 0
    with _embed_lock(ws, retriever):
        todo, skipped = _documents_to_do(ws, name, table_fingerprint, progress)
        step = (
            ws.settings.embedding.docs_per_write
            if encoder
            else max(ws.settings.embedding.docs_per_write, BULK_DOCS_PER_WRITE)
        )
        for batch in (todo[start : start + step] for start in range(0, len(todo), step)):
            docs = document_store.get_documents(ws.db, [doc_id for doc_id, _ in batch])
            rows = _passage_rows(docs, chunker)
            vecs = to_storage(encoder.encode_passages(rows["encode"]), spec.precision) if encoder else None
            _write(ws, name, batch, rows, vecs, table_fingerprint)
            embedded += len(batch)
            passages += len(rows["text"])
            if progress:
                progress(embedded, len(todo))
        vectors.build_indexes(ws.vectors_uri, name, ws.settings.vectors, metric=spec.metric)
    return EmbedResult(
        retriever=retriever,
        embedded=embedded,
        skipped=skipped,
        passages=passages,
        device=encoder.device if encoder else "none",
        seconds=round(time.monotonic() - started, 3),
    )


def _passage_rows(docs: list[dict[str, object]], chunker: Chunker) -> dict[str, list[object]]:
    """Columns of the passages of `docs`, in document order, with the text each passage is encoded from
    (`encode`: the passage itself, or the whole document when truncating, which the model cuts itself)."""
    rows: dict[str, list[object]] = {
        key: [] for key in ("doc_id", "passage", "text", "encode", "content_hash", *vectors.FILTER_COLUMNS)
    }
    texts = [retrieval_text(str(doc["title"]), str(doc["text"])) for doc in docs]
    for doc, text, passages in zip(docs, texts, chunker.split(texts), strict=True):
        for index, passage in enumerate(passages):
            rows["passage"].append(index)
            rows["text"].append(passage)
            rows["encode"].append(text if chunker.first_only else passage)
            for key in ("doc_id", "content_hash", *vectors.FILTER_COLUMNS):
                rows[key].append(doc[key])
    return rows


def _write(
    ws: Workspace,
    name: str,
    batch: list[tuple[str, bool]],
    rows: dict[str, list[object]],
    vecs: np.ndarray | None,
    table_fingerprint: str,
) -> None:
    """One batch of whole documents into the table, replacing their stale vectors in the same commit."""
    vectors.write_documents(
        ws.vectors_uri,
        name,
        vectors.passages_table(rows, vecs),
        replace=[doc_id for doc_id, has_vectors in batch if has_vectors],
        table_fingerprint=table_fingerprint,
    )


def _documents_to_do(
    ws: Workspace, name: str, table_fingerprint: str, progress: ProgressCallback | None
) -> tuple[list[tuple[str, bool]], int]:
    """The documents without current vectors (doc_id, whether stale vectors are to be replaced) and how many are
    current; a table built under other settings is dropped first, and moved documents are re-tagged in place."""
    if vectors.fingerprint(ws.vectors_uri, name) not in (None, table_fingerprint):
        vectors.drop(ws.vectors_uri, name)  # built with other settings: these vectors cannot be mixed
    present = vectors.present_documents(ws.vectors_uri, name)
    vectors.retag_documents(ws.vectors_uri, name, document_store.retagged_documents(ws.db, present))
    todo = document_store.documents_to_embed(ws.db, present)
    if progress:
        progress(0, len(todo))
    return todo, document_store.count_documents(ws.db) - len(todo)


def _embed_lock(ws: Workspace, retriever: str) -> AbstractContextManager[None]:
    busy = EmbedBusy(f"another embed job for {retriever!r} is running on this workspace; wait for it or stop it")
    return job_lock(ws.vectors_dir / f"{table_name(retriever)}.embed.lock", busy)
