"""Judging: query sets (typed, imported, LLM-generated), two rankings compared side by side, graded judgments
recorded one key press at a time, the judging queue, sessions and agreement between annotators.

The pages and the CLI call these names; they are loaded on first use (lazy_loader).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["JudgingSettings"],
        "errors": ["JudgingError"],
        "queries": [
            "QueryImport",
            "add_query",
            "import_query_file",
            "query_id_for",
            "query_sets",
            "load_queries",
            "natural_key",
        ],
        "query_generation": [
            "GenerationResult",
            "GeneratedQueries",
            "generate_queries",
            "pick_documents",
            "standalone_problem",
            "query_agent",
        ],
        "document_queue": ["queue_for_judging", "judging_queue", "queued_documents"],
        "rankings": ["RUN_PREFIX", "RankingSource", "ranking_sources", "allowed_documents", "rankings"],
        "comparison": [
            "ComparedDoc",
            "Overlap",
            "PooledDoc",
            "jaccard",
            "rbo",
            "disagreement_order",
            "side_by_side",
            "pooled",
        ],
        "judgments": [
            "GRADES",
            "GRADE_NAMES",
            "Judgment",
            "Undone",
            "record",
            "undo",
            "current_judgments",
            "label",
            "history",
        ],
        "pooling": ["JudgingSetup", "Queue", "build_queue", "queue_version"],
        "sessions": ["SessionSummary", "sessions"],
        "agreement": ["Agreement", "agreement"],
        "judgment_import": ["JudgmentImport", "import_judgments"],
        "judgment_transfer": ["JudgmentExport", "JudgmentMerge", "export_full", "import_full", "is_full_export"],
        "notes": ["save_query_note", "query_notes_of"],
    },
)
