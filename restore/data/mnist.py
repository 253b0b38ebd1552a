"""MNIST-style IDX files: a reader for raw or gzipped IDX, and a Dataset of uint8 images with labels.

The IDX format (LeCun et al.): two zero bytes, a type code (``0x08`` unsigned byte, ``0x09`` signed
byte, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of
dimensions, then each dimension as a big-endian uint32, then the data in C order, big-endian.

Example:
    >>> ds = MnistDataset("../shared/data/generation/mnist_t10k")   # doctest: +SKIP
    >>> ds[0].shape, ds[0].dtype, int(ds.labels[0])                  # doctest: +SKIP
    (torch.Size([1, 28, 28]), torch.uint8, 7)
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from restore.errors import RestoreError

__all__ = ["IdxError", "MnistDataset", "find_idx_files", "load_mnist", "read_idx"]

_IDX_TYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


class IdxError(RestoreError, ValueError):
    """A file that is not a valid IDX file (bad magic, truncated, wrong size)."""


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed, detected from its first bytes).

    Args:
        path: the file.

    Returns:
        The array with the file's shape, in native byte order (uint8 for MNIST images/labels).

    Raises:
        FileNotFoundError: no such file.
        IdxError: not an IDX file, or its size does not match its header.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"IDX file not found: {p}")
    data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise IdxError(f"{p}: corrupt gzip stream ({e})") from e
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise IdxError(f"{p}: not an IDX file (magic bytes {data[:4].hex() or 'missing'})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxError(f"{p}: truncated header ({len(data)} bytes for {ndim} dimensions)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise IdxError(
            f"{p}: header says shape {shape} ({expected} bytes of data), file has {len(data) - header}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


def find_idx_files(root: str | os.PathLike[str]) -> tuple[Path, Path | None]:
    """The images file (``*-images-idx3-ubyte[.gz]``) and labels file (``*-labels-idx1-ubyte[.gz]``, or None).

    Raises:
        FileNotFoundError: ``root`` is missing or holds no images file (or several).
    """
    r = Path(root)
    if not r.is_dir():
        raise FileNotFoundError(f"MNIST folder not found: {r}")
    images = sorted(r.glob("*images-idx3-ubyte*"))
    labels = sorted(r.glob("*labels-idx1-ubyte*"))
    if len(images) != 1:
        raise FileNotFoundError(
            f"{r}: expected one *images-idx3-ubyte[.gz] file, found {[p.name for p in images]}"
        )
    if len(labels) > 1:
        raise FileNotFoundError(f"{r}: several labels files {[p.name for p in labels]}")
    return images[0], (labels[0] if labels else None)


def load_mnist(root: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 (None without a labels file) from a folder.

    Raises:
        IdxError: images are not (N, H, W) uint8, or labels do not match them.
    """
    img_path, lab_path = find_idx_files(root)
    images = read_idx(img_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IdxError(
            f"{img_path}: expected (N, H, W) uint8 images, got {images.shape} {images.dtype}"
        )
    labels = None
    if lab_path is not None:
        labels = read_idx(lab_path).astype(np.int64)
        if labels.shape != (images.shape[0],):
            raise IdxError(f"{lab_path}: {labels.shape} labels for {images.shape[0]} images")
    return images, labels


class MnistDataset(Dataset):
    """MNIST images from IDX files as uint8 (1, H, W) tensors; ``labels`` alongside.

    Args:
        root: folder with ``*-images-idx3-ubyte[.gz]`` (and optionally ``*-labels-idx1-ubyte[.gz]``).
        indices: keep only these items (e.g. one side of a train / held-out split), in this order.

    Shape:
        - item: (1, H, W) uint8 (28 x 28 for MNIST).
        - ``labels``: (N,) int64 tensor, or None when the folder has no labels file.
    """

    def __init__(self, root: str | os.PathLike[str], indices: Sequence[int] | None = None) -> None:
        images, labels = load_mnist(root)
        if indices is not None:
            idx = np.asarray(indices, dtype=np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= images.shape[0]):
                raise IndexError(f"indices out of range for {images.shape[0]} images")
            images = images[idx]
            labels = labels[idx] if labels is not None else None
        self.images = torch.from_numpy(np.ascontiguousarray(images))[:, None]
        self.labels = torch.from_numpy(labels) if labels is not None else None

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.images[index]


def split_indices(n: int, held_out: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n)`` into (train, held-out) index arrays.

    Args:
        n: number of items.
        held_out: fraction in (0, 1) kept out of training.
        seed: seed of the permutation.
    """
    if not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be in (0, 1), got {held_out}")
    perm = np.random.default_rng(seed).permutation(n)
    k = int(round(n * held_out))
    return np.sort(perm[k:]), np.sort(perm[:k])


__all__ += ["split_indices"]
