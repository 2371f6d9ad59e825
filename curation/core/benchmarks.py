"""How benchmark judgments are named and written, shared by the importer and the exporters."""

from __future__ import annotations

QRELS_HEADER = ("query-id", "corpus-id", "score")
BENCHMARK_PREFIX = "benchmark:"


def benchmark_annotator(name: str) -> str:
    """The annotator a benchmark's qrels are stored under: a fixed ground truth, not a curator."""
    return f"{BENCHMARK_PREFIX}{name}"


def is_benchmark(annotator: str) -> bool:
    return annotator.startswith(BENCHMARK_PREFIX)


def qrels_source(file_name: str) -> str:
    """The `source` a judgment read from qrels file `file_name` records; a benchmark's `qrels/<split>.tsv`
    names the split its queries belong to."""
    return f"qrels/{file_name}"
