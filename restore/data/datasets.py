"""Folders of images as torch Datasets of uint8 patches, reproducible in any worker layout.

Items are ``uint8`` tensors (3, H, W): conversion to float, augmentation and degradation happen
later, batched, on the model's device. Every random choice of an item comes from a generator
seeded by ``(seed, epoch, index)``, so one process and any number of DataLoader workers give the
same data. The epoch is either set with ``set_epoch`` or carried by the index itself:
``dataset[(epoch, index)]`` -- this is what :func:`make_loader` does, so persistent workers never
see a stale epoch (:mod:`restore.data.loader` holds the sampler and the loader; they are
re-exported here).

Images smaller than the patch are mirror-padded (bottom and right) up to the patch size; to skip
them instead, pass ``min_size=patch_size``.

Example:
    >>> ds = ImageFolder("../shared/data/train/T91", patch_size=64, cache=True)  # doctest: +SKIP
    >>> batches = iter(make_loader(ds, batch_size=16, workers=2, seed=0))          # doctest: +SKIP
    >>> next(batches).shape                                                      # doctest: +SKIP
    torch.Size([16, 3, 64, 64])
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from torch.utils.data import Dataset

from restore.data.io import IMAGE_SUFFIXES, ImageNotFoundError, read_image
from restore.data.loader import EpochBatchSampler, make_loader
from restore.errors import ImageReadError

__all__ = [
    "EpochBatchSampler",
    "ImageFolder",
    "PairedFolders",
    "UnpairedFolders",
    "list_images",
    "make_loader",
]

logger = logging.getLogger(__name__)

Index = int | tuple[int, int]
"""A dataset index: ``i`` (the dataset's current epoch) or ``(epoch, i)``."""


def list_images(root: str | os.PathLike[str], recursive: bool = True) -> list[Path]:
    """Image files under ``root`` (by suffix, any case; hidden files skipped), sorted.

    Args:
        root: A folder.
        recursive: Also look in sub-folders.

    Returns:
        Sorted paths.

    Raises:
        ImageNotFoundError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise ImageNotFoundError(f"{root}: no such image folder")
    files = root.rglob("*") if recursive else root.iterdir()
    return sorted(
        p
        for p in files
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )


def _item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, index])


def _load_rgb8(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB: 16-bit rounded to 8, alpha dropped, gray replicated."""
    px = read_image(path).pixels
    if px.dtype == np.uint16:
        px = ((px.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return px


def _pad_to(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Mirror-pad (H, W, C) at the bottom / right up to at least (h, w)."""
    ph, pw = max(h - a.shape[0], 0), max(w - a.shape[1], 0)
    if ph == 0 and pw == 0:
        return a
    return np.pad(a, ((0, ph), (0, pw), (0, 0)), mode="symmetric")


def _chw(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


class _Store:
    """Paths with an optional in-memory uint8 cache (one copy per process)."""

    def __init__(self, paths: Sequence[Path], cache: bool) -> None:
        self.paths = list(paths)
        self.cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.paths)

    def get(self, i: int) -> np.ndarray:
        if self.cache is None:
            return _load_rgb8(self.paths[i])
        if i not in self.cache:
            self.cache[i] = _load_rgb8(self.paths[i])
        return self.cache[i]

    def preload(self) -> None:
        for i in range(len(self.paths)):
            self.get(i)


def _folder_paths(root: str | os.PathLike[str], min_size: int, recursive: bool) -> list[Path]:
    paths = list_images(root, recursive)
    if min_size > 0:
        paths = [p for p in paths if min(_header_size(p)) >= min_size]
    if not paths:
        more = f" of at least {min_size}x{min_size}" if min_size > 0 else ""
        raise ImageReadError(f"{root}: no images{more} (suffixes {sorted(IMAGE_SUFFIXES)})")
    return paths


def _header_size(path: Path) -> tuple[int, int]:
    try:
        with PIL.Image.open(path) as im:
            return im.size
    except Exception as e:
        raise ImageReadError(f"{path}: not a readable image ({type(e).__name__}: {e})") from e


def _split(index: Index, epoch: int, n: int) -> tuple[int, int]:
    """``i`` or ``(epoch, i)`` -> ``(epoch, i)``, range-checked."""
    epoch, i = index if isinstance(index, tuple) else (epoch, index)
    if not 0 <= i < n:
        raise IndexError(f"index {i} out of range for {n} items")
    return int(epoch), int(i)


def _check_args(patch_size: int | None, seed: int) -> None:
    if patch_size is not None and patch_size < 1:
        raise ValueError(f"patch_size must be positive or None, got {patch_size}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")


def _random_patch(a: np.ndarray, p: int, rng: np.random.Generator) -> np.ndarray:
    a = _pad_to(a, p, p)
    top = int(rng.integers(a.shape[0] - p + 1))
    left = int(rng.integers(a.shape[1] - p + 1))
    return a[top : top + p, left : left + p]


class ImageFolder(Dataset):
    """Random square patches (or whole images) from a folder of images.

    Args:
        root: Folder of images (see :func:`list_images`).
        patch_size: Side of the square patch; ``None`` gives whole images.
        cache: Keep decoded images in memory as uint8 (call :meth:`preload` before creating
            DataLoader workers to share one copy through fork).
        seed: Base seed; item ``i`` of epoch ``e`` is cropped with a generator seeded by
            ``(seed, e, i)``.
        min_size: Skip images whose shorter side is below this (read from headers up front).
        recursive: Include sub-folders.

    Shape:
        - item: (3, patch_size, patch_size) uint8, or (3, H, W) for whole images.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        patch_size: int | None = None,
        *,
        cache: bool = False,
        seed: int = 0,
        min_size: int = 0,
        recursive: bool = True,
    ) -> None:
        _check_args(patch_size, seed)
        self.root = Path(root)
        self.patch_size = patch_size
        self.seed = seed
        self.store = _Store(_folder_paths(root, min_size, recursive), cache)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Epoch used by plain integer indices."""
        self.epoch = int(epoch)

    @property
    def paths(self) -> list[Path]:
        """The image files, in index order."""
        return self.store.paths

    def __len__(self) -> int:
        return len(self.store)

    def preload(self) -> None:
        """Decode every image into the cache now (no-op without ``cache=True``)."""
        if self.store.cache is not None:
            self.store.preload()

    def __getitem__(self, index: Index) -> torch.Tensor:
        epoch, i = _split(index, self.epoch, len(self))
        a = self.store.get(i)
        if self.patch_size is not None:
            a = _random_patch(a, self.patch_size, _item_rng(self.seed, epoch, i))
        return _chw(a)


class PairedFolders(Dataset):
    """Aligned pairs from two folders, matched by relative path without suffix, cropped alike.

    ``root_b`` images are ``scale`` times the size of their ``root_a`` partners (e.g. LR in
    ``root_a``, HR in ``root_b``); a ``root_b`` image up to ``scale - 1`` pixels larger is
    cropped at the bottom / right to fit.

    Args:
        root_a: First folder (e.g. inputs).
        root_b: Second folder (e.g. targets).
        patch_size: Patch side in ``root_a`` pixels (``patch_size * scale`` in ``root_b``);
            ``None`` gives whole images.
        scale: Size ratio of ``root_b`` to ``root_a`` images.
        cache: Keep decoded images in memory as uint8.
        seed: Base seed, as in :class:`ImageFolder`.
        recursive: Include sub-folders.

    Returns (per item):
        ``(a, b)`` uint8 tensors (3, p, p) and (3, p * scale, p * scale).

    Raises:
        ImageReadError: Some files have no partner (the message lists them), or a pair's sizes
            do not fit ``scale``.
    """

    def __init__(
        self,
        root_a: str | os.PathLike[str],
        root_b: str | os.PathLike[str],
        patch_size: int | None = None,
        *,
        scale: int = 1,
        cache: bool = False,
        seed: int = 0,
        recursive: bool = True,
    ) -> None:
        _check_args(patch_size, seed)
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        keys_a = _keyed(root_a, recursive)
        keys_b = _keyed(root_b, recursive)
        only_a, only_b = sorted(keys_a.keys() - keys_b), sorted(keys_b.keys() - keys_a)
        if only_a or only_b:
            raise ImageReadError(
                f"unpaired images: {len(only_a)} only in {root_a} {_some(only_a)}, "
                f"{len(only_b)} only in {root_b} {_some(only_b)}"
            )
        keys = sorted(keys_a)
        if not keys:
            raise ImageReadError(f"{root_a}, {root_b}: no images")
        self.a = _Store([keys_a[k] for k in keys], cache)
        self.b = _Store([keys_b[k] for k in keys], cache)
        self.patch_size, self.scale, self.seed = patch_size, scale, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Epoch used by plain integer indices."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.a)

    def preload(self) -> None:
        """Decode every image into the cache now (no-op without ``cache=True``)."""
        for store in (self.a, self.b):
            if store.cache is not None:
                store.preload()

    def __getitem__(self, index: Index) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, i = _split(index, self.epoch, len(self))
        a, b, s = self.a.get(i), self.b.get(i), self.scale
        (ha, wa), (hb, wb) = a.shape[:2], b.shape[:2]
        if not (0 <= hb - ha * s < s and 0 <= wb - wa * s < s):
            raise ImageReadError(
                f"{self.a.paths[i]} ({wa}x{ha}) and {self.b.paths[i]} ({wb}x{hb}) "
                f"do not pair at scale {s}"
            )
        b = b[: ha * s, : wa * s]
        p = self.patch_size
        if p is not None:
            a, b = _pad_to(a, p, p), _pad_to(b, p * s, p * s)
            rng = _item_rng(self.seed, epoch, i)
            top = int(rng.integers(a.shape[0] - p + 1))
            left = int(rng.integers(a.shape[1] - p + 1))
            a = a[top : top + p, left : left + p]
            b = b[top * s : (top + p) * s, left * s : (left + p) * s]
        return _chw(a), _chw(b)


def _keyed(root: str | os.PathLike[str], recursive: bool) -> dict[str, Path]:
    root = Path(root)
    out: dict[str, Path] = {}
    for p in list_images(root, recursive):
        key = p.relative_to(root).with_suffix("").as_posix()
        if key in out:
            raise ImageReadError(f"{root}: {out[key].name} and {p.name} share the name {key!r}")
        out[key] = p
    return out


def _some(keys: list[str], n: int = 10) -> str:
    return "[" + ", ".join(keys[:n]) + (", ..." if len(keys) > n else "") + "]"


class UnpairedFolders(Dataset):
    """Independent samples from two folders (CycleGAN-style unpaired training).

    Item ``i`` holds image ``i % len(A)`` of ``root_a`` and a random image of ``root_b`` (drawn,
    like both crops, from the item's ``(seed, epoch, i)`` generator); the length is the larger
    folder's.

    Args:
        root_a: First domain's folder.
        root_b: Second domain's folder.
        patch_size: Patch side for both, or ``None`` for whole images.
        cache: Keep decoded images in memory as uint8.
        seed: Base seed.
        min_size: Skip images whose shorter side is below this.
        recursive: Include sub-folders.

    Returns (per item):
        ``(a, b)`` uint8 tensors (3, p, p).
    """

    def __init__(
        self,
        root_a: str | os.PathLike[str],
        root_b: str | os.PathLike[str],
        patch_size: int | None = None,
        *,
        cache: bool = False,
        seed: int = 0,
        min_size: int = 0,
        recursive: bool = True,
    ) -> None:
        _check_args(patch_size, seed)
        self.a = _Store(_folder_paths(root_a, min_size, recursive), cache)
        self.b = _Store(_folder_paths(root_b, min_size, recursive), cache)
        self.patch_size, self.seed = patch_size, seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Epoch used by plain integer indices."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def preload(self) -> None:
        """Decode every image into the cache now (no-op without ``cache=True``)."""
        for store in (self.a, self.b):
            if store.cache is not None:
                store.preload()

    def __getitem__(self, index: Index) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, i = _split(index, self.epoch, len(self))
        rng = _item_rng(self.seed, epoch, i)
        a = self.a.get(i % len(self.a))
        b = self.b.get(int(rng.integers(len(self.b))))
        if self.patch_size is not None:
            a = _random_patch(a, self.patch_size, rng)
            b = _random_patch(b, self.patch_size, rng)
        return _chw(a), _chw(b)
