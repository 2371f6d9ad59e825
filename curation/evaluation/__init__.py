"""Evaluation: the judgments that count (qrels), metrics of stored runs with paired significance tests, reports,
query splits, and benchmark exports (BEIR folders, TREC files, qrels files).

The pages and the CLI call these names; they are loaded on first use (lazy_loader), so reading the
`[evaluation]` settings imports no ranx.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["EvaluationSettings", "ExportSettings", "StatTest", "DEFAULT_METRICS", "TEST_NAMES"],
        "errors": ["EvaluationError", "ExportError"],
        "qrels": [
            "ALL_CURATORS",
            "JudgmentsError",
            "Qrels",
            "judgment_sources",
            "judged_queries",
            "default_judgments",
            "load_qrels",
            "set_splits",
            "parse_splits",
        ],
        "metrics": [
            "Evaluation",
            "Significance",
            "SkippedQuery",
            "evaluate_runs",
            "score_rankings",
            "parse_metrics",
            "is_graded",
            "run_depth",
        ],
        "reports": ["ReportFormat", "drill_down", "by_division", "better_than", "marked_table", "report", "describe"],
        "splits": [
            "TRAIN",
            "SplitError",
            "LeakError",
            "SplitQuery",
            "parse_split",
            "query_groups",
            "assign_splits",
            "check_no_leak",
            "leaking_queries",
            "query_key",
        ],
        "leaderboard": [
            "LEADERBOARD_METRICS",
            "Benchmark",
            "Leaderboard",
            "LeaderboardFormat",
            "LeaderboardRow",
            "parse_benchmarks",
            "leaderboard",
            "leaderboard_frame",
            "render_leaderboard",
        ],
        "export": [
            "ExportKind",
            "BenchmarkKind",
            "ExportOptions",
            "ExportResult",
            "ExportPlan",
            "plan_export",
            "export_folder",
            "export_benchmark",
            "safe_name",
        ],
        "qrels_files": ["QrelsFormat", "QrelsExport", "write_qrels", "export_qrels"],
    },
)
