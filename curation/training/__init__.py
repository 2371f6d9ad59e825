"""Training: pairs exported from judgments (with mined hard negatives), fine-tuning a dense retriever on a
weighted mix of pair sources into new retrievers, and the record of every training and its checkpoints.

The pages and the CLI call these names; they are loaded on first use (lazy_loader), so reading the
`[finetune]` settings imports no torch.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "settings": ["FinetuneSettings", "LossName"],
        "errors": ["FinetuneError"],
        "pairs": ["PAIR_COLUMNS", "export_pairs", "passage_text", "pair_columns"],
        "sources": ["MixSource", "parse_mix", "load_pairs"],
        "sampler": ["WeightedBatchSampler"],
        "finetune": ["FinetuneOptions", "FinetuneResult", "finetune"],
        "records": ["TrainingRecord", "list_trainings", "training_checkpoints", "checkpoint_table"],
    },
)
