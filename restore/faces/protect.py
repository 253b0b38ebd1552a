"""Keep the damage mask off faces' own shapes: inside a face, only thin defects are filled.

A damage detector trained on flaked emulsion also fires on bright, smooth skin (a baby's cheek in
``real_old/dip2025/scanned2`` was masked and inpainted into a smear). Inside each detected face
box (grown by ``grow`` on each side), :func:`keep_thin_in_faces` removes what survives a
morphological opening with a ``kernel``-pixel square (blobs) and keeps the rest (scratches and
cracks, which an opening erases). Outside faces the mask is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def opening(mask: Tensor, kernel: int) -> Tensor:
    """Morphological opening (erosion, then dilation) of a {0, 1} mask (B, 1, H, W) with a
    ``kernel`` x ``kernel`` square: what is at least ``kernel`` pixels wide everywhere."""
    pad = kernel // 2
    eroded = 1 - F.max_pool2d(1 - mask, kernel, stride=1, padding=pad)
    return F.max_pool2d(eroded, kernel, stride=1, padding=pad)


def keep_thin_in_faces(
    mask: Tensor,
    boxes: Sequence[Sequence[tuple[float, float, float, float]]],
    *,
    kernel: int = 5,
    grow: float = 0.25,
) -> Tensor:
    """``mask`` (B, 1, H, W) in {0, 1} with the blobs inside each photo's face boxes removed.

    Args:
        mask: damage masks, 1 = fill.
        boxes: per photo, face boxes ``(x, y, w, h)`` in pixels (:class:`restore.faces.Face.box`).
        kernel: odd side of the square opening; structures thinner than it are kept.
        grow: each box grows by this share of its side on every side (hair, ears, chin).

    Returns:
        A new mask of the same shape.
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be odd and >= 1, got {kernel}")
    if len(boxes) != mask.shape[0]:
        raise ValueError(f"{mask.shape[0]} masks but boxes for {len(boxes)} photos")
    out = mask.clone()
    h, w = mask.shape[-2:]
    for i, faces in enumerate(boxes):
        if not faces:
            continue
        blobs = opening(mask[i : i + 1], kernel)
        inside = torch.zeros_like(blobs)
        for x, y, bw, bh in faces:
            x0, y0 = max(0, int(x - grow * bw)), max(0, int(y - grow * bh))
            x1, y1 = min(w, int(x + bw * (1 + grow)) + 1), min(h, int(y + bh * (1 + grow)) + 1)
            inside[..., y0:y1, x0:x1] = 1
        out[i : i + 1] = mask[i : i + 1] * (1 - blobs * inside)
    return out


__all__ = ["keep_thin_in_faces", "opening"]
