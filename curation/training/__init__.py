"""Training: pairs exported from judgments, and fine-tuning a dense retriever on them into a new retriever.

The pages and the CLI call these names; they are loaded on first use (lazy_loader), so reading the
`[finetune]` settings imports no torch.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["FinetuneSettings"],
        "pairs": ["PAIR_COLUMNS", "export_pairs", "passage_text"],
        "finetune": ["FinetuneError", "FinetuneOptions", "FinetuneResult", "finetune", "load_pairs"],
    },
)
