"""Retrieval: the embed job that keeps each retriever's vectors in step with the documents, search in vector,
full-text and hybrid modes, and runs (a retriever's ranking of a whole query set, stored).

The pages and the CLI call these names; they are loaded on first use (lazy_loader).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "errors": ["SearchError", "NoStoredRun", "RayUnavailable", "RETRIEVAL_ERRORS"],
        "embed_job": ["EmbedBusy", "EmbedResult", "embed", "open_encoder", "table_name", "current_fingerprint"],
        "ray_engine": ["embed_on_ray"],
        "coverage": ["RetrieverCoverage", "coverage"],
        "document_vectors": ["document_vectors"],
        "search": [
            "MODES",
            "Mode",
            "RUN_MODES",
            "RunMode",
            "Ranked",
            "SearchHit",
            "search",
            "filter_clause",
        ],
        "tables": ["SIGN_MODE", "current_table", "searchable_retrievers", "has_sign_variant", "index_bytes"],
        "registry_edit": ["RegistryError", "add_retriever", "remove_retriever"],
        "highlight": ["highlight", "snippet", "query_terms"],
        "runs": [
            "DEFAULT_DEPTH",
            "RunSummary",
            "RunInfo",
            "UsedRun",
            "make_run",
            "rank_queries",
            "retriever_version",
            "set_version",
            "resolve_run",
            "current_run",
            "ranking",
            "stored_runs",
        ],
    },
)
