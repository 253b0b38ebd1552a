"""Leave a print's margins to it: mask regions that lie only along the photo's edges are not
damage to fill.

Scans of old prints often show the print's white margin or the dark scanner bed in a band along
an edge. A detector trained on torn and worn edges also marks that band, and inpainting it from
the inside smears the picture into the margin (``real_old/dip2025/scanned2``: the white margin
became a dark smudge). :func:`drop_edge_bands` removes from the mask every connected region that
touches the border and lies entirely within :data:`BAND` of the shorter side from it. A torn
corner or a tear reaches further in and stays; so do cracks and folds that run into the edge.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

__all__ = ["BAND", "drop_edge_bands", "edge_band"]

#: Regions within this share of the shorter side from the border are left alone.
BAND = 0.04


def flat_margins(lum: np.ndarray, limit: int, tol: float = 0.06, share: float = 0.9) -> list[int]:
    """Widths (top, bottom, left, right) of the flat bands along the edges of a luminance image
    (H, W) in [0, 1], each at most ``limit``: a row or column belongs to the margin when
    ``share`` of its middle 90% lies within ``tol`` of its median, as do all before it."""
    h, w = lum.shape
    widths = []
    for lines in (lum, lum[::-1], lum.T, lum.T[::-1]):
        n = lines.shape[1]
        mid = lines[:limit, n // 20 : n - n // 20]
        med = np.median(mid, axis=1, keepdims=True)
        flat = (np.abs(mid - med) < tol).mean(axis=1) >= share
        widths.append(int(np.argmin(flat)) if not flat.all() else len(flat))
    return widths


def edge_band(h: int, w: int, width: int) -> np.ndarray:
    """(H, W) bool: the pixels less than ``width`` pixels from the border of an H x W image."""
    ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
    depth = np.minimum(np.minimum(ys, h - 1 - ys), np.minimum(xs, w - 1 - xs))  # to the border
    return depth < width


def drop_edge_bands(mask: Tensor, band: float = BAND, image: Tensor | None = None) -> Tensor:
    """``mask`` (B, 1, H, W) in {0, 1} without its regions (8-connected) that touch the border
    and stay within ``band * min(H, W)`` pixels of it; with ``image`` (B, 3, H, W), also without
    the flat bands along its edges (:func:`flat_margins`: a print's margin or the scanner bed).

    Example:
        >>> m = torch.zeros(1, 1, 100, 100)
        >>> m[..., :, :3] = 1            # a 3-px band along the left edge: a margin
        >>> m[..., 40:60, 40:60] = 1     # a blob inside: damage
        >>> float(drop_edge_bands(m).sum())
        400.0
    """
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f"expected a (B, 1, H, W) mask, got {tuple(mask.shape)}")
    h, w = mask.shape[-2:]
    limit = band * min(h, w)
    deep = ~edge_band(h, w, int(limit) + 1)
    out = mask.clone()
    for i in range(mask.shape[0]):
        m = (mask[i, 0] > 0.5).cpu().numpy().astype(np.uint8)
        if not m.any():
            continue
        n, labels = cv2.connectedComponents(m, connectivity=8)
        edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        drop = np.zeros(n, bool)
        drop[np.unique(edge)] = True  # touches the border
        drop[np.unique(labels[deep])] = False  # reaches further in
        drop[0] = False  # the background
        if drop.any():
            keep = torch.from_numpy(~drop[labels]).to(out.device, out.dtype)
            out[i, 0] *= keep
        if image is not None:
            lum = image[i].float().mean(0).cpu().numpy()
            t, b, left, right = flat_margins(lum, max(1, int(limit)))
            out[i, 0, :t] = 0
            out[i, 0, h - b :] = 0
            out[i, 0, :, :left] = 0
            out[i, 0, :, w - right :] = 0
    return out
