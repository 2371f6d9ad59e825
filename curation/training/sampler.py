"""Weighted per-source batches, as INDUS-SDE-ST's `WeightedBatchSampler`: each source gives
round(pairs x weight) pairs a pass, in whole batches of that source only (so in-batch negatives come from one
source), and the batches of all sources are shuffled together. A source whose weight asks for more batches than
it has starts over (a new shuffle of its no-duplicates batches)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import accumulate

import torch
from sentence_transformers.base.sampler import MultiDatasetDefaultBatchSampler
from torch.utils.data import BatchSampler, ConcatDataset


class WeightedBatchSampler(MultiDatasetDefaultBatchSampler):
    """Built with the concatenated sources, one batch sampler per source and the sources' weights."""

    def __init__(
        self,
        dataset: ConcatDataset,
        batch_samplers: list[BatchSampler],
        generator: torch.Generator | None = None,
        seed: int = 0,
        weights: list[float] | None = None,
    ) -> None:
        super().__init__(dataset, batch_samplers, generator=generator, seed=seed)
        self.weights = tuple(weights or [1.0] * len(batch_samplers))

    def batch_counts(self) -> list[int]:
        """Batches per source in one pass: round(len x weight) pairs in batches of the batch size."""
        sizes = [len(d) for d in self.dataset.datasets]  # type: ignore[arg-type]
        return [max(1, math.ceil(round(n * w) / self.batch_size)) for n, w in zip(sizes, self.weights, strict=True)]

    def __iter__(self) -> Iterator[list[int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        counts = self.batch_counts()
        order = torch.tensor([i for i, n in enumerate(counts) for _ in range(n)])
        order = order[torch.randperm(len(order), generator=generator)].tolist()
        offsets = [0, *accumulate(len(d) for d in self.dataset.datasets)]  # type: ignore[arg-type]
        rounds = [0] * len(counts)
        iterators = [iter(s) for s in self.batch_samplers]
        for source in order:
            batch = next(iterators[source], None)
            if batch is None:  # asked for more than one pass of this source: start it over, reshuffled
                rounds[source] += 1
                sampler = self.batch_samplers[source]
                if hasattr(sampler, "set_epoch"):
                    sampler.set_epoch(self.epoch * 1000 + rounds[source])
                iterators[source] = iter(sampler)
                batch = next(iterators[source], None)
                if batch is None:
                    continue
            yield [i + offsets[source] for i in batch]

    def __len__(self) -> int:
        return sum(self.batch_counts())
