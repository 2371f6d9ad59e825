"""Jobs: long work (embed, map, LLM filter, query generation, runs, evaluation, fine-tuning, large ingests) run
in a process of its own, the same CLI command a user would type, recorded in the workspace with its progress,
log, result or error, so that leaving a page, reloading the app or closing the terminal does not stop it.

The pages and the CLI call these names; they are loaded on first use (lazy_loader).
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["JobSettings"],
        "errors": ["JobError", "JobBusy", "JobCancelled"],
        "specs": [
            "JobSpec",
            "embed_job",
            "map_job",
            "llm_filter_job",
            "dedup_job",
            "suggest_job",
            "query_generation_job",
            "run_job",
            "eval_job",
            "finetune_job",
            "ingest_job",
        ],
        "records": ["Job", "JobProgress", "STATUSES"],
        "runner": [
            "start_job",
            "get_job",
            "list_jobs",
            "running_jobs",
            "latest_job",
            "cancel_job",
            "rerun_job",
            "wait_for_job",
        ],
        "reporter": ["job_progress", "cancel_requested"],
    },
)
