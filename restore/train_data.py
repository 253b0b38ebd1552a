"""The training loop's data order: a pure function of (seed, global sample number).

Step ``s`` of rank ``r`` reads global samples ``(s*W + r)*B ...``, so resume and DDP need no
sampler state (:func:`restore.train.train` builds its ``DataLoader`` from these two pieces).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from restore.runtime import DistInfo


class KeyedDataset(Dataset):
    """Maps a global sample key ``epoch * n + index`` to ``dataset[index]`` for that epoch."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.n = len(dataset)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key: int) -> Any:
        epoch, index = divmod(key, self.n)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


class StepBatches:
    """Batch sampler: step ``s`` of rank ``r`` gets global samples ``[(s*W + r)*B, ... + B)``.

    The global sample sequence is an endless concatenation of per-epoch permutations, each seeded
    by (seed, epoch).
    """

    def __init__(
        self, n: int, batch: int, seed: int, start_step: int, total_steps: int, info: DistInfo
    ) -> None:
        self.n, self.batch, self.seed = n, batch, seed
        self.start, self.total, self.info = start_step, total_steps, info
        self._perms: dict[int, Tensor] = {}

    def _perm(self, epoch: int) -> Tensor:
        if epoch not in self._perms:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perms = {epoch: torch.randperm(self.n, generator=g)}
        return self._perms[epoch]

    def __len__(self) -> int:
        return max(0, self.total - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        w, r, b = self.info.world_size, self.info.rank, self.batch
        for s in range(self.start, self.total):
            first = (s * w + r) * b
            keys = []
            for k in range(first, first + b):
                epoch, pos = divmod(k, self.n)
                keys.append(epoch * self.n + int(self._perm(epoch)[pos]))
            yield keys


def to_device(x: Any, device: torch.device) -> Any:
    """``x`` (a tensor, or lists / tuples / mappings of them) moved to ``device``, non-blocking."""
    if isinstance(x, Tensor):
        return x.to(device, non_blocking=True)
    if isinstance(x, (list, tuple)):
        return type(x)(to_device(v, device) for v in x)
    if isinstance(x, Mapping):
        return {k: to_device(v, device) for k, v in x.items()}
    return x
