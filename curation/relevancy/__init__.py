"""Relevancy filter: SDE's cheap rules, the LLM judge, and curator review of what they decided.

The pages and the CLI call these names; they are loaded on first use (lazy_loader), so reading the
`[rules]` settings imports nothing else.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["RulesSettings", "DedupSettings", "DEFAULT_EXCLUDE_PATTERNS"],
        "duplicates": [
            "MINHASH",
            "DedupResult",
            "Cluster",
            "find_duplicates",
            "find_semantic_duplicates",
            "duplicate_clusters",
            "cluster_table",
            "keep_one",
            "shingles",
            "signatures",
            "lsh_pairs",
            "lsh_bands",
            "minhash_pairs",
        ],
        "rules": ["RulesResult", "run_rules", "evaluate"],
        "suggestions": ["suggest_patterns"],
        "rule_sets": ["ImportResult", "export_rules", "import_rules", "rule_matrix", "pattern_table"],
        "preview": ["Preview", "preview_pattern", "projected_ndcg"],
        "patterns": [
            "Pattern",
            "PatternError",
            "KINDS",
            "infer_match",
            "effective_patterns",
            "resolve_scope",
            "add_pattern",
            "find_pattern",
            "set_active",
            "remove_pattern",
            "save_patterns",
        ],
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
