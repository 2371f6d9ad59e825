"""Relevancy filter: SDE's cheap rules, the LLM judge, and curator review of what they decided.

The pages and the CLI call these names; they are loaded on first use (lazy_loader), so reading the
`[rules]` settings imports nothing else.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["RulesSettings", "DEFAULT_EXCLUDE_PATTERNS"],
        "rules": ["RulesResult", "run_rules"],
        "llm_judge": ["FilterResult", "JudgeVerdict", "Quality", "judge_documents", "prompt_version"],
        "review": [
            "verdicts",
            "verdict_counts",
            "verdict_matches",
            "llm_failures",
            "pending_suggestions",
            "kept_documents",
            "decide",
            "accept_verdicts",
            "review_suggestions",
        ],
    },
)
