"""Endless, seeded batches of ``(epoch, index)`` for the datasets of :mod:`restore.data.datasets`.

The data order is a function of the seed alone: each epoch is a fresh permutation seeded by
``(seed, epoch)``, and the batch sampler hands ``(epoch, index)`` to the dataset, so persistent
DataLoader workers never see a stale epoch and any number of workers give the same batches.

Example:
    >>> from restore.data.datasets import ImageFolder
    >>> ds = ImageFolder("../shared/data/train/T91", patch_size=64, cache=True)  # doctest: +SKIP
    >>> next(iter(make_loader(ds, batch_size=16, workers=2, seed=0))).shape     # doctest: +SKIP
    torch.Size([16, 3, 64, 64])
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["EpochBatchSampler", "make_loader"]


class EpochBatchSampler(Sampler[list[tuple[int, int]]]):
    """Endless batches of ``(epoch, index)``; each epoch a fresh permutation seeded by
    ``(seed, epoch)``.

    Args:
        n: Dataset length.
        batch_size: Items per batch.
        seed: Base seed of the shuffles.
        drop_last: Drop each epoch's last incomplete batch (so every batch is full).
        shuffle: Permute each epoch; else ``0..n-1`` in order.
        start_epoch: First epoch (to resume).
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        seed: int = 0,
        drop_last: bool = True,
        shuffle: bool = True,
        start_epoch: int = 0,
    ) -> None:
        if batch_size < 1 or n < 1:
            raise ValueError(f"need n >= 1 and batch_size >= 1, got {n}, {batch_size}")
        if drop_last and batch_size > n:
            raise ValueError(f"batch_size {batch_size} > {n} items with drop_last: no batch")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.drop_last, self.shuffle, self.start_epoch = drop_last, shuffle, start_epoch

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch = self.start_epoch
        while True:
            order = (
                np.random.default_rng([self.seed, epoch]).permutation(self.n)
                if self.shuffle
                else np.arange(self.n)
            )
            for start in range(0, self.n, self.batch_size):
                chunk = order[start : start + self.batch_size]
                if len(chunk) < self.batch_size and self.drop_last:
                    break
                yield [(epoch, int(i)) for i in chunk]
            epoch += 1


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    workers: int = 0,
    seed: int = 0,
    drop_last: bool = True,
    shuffle: bool = True,
    start_epoch: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """An endless DataLoader: iterate it for batches, epochs advance on their own.

    The batch sampler hands ``(epoch, index)`` to the dataset, so the data depend only on
    ``seed`` and the dataset's own seed, not on ``workers``.

    Args:
        dataset: A dataset accepting ``(epoch, index)`` indices (those of
            :mod:`restore.data.datasets`).
        batch_size: Items per batch.
        workers: DataLoader worker processes (0: load in this process).
        seed: Seed of the per-epoch shuffles.
        drop_last: Drop each epoch's last incomplete batch.
        shuffle: Shuffle each epoch.
        start_epoch: First epoch (to resume).
        pin_memory: Passed to DataLoader.

    Returns:
        A DataLoader whose iterator never ends.
    """
    sampler = EpochBatchSampler(
        len(dataset),  # type: ignore[arg-type]
        batch_size,
        seed=seed,
        drop_last=drop_last,
        shuffle=shuffle,
        start_epoch=start_epoch,
    )
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=pin_memory,
    )
