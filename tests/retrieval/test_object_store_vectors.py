"""Vector tables on object storage: an S3-compatible server on 127.0.0.1 (moto's server mode) holds them, and
every vector feature works unchanged; credentials stay in the environment, never in the workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.core import Workspace
from curation.maps import project
from curation.retrieval import embed, make_run, ranking, search
from tests.judged_data import add_queries
from tests.retrieval_data import add_retriever, corpus_rows, load_rows

SECRET = "not-a-real-secret-but-unmistakable"


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A bucket `vectors` on a local S3-compatible server; the credentials only in the environment."""
    moto_server = pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install -e '.[dev]')")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "workbench-test",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT": endpoint,
        "AWS_ALLOW_HTTP": "true",
    }.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="vectors")
    try:
        yield endpoint
    finally:
        server.stop()


def test_embed_search_map_and_runs_on_s3_vectors(
    s3_endpoint: str, ws: Workspace, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import boto3

    ws.update_settings("vectors", "uri", "s3://vectors/team-a")
    assert ws.vectors_uri == "s3://vectors/team-a"
    load_rows(ws, corpus_rows(3), tmp_path / "corpus.jsonl")
    add_retriever(ws, "tiny", tiny_model_dir)
    assert embed(ws, "tiny").embedded == 30 and embed(ws, "bm25").embedded == 30
    assert embed(ws, "tiny").embedded == 0  # incremental on object storage too

    keys = [
        o["Key"] for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket="vectors")["Contents"]
    ]
    assert any(k.startswith("team-a/tiny.lance/") for k in keys) and any(
        k.startswith("team-a/bm25.lance/") for k in keys
    )
    assert not any(p.suffix == ".lance" or p.name.endswith(".lance") for p in ws.vectors_dir.rglob("*"))

    hits = search(ws, "tiny", "solar wind plasma", k=5)
    assert len(hits) == 5
    assert search(ws, "bm25", "solar wind plasma", k=3, mode="fts")[0].doc_id.endswith("-2")
    assert len(search(ws, "tiny", "martian polar ice", k=3, mode="hybrid")) == 3

    add_queries(ws, tmp_path, "s3set", {"q1": ("solar wind", None), "q2": ("lunar craters", None)})
    run = make_run(ws, "tiny", "s3set", k=10)
    assert run.queries == 2 and {len(docs) for docs in ranking(ws, run.run).values()} == {10}

    mapped = project(ws, "tiny")
    assert mapped.points == 30

    for path in ws.root.rglob("*"):  # credentials never reach the workspace
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_uri_refuses_local_paths_and_credentials(ws: Workspace) -> None:
    from pydantic import ValidationError

    from store.settings import VectorSettings

    assert VectorSettings(uri="gs://bucket/prefix/").uri == "gs://bucket/prefix"
    for bad in ("/tmp/vectors", "s3://", "ftp://host/x"):
        with pytest.raises(ValidationError, match="not an object-store URI"):
            VectorSettings(uri=bad)
    with pytest.raises(ValidationError, match="credentials do not belong"):
        VectorSettings(uri="s3://key:secret@bucket/prefix")
