"""The one place where image samples (numpy) become the library's tensors and back.

Inside the library an image is float32 RGB (B, 3, H, W) in [0, 1]; :func:`to_tensor` and
:func:`from_tensor` convert, :func:`samples_view` shares the samples' memory without converting.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import torch

from restore.data.io.image import Image


def samples_view(pixels: np.ndarray) -> torch.Tensor:
    """(H, W, C) integer samples as a (1, C, H, W) tensor sharing their memory (no conversion).

    Read-only arrays are accepted (the view is then only to be read).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]


def to_tensor(array: np.ndarray | Image) -> torch.Tensor:
    """Image samples to the library's convention.

    Args:
        array: uint8 (/255), uint16 (/65535) or float (taken as [0, 1], clipped) samples, or an
            :class:`Image` (its ``pixels``).

    Returns:
        float32 RGB tensor in [0, 1], on the CPU.

    Shape:
        - array: (H, W), (H, W, 1) or (H, W, 3); gray is replicated to three channels.
        - output: (1, 3, H, W).

    Example:
        >>> to_tensor(np.full((2, 4), 255, np.uint8)).shape
        torch.Size([1, 3, 2, 4])
    """
    a = array.pixels if isinstance(array, Image) else np.asarray(array)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise ValueError(f"expected (H, W), (H, W, 1) or (H, W, 3), got {a.shape}")
    if a.dtype == np.uint8:
        scale = 255.0
    elif a.dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(a.dtype, np.floating):
        scale = None
    else:
        raise ValueError(f"expected uint8, uint16 or float samples, got {a.dtype}")
    t = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).to(torch.float32)
    t = t.clamp(0.0, 1.0) if scale is None else t / scale
    return t.expand(3, -1, -1).unsqueeze(0).contiguous()


def from_tensor(t: torch.Tensor, bit_depth: Literal[8, 16] = 8) -> np.ndarray:
    """The inverse of :func:`to_tensor`: clip to [0, 1], scale, round.

    Args:
        t: Float tensor in [0, 1], on any device.
        bit_depth: 8 (uint8 output) or 16 (uint16 output).

    Returns:
        (H, W, 3) array, or (H, W) for a one-channel tensor.

    Shape:
        - t: (1, C, H, W) or (C, H, W) with C = 1 or 3.
    """
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(
            f"expected (1, C, H, W) or (C, H, W) with C in (1, 3), got {tuple(t.shape)}"
        )
    top = 255.0 if bit_depth == 8 else 65535.0
    q = (t.detach().float().clamp(0.0, 1.0) * top).round()
    a = q.numpy(force=True).transpose(1, 2, 0)
    a = a.astype(np.uint8 if bit_depth == 8 else np.uint16)
    return np.ascontiguousarray(a[..., 0] if a.shape[2] == 1 else a)
