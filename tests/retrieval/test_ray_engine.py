"""The embed job on a local Ray instance (2 CPUs, the tiny model): the same vectors as the local engine, and a
killed driver resumes to exactly one vector set per document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from curation.core import Workspace
from curation.retrieval import embed, embed_on_ray
from store import vectors
from tests.retrieval_data import add_retriever, corpus_rows, load_rows

CLI = str(Path(sys.executable).with_name("sde-workbench"))


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """One local Ray instance for this module's tests (it takes a while to start), stopped after them."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    yield
    ray.shutdown()


@pytest.fixture
def ray_ws(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> Workspace:
    load_rows(ws, corpus_rows(3), tmp_path / "corpus.jsonl")
    for name in ("tiny", "tiny-ray", "tiny-resumed"):
        add_retriever(ws, name, tiny_model_dir)
    ws.update_settings("embedding", "docs_per_write", 2)
    return ws


def passages(ws: Workspace, table: str) -> pd.DataFrame:
    batches = vectors.scan_vectors(ws.vectors_uri, table, columns=("doc_id", "passage", "vector"))
    return pa.Table.from_batches(list(batches)).to_pandas()


def passage_vectors(ws: Workspace, table: str) -> dict[tuple[str, int], np.ndarray]:
    frame = passages(ws, table)
    return {(d, int(p)): np.asarray(v, np.float32) for d, p, v in frame.itertuples(index=False)}


def test_ray_vectors_equal_the_local_engines(ray_ws: Workspace) -> None:
    local = embed(ray_ws, "tiny")
    on_ray = embed_on_ray(ray_ws, "tiny-ray", workers=2)
    assert on_ray.device == "ray:2xcpu" and (on_ray.embedded, on_ray.passages) == (local.embedded, local.passages)
    a, b = passage_vectors(ray_ws, "tiny"), passage_vectors(ray_ws, "tiny-ray")
    assert a.keys() == b.keys() and len(a) == local.passages
    cosines = [float(a[k] @ b[k] / (np.linalg.norm(a[k]) * np.linalg.norm(b[k]))) for k in a]
    assert min(cosines) >= 0.9999
    assert embed_on_ray(ray_ws, "tiny-ray", workers=2).embedded == 0  # incremental, like the local engine


def test_a_killed_ray_driver_resumes_to_one_vector_set_per_document(ray_ws: Workspace) -> None:
    command = [CLI, "--workspace", str(ray_ws.root), "embed", "-r", "tiny-resumed", "--engine", "ray", "--workers", "1"]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not vectors.exists(ray_ws.vectors_uri, "tiny-resumed") or not len(
        vectors.present_documents(ray_ws.vectors_uri, "tiny-resumed")
    ):
        assert driver.poll() is None and time.monotonic() < deadline, "the driver wrote nothing"
        time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and the local Ray instance it started
    driver.wait()
    done_before = len(vectors.present_documents(ray_ws.vectors_uri, "tiny-resumed"))
    assert 0 < done_before < 30

    resumed = embed_on_ray(ray_ws, "tiny-resumed", workers=1)
    assert resumed.embedded == 30 - done_before and resumed.skipped == done_before
    frame = passages(ray_ws, "tiny-resumed")
    assert frame["doc_id"].nunique() == 30
    assert not frame.duplicated(["doc_id", "passage"]).any()  # one vector set per document
