"""Missing corners: the flat patch of scanner bed or mount where a print's corner is torn off.

A torn-off corner shows whatever was behind the print when it was scanned: the white lid, a black
mat, a grey card. It is flat, touches both edges at its corner, and meets the picture along a
ragged line of strong contrast. The damage detector often misses it, most of all when it is black
or has no rim of white paper fibres: inside a patch that large there is nothing for a network that
sees 256-px crops to go on (``python scripts/bench/photo_harm.py kinds``: 37% of torn-corner
pixels found, the largest share of the error left in ``restore photo``'s output on the
independent damage).

:func:`missing_corners` finds such patches without a network: from each corner of the photo it
grows the connected region whose colour stays within :data:`TOLERANCE` of the corner's own
(``cv2.floodFill`` on a median-filtered copy) and keeps it only when it is

- flat: the standard deviation of its (median-filtered) pixels is at most :data:`FLAT` in every
  channel;
- a corner, not a band or the background: it reaches along both edges by at least
  :data:`MIN_REACH` of that side, not more than :data:`MAX_REACH`, and covers between
  :data:`MIN_SHARE` and :data:`MAX_SHARE` of the photo;
- cut out of the picture: 2 px outside its edge the picture differs from its colour by at least
  :data:`CONTRAST` (median over that ring of the largest channel difference); a flat patch of the
  picture itself, a sky or a dark corner, shades off into its surroundings instead.

A print's margin or a frame around the whole photo runs along the full edge: ``MAX_REACH`` leaves
it, and :func:`restore.photo.margins.drop_edge_bands` drops what stays within the edge band.

Example:
    >>> x = torch.full((1, 3, 100, 120), 0.4)
    >>> x[..., :20, :25] = 1.0  # a white corner, torn off
    >>> m = missing_corners(x)
    >>> float(m[..., :20, :25].mean()) > 0.99, int(m[..., 20:, :].sum() + m[..., :, 25:].sum())
    (True, 0)
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

from restore.data.masks import ring_outside

__all__ = [
    "CONTRAST",
    "FLAT",
    "MAX_REACH",
    "MAX_SHARE",
    "MIN_REACH",
    "MIN_SHARE",
    "TOLERANCE",
    "missing_corners",
]

#: Largest difference (per channel, in [0, 1]) from the corner's colour inside the region.
TOLERANCE = 0.06
#: Largest standard deviation (per channel) of the region's pixels.
FLAT = 0.02
#: Smallest step from the region's colour to the picture 2 px outside it (median over that ring
#: of the largest channel difference).
CONTRAST = 0.15
#: The region's share of the photo: at least / at most.
MIN_SHARE, MAX_SHARE = 0.0005, 0.06
#: How far along each of its two edges the region reaches, as a share of that edge: at least /
#: at most.
MIN_REACH, MAX_REACH = 0.03, 0.5
_BOX5 = np.ones((5, 5), np.uint8)
_OPEN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


def _corner_region(smooth: np.ndarray, cy: int, cx: int) -> np.ndarray | None:
    """The region grown from corner (cy, cx) of ``smooth`` (the median-filtered photo, float
    H x W x 3 in [0, 1]); None when it is not a missing corner."""
    h, w = smooth.shape[:2]
    ff = np.zeros((h + 2, w + 2), np.uint8)
    tol = (TOLERANCE,) * 3
    flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    cv2.floodFill(smooth, ff, (cx, cy), (0, 0, 0), tol, tol, flags)
    # cut the thin channels through which the fill leaks into like-coloured picture content
    opened = cv2.morphologyEx(ff[1:-1, 1:-1], cv2.MORPH_OPEN, _OPEN)
    _, labels = cv2.connectedComponents(opened, connectivity=4)
    if labels[cy, cx] == 0:
        return None
    # the component at the corner, with the rim pixels the opening took (its sharp tips)
    component = (labels == labels[cy, cx]).astype(np.uint8)
    region = (ff[1:-1, 1:-1] > 0) & (cv2.dilate(component, _BOX5) > 0)
    share = float(region.mean())
    if not MIN_SHARE <= share <= MAX_SHARE:
        return None
    along_row = float(region[cy].mean())  # its reach along the top or bottom edge
    along_col = float(region[:, cx].mean())  # and along the left or right edge
    if not (MIN_REACH <= along_row <= MAX_REACH and MIN_REACH <= along_col <= MAX_REACH):
        return None
    inside = smooth[region]
    if float(inside.std(axis=0).max()) > FLAT:
        return None
    # a step: the picture differs from the bed right across the tear line (2 px out), where a
    # flat patch of the picture itself shades off into its surroundings
    step = ring_outside(region)
    if not step.any():
        return None
    contrast = float(np.median(np.abs(smooth[step] - np.median(inside, axis=0)).max(axis=1)))
    return region if contrast >= CONTRAST else None


def missing_corners(x: Tensor) -> Tensor:
    """(B, 1, H, W) {0, 1}: the missing corners of photos ``x`` (B, 3, H, W) in [0, 1], as the
    module describes; zeros where there are none."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) photos, got {tuple(x.shape)}")
    out = torch.zeros(x.shape[0], 1, *x.shape[-2:], dtype=torch.float32)
    h, w = x.shape[-2:]
    if min(h, w) < 16:
        return out.to(x.device)
    for i in range(x.shape[0]):
        img = x[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        u8 = np.ascontiguousarray(np.round(img * 255).astype(np.uint8))
        smooth = cv2.medianBlur(u8, 5).astype(np.float32) / 255
        found = np.zeros((h, w), bool)
        for cy, cx in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)):
            if found[cy, cx]:
                continue
            region = _corner_region(smooth, cy, cx)
            if region is not None:
                found |= region
        out[i, 0] = torch.from_numpy(found)
    return out.to(x.device)
