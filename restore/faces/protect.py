"""Keep the damage mask off faces' own shapes: inside a face, only thin defects are filled.

A damage detector trained on flaked emulsion also fires on bright, smooth skin (a baby's cheek in
``real_old/dip2025/scanned2`` was masked and inpainted into a smear). Inside each detected face
box (grown by ``grow`` on each side), :func:`keep_thin_in_faces` removes what survives a
morphological opening with a square a sixth of the face wide (blobs) and keeps the rest (scratches
and cracks, which the opening erases). Outside faces the mask is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor


def max_filter(x: Tensor, kernel: int) -> Tensor:
    """The maximum over a ``kernel`` x ``kernel`` square around each pixel (odd ``kernel``;
    outside the image counts as nothing), as a column then a row pass: 2k comparisons per pixel
    instead of k^2 (a 250-px opening on a face of a 4608 x 3456 scan took minutes)."""
    pad = kernel // 2
    y = F.max_pool2d(x, (kernel, 1), stride=1, padding=(pad, 0))
    return F.max_pool2d(y, (1, kernel), stride=1, padding=(0, pad))


def opening(mask: Tensor, kernel: int) -> Tensor:
    """Morphological opening (erosion, then dilation) of a {0, 1} mask (B, 1, H, W) with a
    ``kernel`` x ``kernel`` square: what is at least ``kernel`` pixels wide everywhere."""
    eroded = 1 - max_filter(1 - mask, kernel)
    return max_filter(eroded, kernel)


def keep_thin_in_faces(
    mask: Tensor,
    boxes: Sequence[Sequence[tuple[float, float, float, float]]],
    *,
    kernel: int | None = None,
    grow: float = 0.25,
) -> Tensor:
    """``mask`` (B, 1, H, W) in {0, 1} with the blobs inside each photo's face boxes removed.

    Args:
        mask: damage masks, 1 = fill.
        boxes: per photo, face boxes ``(x, y, w, h)`` in pixels (:class:`restore.faces.Face.box`).
        kernel: odd side of the square opening; structures thinner than it are kept. ``None``:
            per face, a sixth of its width (odd, at least 5): a scratch across a big face is
            still a line, a patch of skin on a small face is still a blob.
        grow: each box grows by this share of its side on every side (hair, ears, chin).

    Returns:
        A new mask of the same shape.
    """
    if kernel is not None and (kernel < 1 or kernel % 2 == 0):
        raise ValueError(f"kernel must be odd and >= 1, got {kernel}")
    if len(boxes) != mask.shape[0]:
        raise ValueError(f"{mask.shape[0]} masks but boxes for {len(boxes)} photos")
    out = mask.clone()
    h, w = mask.shape[-2:]
    for i, faces in enumerate(boxes):
        for x, y, bw, bh in faces:
            k = kernel if kernel is not None else max(5, int(bw / 6) // 2 * 2 + 1)
            x0, y0 = max(0, int(x - grow * bw)), max(0, int(y - grow * bh))
            x1, y1 = min(w, int(x + bw * (1 + grow)) + 1), min(h, int(y + bh * (1 + grow)) + 1)
            # the opening sees k pixels beyond the box, so a blob cut by its edge stays a blob
            ox0, oy0, ox1, oy1 = max(0, x0 - k), max(0, y0 - k), min(w, x1 + k), min(h, y1 + k)
            blobs = opening(mask[i : i + 1, :, oy0:oy1, ox0:ox1], k)
            blobs = blobs[..., y0 - oy0 : y1 - oy0, x0 - ox0 : x1 - ox0]
            out[i : i + 1, :, y0:y1, x0:x1] *= 1 - blobs
    return out


__all__ = ["keep_thin_in_faces", "max_filter", "opening"]
