"""What every stage shares: the workspace and its settings, the document lookups, the taxonomy, rejects,
errors more than one stage raises, and the progress signature of long jobs.

Names are loaded on first use (lazy_loader).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "workspace": ["Workspace", "WORKSPACE_ENV", "DEFAULT_WORKSPACE"],
        "settings": ["WorkbenchSettings", "load_settings"],
        "errors": ["InputError", "CuratorRequired", "LockTimeout", "curator_name"],
        "rejects": ["Reject", "RejectsWriter", "save_rejects"],
        "progress": ["ProgressCallback", "ProgressEstimate"],
        "documents": [
            "retrieval_text",
            "get_documents",
            "document_counts",
            "collection_names",
            "collection_label",
            "documents_with",
        ],
        "benchmarks": [
            "QRELS_HEADER",
            "BENCHMARK_PREFIX",
            "benchmark_annotator",
            "is_benchmark",
            "qrels_source",
        ],
        "ordering": ["natural_key"],
        "status": ["WorkspaceStatus", "workspace_status"],
        "resources": ["app_file", "demo_dir"],
        "access": [
            "AccessSettings",
            "AccessDenied",
            "Role",
            "Action",
            "role_of",
            "permits",
            "require",
            "allowed_path",
            "is_local_address",
            "ServingRefused",
            "sign_in_file",
        ],
        "taxonomy": [
            "DIVISIONS",
            "DOCUMENT_TYPES",
            "PLACEHOLDER_DIVISION",
            "RETIRED_DOCUMENT_TYPES",
            "normalize_division",
            "normalize_document_type",
            "division_from_tree_path",
            "collection_key",
        ],
    },
)
