"""The image type of restore's I/O: samples as read from disk, with what it takes to write them.

:class:`Image` holds uint8 or uint16 RGB samples, alpha kept apart, and the metadata (grayscale,
EXIF, ICC, source format) that :func:`~restore.data.io.write_image` puts back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np


@dataclass(frozen=True, eq=False)
class Image:
    """An image as read from disk, with what is needed to write it back faithfully.

    Args:
        pixels: RGB samples, grayscale replicated to three channels.
        alpha: Opacity, or ``None``; same dtype as ``pixels``.
        grayscale: The source had a single colour channel; :func:`write_image` writes one channel
            again when the three channels are still equal.
        exif: Raw EXIF block (``b"Exif\\0\\0"`` + TIFF structure), orientation reset to 1.
        icc_profile: Raw ICC profile bytes.
        format: Pillow format name of the source (``"PNG"``, ``"JPEG"``, ...), or ``None``.
        path: Where it was read from, or ``None``.
        n_frames: Frames in the source; only the first one is held.

    Shape:
        - pixels: (H, W, 3), uint8 or uint16.
        - alpha: (H, W), same dtype as pixels.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    grayscale: bool = False
    exif: bytes | None = None
    icc_profile: bytes | None = None
    format: str | None = None
    path: Path | None = None
    n_frames: int = 1

    def __post_init__(self) -> None:
        p = self.pixels
        if not isinstance(p, np.ndarray) or p.ndim != 3 or p.shape[2] != 3:
            raise ValueError(f"pixels must be an (H, W, 3) array, got {getattr(p, 'shape', p)!r}")
        if p.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"pixels must be uint8 or uint16, got {p.dtype}")
        if self.alpha is not None and (
            self.alpha.shape != p.shape[:2] or self.alpha.dtype != p.dtype
        ):
            raise ValueError(
                f"alpha must be {p.shape[:2]} {p.dtype}, got {self.alpha.shape} {self.alpha.dtype}"
            )

    @property
    def bit_depth(self) -> Literal[8, 16]:
        """Bits per sample: 8 (uint8) or 16 (uint16)."""
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.pixels.shape[0], self.pixels.shape[1]

    @classmethod
    def from_array(cls, array: np.ndarray) -> Image:
        """Wrap a plain array: (H, W) or (H, W, 1) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB,
        (H, W, 4) RGBA.

        Args:
            array: uint8 or uint16 samples.

        Returns:
            An Image with no metadata; ``grayscale`` is set for one-channel input.
        """
        a = np.asarray(array)
        if a.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"image arrays must be uint8 or uint16, got {a.dtype}")
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[..., 0]
        if a.ndim == 2:
            return cls(pixels=gray3(a), grayscale=True)
        if a.ndim == 3 and a.shape[2] == 2:
            return cls(pixels=gray3(a[..., 0]), alpha=a[..., 1].copy(), grayscale=True)
        if a.ndim == 3 and a.shape[2] in (3, 4):
            alpha = np.ascontiguousarray(a[..., 3]) if a.shape[2] == 4 else None
            return cls(pixels=np.ascontiguousarray(a[..., :3]), alpha=alpha)
        raise ValueError(f"expected (H, W) or (H, W, C) with C in 1..4, got {a.shape}")

    def with_pixels(self, pixels: np.ndarray, *, grayscale: bool | None = None) -> Image:
        """A copy holding new pixels (e.g. a restored or upscaled result), metadata kept.

        The alpha channel follows: resized to the new size when it changed (``INTER_AREA`` when
        shrinking, ``INTER_CUBIC`` otherwise) and rescaled when the bit depth changed.

        Args:
            pixels: New (H', W', 3) uint8 or uint16 RGB samples.
            grayscale: New grayscale flag; ``None`` keeps the current one.

        Returns:
            A new Image.
        """
        alpha = self.alpha
        if alpha is not None:
            h, w = pixels.shape[:2]
            if alpha.shape != (h, w):
                shrink = h * w < alpha.size
                interp = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
                alpha = cv2.resize(alpha, (w, h), interpolation=interp)
            alpha = convert_depth(alpha, pixels.dtype)
        flag = self.grayscale if grayscale is None else grayscale
        return replace(self, pixels=pixels, alpha=alpha, grayscale=flag)


def convert_depth(a: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """uint8 <-> uint16 by scaling with 257 (255 <-> 65535), rounding to nearest."""
    dtype = np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if dtype == np.uint16:
        return a.astype(np.uint16) * 257
    return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)


def gray3(gray: np.ndarray) -> np.ndarray:
    """(H, W) gray samples replicated to (H, W, 3)."""
    return np.repeat(gray[..., None], 3, axis=2)
