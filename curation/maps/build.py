"""The projection job: a 2-D UMAP map of each retriever's document vectors, kept in step with them.

A map is fitted once (on a sample of `[maps] sample_size` documents for large corpora, the rest placed
onto it) and kept: the reducer in `maps/`, the points in the database with the content hash of the vector
each was placed from. A later run places only what changed (new documents, new content) with the kept
reducer and removes points whose vectors are gone; it refits when the retriever's settings changed or the
corpus outgrew a small fit (`refit_growth`). Points are saved batch by batch, so a stopped run resumes.
"""

from __future__ import annotations

import functools
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from curation.core import ProgressCallback
from curation.maps.errors import MapBusy, MapError
from curation.retrieval import current_fingerprint, current_table, document_vectors, searchable_retrievers, table_name
from embeddings import projection
from embeddings.registry import get_spec
from store import maps as map_store
from store import vectors
from store.locks import job_lock

if TYPE_CHECKING:
    from umap import UMAP

    from curation.core import Workspace


class MapResult(BaseModel):
    """What one projection run did: `cached` when the map was already up to date."""

    retriever: str
    points: int
    fitted_on: int
    seconds: float
    cached: bool


class MapStatus(BaseModel):
    """A retriever's map against its current vectors: what the next projection run would do."""

    retriever: str
    built: bool
    points: int
    fitted_on: int
    to_place: int
    to_remove: int
    refit: bool

    @property
    def current(self) -> bool:
        return self.built and not (self.to_place or self.to_remove or self.refit)


@dataclass
class _Plan:
    fingerprint: str
    hashes: dict[str, str]  # doc_id -> content hash of its current vector
    record: dict[str, Any] | None
    refit: bool
    place: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


def mappable_retrievers(ws: Workspace) -> list[str]:
    """Dense retrievers whose vectors exist and match their settings."""
    return [name for name in searchable_retrievers(ws) if ws.settings.retrievers[name].kind != "bm25"]


def map_status(ws: Workspace, retriever: str) -> MapStatus:
    """How `retriever`'s map stands against its vectors (reads only ids and hashes, no vectors)."""
    plan = _plan(ws, retriever, refit=False)
    record = plan.record or {}
    return MapStatus(
        retriever=retriever,
        built=plan.record is not None,
        points=int(record.get("points", 0)),
        fitted_on=int(record.get("fitted_on", 0)),
        to_place=len(plan.place),
        to_remove=len(plan.remove),
        refit=plan.refit and plan.record is not None,
    )


def project(
    ws: Workspace, retriever: str, *, refit: bool = False, progress: ProgressCallback | None = None
) -> MapResult:
    """Bring `retriever`'s map up to date with its vectors; `refit` fits it anew whatever changed.

    Raises UnknownRetriever, SearchError (no vectors, or vectors out of date: run embed), MapError or MapBusy.
    """
    started = time.monotonic()
    settings = ws.settings.maps
    with _map_lock(ws, retriever):
        plan = _plan(ws, retriever, refit=refit)
        if not (plan.refit or plan.place or plan.remove):
            assert plan.record is not None
            return MapResult(
                retriever=retriever,
                points=int(plan.record["points"]),
                fitted_on=int(plan.record["fitted_on"]),
                seconds=round(time.monotonic() - started, 3),
                cached=True,
            )
        total = len(plan.place)
        if progress:
            progress(0, total)
        now = datetime.now()
        if plan.refit:
            doc_ids, matrix = _vectors(ws, retriever, plan.hashes, None)
            reducer, fitted_on, doc_ids, matrix = _fit(ws, retriever, plan, doc_ids, matrix, now)
            done = fitted_on
        else:
            assert plan.record is not None
            doc_ids, matrix = _vectors(ws, retriever, plan.hashes, plan.place)
            reducer, fitted_on, done = (
                saved_reducer(ws.maps_dir / plan.record["reducer"]),
                int(plan.record["fitted_on"]),
                0,
            )
        if progress:
            progress(done, total)
        if plan.remove:
            nothing = _points([], plan.hashes, np.zeros((0, 2)))
            map_store.write_points(ws.db, retriever, nothing, remove=plan.remove, now=now)
        step = settings.transform_batch
        for start in range(0, len(doc_ids), step):
            ids = doc_ids[start : start + step]
            xy = projection.transform(reducer, matrix[start : start + step])
            map_store.write_points(ws.db, retriever, _points(ids, plan.hashes, xy), remove=(), now=now)
            done += len(ids)
            if progress:
                progress(done, total)
    record = map_store.map_record(ws.db, retriever)
    assert record is not None
    return MapResult(
        retriever=retriever,
        points=int(record["points"]),
        fitted_on=fitted_on,
        seconds=round(time.monotonic() - started, 3),
        cached=False,
    )


def _plan(ws: Workspace, retriever: str, *, refit: bool) -> _Plan:
    """What to do for `retriever`'s map: refit it, or place some documents and remove some points."""
    spec = get_spec(ws.settings.retrievers, retriever)
    if spec.kind == "bm25":
        raise MapError(f"retriever {retriever!r} is full-text only: it has no vectors to map")
    present = vectors.present_documents(ws.vectors_uri, current_table(ws, retriever))
    hashes = dict(zip(present["doc_id"].to_pylist(), present["content_hash"].to_pylist(), strict=True))
    record = map_store.map_record(ws.db, retriever)
    settings = ws.settings.maps
    refit = (
        refit
        or record is None
        or record["fingerprint"] != current_fingerprint(ws, retriever)
        or not (ws.maps_dir / record["reducer"]).is_file()
        or (record["fitted_on"] < settings.sample_size and len(hashes) > settings.refit_growth * record["fitted_on"])
    )
    if refit:
        return _Plan(current_fingerprint(ws, retriever), hashes, record, True, place=sorted(hashes))
    place, remove = map_store.pending(ws.db, retriever, present)
    return _Plan(current_fingerprint(ws, retriever), hashes, record, False, place=place, remove=remove)


def _vectors(
    ws: Workspace, retriever: str, hashes: dict[str, str], only: list[str] | None
) -> tuple[list[str], np.ndarray]:
    """Document vectors of the planned documents (those that lost their vectors since are left out)."""
    doc_ids, matrix = document_vectors(ws, retriever, doc_ids=only)
    keep = [i for i, doc_id in enumerate(doc_ids) if doc_id in hashes]
    return [doc_ids[i] for i in keep], matrix[keep]


def _fit(
    ws: Workspace, retriever: str, plan: _Plan, doc_ids: list[str], matrix: np.ndarray, now: datetime
) -> tuple[UMAP, int, list[str], np.ndarray]:
    """Fit a new map on a sample and save it; returns the reducer, the sample size and the documents left."""
    settings = ws.settings.maps
    if len(doc_ids) < projection.MIN_POINTS:
        raise MapError(
            f"retriever {retriever!r} has vectors for {len(doc_ids)} documents; "
            f"a map needs at least {projection.MIN_POINTS}"
        )
    rng = np.random.default_rng(settings.seed)
    sample = np.sort(rng.choice(len(doc_ids), size=min(len(doc_ids), settings.sample_size), replace=False))
    reducer, xy = projection.fit_reducer(matrix[sample], n_neighbors=settings.n_neighbors, min_dist=settings.min_dist)
    prefix = table_name(retriever)
    name = f"{prefix}.{uuid.uuid4().hex[:12]}.umap"
    projection.save_reducer(reducer, ws.maps_dir / name)
    fitted = [doc_ids[i] for i in sample]
    map_store.replace_map(
        ws.db,
        retriever,
        _points(fitted, plan.hashes, xy),
        fingerprint=plan.fingerprint,
        reducer=name,
        fitted_on=len(sample),
        now=now,
    )
    for old in ws.maps_dir.glob(f"{prefix}.*"):
        if old.name != name:
            old.unlink(missing_ok=True)
    rest = np.setdiff1d(np.arange(len(doc_ids)), sample)
    return reducer, len(sample), [doc_ids[i] for i in rest], matrix[rest]


def _points(doc_ids: list[str], hashes: dict[str, str], xy: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": doc_ids, "content_hash": [hashes[d] for d in doc_ids], "x": xy[:, 0], "y": xy[:, 1]})


@functools.lru_cache(maxsize=2)
def saved_reducer(path: Path) -> UMAP:
    """A saved reducer, read once per process (files are never rewritten: a refit writes a new one)."""
    return projection.load_reducer(path)


def _map_lock(ws: Workspace, retriever: str) -> AbstractContextManager[None]:
    busy = MapBusy(f"another map job for {retriever!r} is running on this workspace; wait for it")
    return job_lock(ws.maps_dir / f"{table_name(retriever)}.lock", busy)


def map_info(ws: Workspace, retriever: str) -> dict[str, Any] | None:
    """The kept map of a retriever (fingerprint, reducer file, points, fitted_on, updated_at), None before the first."""
    return map_store.map_record(ws.db, retriever)


def map_points(ws: Workspace, retriever: str) -> pd.DataFrame:
    """Every point of a retriever's map with the facets a curator colours and filters by (division, document
    type, collection, verdict, judgment status, cluster), title and url."""
    return map_store.map_table(ws.db, retriever)
