"""Ingest: SDE content in every record shape (crawler, indexer export, legacy dump, COSMOS list, BEIR, CSV,
Parquet, JSONL) mapped onto one document model, staged, and merged in one transaction; benchmark import.

The pages and the CLI call these names; they are loaded on first use (lazy_loader).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["IngestSettings"],
        "formats": ["FormatChoice", "SourceFormat", "detect_format", "expand_inputs"],
        "mapping": ["DOC_FIELDS"],
        "urls": ["normalize_url"],
        "load": ["IngestOptions", "IngestResult", "ingest", "recent_ingests"],
        "inspection": ["Preview", "Validation", "preview", "validate"],
        "benchmark": ["BenchmarkImport", "import_benchmark", "import_queries", "import_qrels"],
    },
)
