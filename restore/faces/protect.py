"""Keep the damage mask off faces' own shapes: inside a face, only thin defects (and bare paper)
are filled.

A damage detector trained on flaked emulsion also fires on bright, smooth skin (a baby's cheek in
``real_old/dip2025/scanned2`` was masked and inpainted into a smear). Inside each detected face
box (grown by ``grow`` on each side), :func:`keep_thin_in_faces` removes what survives a
morphological opening with a square a sixth of the face wide (blobs) and keeps the rest (scratches
and cracks, which the opening erases). Outside faces the mask is unchanged.

Emulsion that has flaked off a face is a blob too, but it must be filled: it is bare paper, not
skin. Given the photo, a blob is kept when it looks like that (:func:`paper_blobs`): large
(:data:`PAPER_AREA` of the grown face box or more) and much brighter than the picture right
around it (:data:`PAPER_STEP`, the median over a ring 2 px outside it), a step that a lit cheek,
which shades off into the rest of the face, does not have.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
from torch import Tensor

from restore.data.color import rgb_to_gray
from restore.data.masks import max_filter, ring_outside

#: A blob on a face is bare paper only when it covers at least this share of the grown face box
#: (eye whites and teeth are smaller).
PAPER_AREA = 0.04
#: ... and is this much brighter (luma, [0, 1]) than the picture 2 px outside it.
PAPER_STEP = 0.15


def opening(mask: Tensor, kernel: int) -> Tensor:
    """Morphological opening (erosion, then dilation) of a {0, 1} mask (B, 1, H, W) with a
    ``kernel`` x ``kernel`` square: what is at least ``kernel`` pixels wide everywhere."""
    eroded = 1 - max_filter(1 - mask, kernel)
    return max_filter(eroded, kernel)


def paper_blobs(blobs: Tensor, image: Tensor, min_area: float) -> Tensor:
    """The connected blobs of ``blobs`` (1, 1, h, w) in {0, 1} that look like bare paper on
    ``image`` (1, 3, h, w) in [0, 1]: at least ``min_area`` pixels, and their median luma at least
    :data:`PAPER_STEP` above the median luma of a ring 2 px outside them."""
    b = (blobs[0, 0] > 0.5).cpu().numpy().astype(np.uint8)
    keep = np.zeros_like(b)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(b, connectivity=8)
    if n <= 1:
        return blobs.new_zeros(blobs.shape)
    luma = rgb_to_gray(image[:1].detach().float().clamp(0, 1))[0, 0].cpu().numpy()
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] < min_area:
            continue
        c = (labels == k).astype(np.uint8)
        ring = ring_outside(c) & (b == 0)
        if ring.any() and np.median(luma[c > 0]) - np.median(luma[ring]) >= PAPER_STEP:
            keep |= c
    return torch.from_numpy(keep).to(blobs)[None, None]


def keep_thin_in_faces(
    mask: Tensor,
    boxes: Sequence[Sequence[tuple[float, float, float, float]]],
    *,
    kernel: int | None = None,
    grow: float = 0.25,
    image: Tensor | None = None,
) -> Tensor:
    """``mask`` (B, 1, H, W) in {0, 1} with the blobs inside each photo's face boxes removed.

    Args:
        mask: damage masks, 1 = fill.
        boxes: per photo, face boxes ``(x, y, w, h)`` in pixels (:class:`restore.faces.Face.box`).
        kernel: odd side of the square opening; structures thinner than it are kept. ``None``:
            per face, a sixth of its width (odd, at least 5): a scratch across a big face is
            still a line, a patch of skin on a small face is still a blob.
        grow: each box grows by this share of its side on every side (hair, ears, chin).
        image: the photos (B, 3, H, W) in [0, 1]; given, blobs of bare paper (flaked emulsion:
            :func:`paper_blobs`) stay in the mask.

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
            if image is not None and blobs.any():
                crop = image[i : i + 1, :, y0:y1, x0:x1]
                area = PAPER_AREA * (y1 - y0) * (x1 - x0)
                blobs = blobs * (1 - paper_blobs(blobs, crop, area))
            out[i : i + 1, :, y0:y1, x0:x1] *= 1 - blobs
    return out


__all__ = ["PAPER_AREA", "PAPER_STEP", "keep_thin_in_faces", "opening", "paper_blobs"]
