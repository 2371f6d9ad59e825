"""What a job runs: the `sde-workbench` command line a user would type, built from a long command's options.

One builder per long command, used both by the app (to start the job) and by the command's `--background`
flag (to hand itself over), so a job always runs exactly what the CLI runs. `target` is what one job of a
kind works on (a retriever, a query set, a model name): only one job per kind and target runs at a time.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel


class JobSpec(BaseModel):
    """A job before it runs: its kind, target, a title for people, its options and its command line."""

    kind: str
    target: str
    title: str
    params: dict[str, Any]
    argv: list[str]

    @property
    def command(self) -> str:
        return "sde-workbench " + shlex.join(self.argv)


def _flags(options: dict[str, Any]) -> list[str]:
    """`--name value` for every option set; True booleans as bare flags, lists as repeated options."""
    argv: list[str] = []
    for flag, value in options.items():
        if value is None or value is False or value == []:
            continue
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


def _spec(kind: str, target: str, title: str, command: list[str], options: dict[str, Any]) -> JobSpec:
    params = {flag.lstrip("-").replace("-", "_"): value for flag, value in options.items() if value is not None}
    return JobSpec(kind=kind, target=target, title=title, params=params, argv=[*command, *_flags(options)])


def embed_job(
    retriever: str,
    device: str | None = None,
    batch_size: int | None = None,
    threads: int | None = None,
    *,
    engine: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    gpus: float = 0,
) -> JobSpec:
    options = {"--retriever": retriever, "--device": device, "--batch-size": batch_size, "--threads": threads}
    if engine == "ray":
        options |= {"--engine": "ray", "--ray-address": ray_address, "--workers": workers, "--gpus-per-worker": gpus}
    return _spec("embed", retriever, f"Embed {retriever}", ["embed"], options)


def map_job(retriever: str, refit: bool = False) -> JobSpec:
    return _spec("map", retriever, f"Map of {retriever}", ["map"], {"--retriever": retriever, "--refit": refit})


def llm_filter_job(
    model: str | None = None, base_url: str | None = None, concurrency: int | None = None, limit: int | None = None
) -> JobSpec:
    options = {"--judge": "llm", "--model": model, "--base-url": base_url, "--concurrency": concurrency}
    return _spec("filter", "llm", "LLM relevancy judge", ["filter"], {**options, "--limit": limit})


def dedup_job(threshold: float | None = None, semantic: str | None = None) -> JobSpec:
    target = f"semantic:{semantic}" if semantic else "minhash"
    title = f"Near-duplicates by {semantic}'s vectors" if semantic else "Near-duplicates (MinHash)"
    return _spec("dedup", target, title, ["dedup"], {"--threshold": threshold, "--semantic": semantic})


def suggest_job(collection: str, model: str | None = None, base_url: str | None = None) -> JobSpec:
    options = {"--collection": collection, "--model": model, "--base-url": base_url}
    return _spec("suggest", collection, f"LLM pattern suggestions for {collection}", ["rules", "suggest"], options)


def query_generation_job(
    query_set: str,
    *,
    docs: int | None = None,
    from_queue: bool = False,
    model: str | None = None,
    base_url: str | None = None,
    concurrency: int | None = None,
    per_doc: int | None = None,
    division: str | None = None,
    all_documents: bool = False,
    seed: int | None = None,
) -> JobSpec:
    options = {
        "--set": query_set,
        "--docs": docs,
        "--from-queue": from_queue,
        "--model": model,
        "--base-url": base_url,
        "--concurrency": concurrency,
        "--per-doc": per_doc,
        "--division": division,
        "--all-documents": all_documents,
        "--seed": seed,
    }
    return _spec("queries", query_set, f"Queries for {query_set}", ["queries", "generate"], options)


def run_job(retriever: str, queries: str, *, k: int = 100, name: str | None = None, mode: str = "vector") -> JobSpec:
    run = name or f"{retriever}:{queries}"
    options = {"--retriever": retriever, "--queries": queries, "-k": k, "--name": name, "--mode": mode}
    return _spec("run", run, f"Run {run}", ["run"], options)


def eval_job(
    retrievers: Sequence[str],
    queries: str,
    *,
    split: str | None = None,
    judgments: str | None = None,
    metrics: Sequence[str] | None = None,
    threshold: int | None = None,
    test: str | None = None,
    max_p: float | None = None,
) -> JobSpec:
    options = {
        "--retrievers": ",".join(retrievers),
        "--queries": queries,
        "--split": split,
        "--judgments": judgments,
        "--metrics": ",".join(metrics) if metrics else None,
        "--threshold": threshold,
        "--test": test,
        "--max-p": max_p,
        "--per-query": True,
    }
    return _spec("eval", queries, f"Evaluate on {queries}", ["eval"], options)


def finetune_job(base: str, pairs: Path | str | None, out: str, **options: Any) -> JobSpec:
    """`finetune` in the background; `options` are its other options by name (mix, eval, select, epochs, ...)."""
    flags = {"--base": base, "--out": out, "--pairs": str(pairs) if pairs else None}
    flags |= {f"--{name.replace('_', '-')}": value for name, value in options.items()}
    return _spec("finetune", out, f"Fine-tune {out}", ["finetune"], flags)


def ingest_job(
    paths: Sequence[Path | str],
    *,
    format: str = "auto",
    collection: str | None = None,
    division: str | None = None,
    document_type: str | None = None,
    column_map: dict[str, str] | None = None,
) -> JobSpec:
    files = [str(p) for p in paths]
    options = {
        "--format": None if format == "auto" else format,
        "--collection": collection,
        "--division": division,
        "--document-type": document_type,
        "--map": [f"{field}={column}" for field, column in (column_map or {}).items()],
    }
    spec = _spec("ingest", files[0], f"Ingest {Path(files[0]).name}", ["ingest", *files], options)
    spec.params["paths"] = files
    return spec
