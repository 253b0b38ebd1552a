"""Look for large damage at half size too: folds, torn corners and big flaked patches.

The damage detector was trained on 256-px patches, so a defect much wider than its receptive
field (a fold with its shadow, a missing corner, a flaked patch of a few percent of the print) is
only partly marked at full size. On the photo shrunk to half size the same defect fits the
network's view. :func:`damage_probability` runs the detector at both sizes and adds, from the
half-size map, only its large regions (each at least :data:`LARGE_SHARE` of the photo): the small
ones there are mostly bright edges and highlights that the full-size map already judges better.

Measured by ``python scripts/eval_photo.py`` (docs/BENCHMARKS.md, "Half-size detection").

Example:
    >>> class Stub:  # "damage" = bright pixels
    ...     def run_tensor(self, x):
    ...         return (x.mean(1, keepdim=True) > 0.9).float()
    >>> x = torch.zeros(1, 3, 64, 64)
    >>> x[..., :32, :32] = 1.0  # a large bright patch
    >>> float(damage_probability(Stub(), x)[..., :32, :32].mean())
    1.0
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from restore.photo.margins import BAND, edge_band

__all__ = ["EDGE_SHARE", "LARGE_SHARE", "MIN_SIDE", "damage_probability", "large_regions"]

#: A half-size region joins the mask when it covers at least this share of the photo.
LARGE_SHARE = 0.005
#: A half-size region with this share of its pixels in the edge band is the print's edge.
EDGE_SHARE = 0.75
#: Photos whose shorter side is below this are only looked at at full size.
MIN_SIDE = 128


def large_regions(prob: Tensor, threshold: float = 0.5, share: float = LARGE_SHARE) -> Tensor:
    """(B, 1, H, W) {0, 1}: the 8-connected regions of ``prob > threshold`` that cover at least
    ``share`` of the image and do not lie mostly (:data:`EDGE_SHARE` of their pixels) within
    :data:`restore.photo.margins.BAND` of the border: a print's edge or its card mount is not
    damage (a fold crosses the picture, a torn corner reaches into it)."""
    out = torch.zeros_like(prob[:, :1], dtype=torch.float32)
    binary = (prob[:, :1] > threshold).cpu().numpy().astype(np.uint8)
    h, w = binary.shape[-2:]
    edge = edge_band(h, w, max(1, round(BAND * min(h, w)))).astype(np.float64)
    for i in range(binary.shape[0]):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(binary[i, 0], connectivity=8)
        area = stats[:, cv2.CC_STAT_AREA]
        on_edge = np.bincount(labels.ravel(), weights=edge.ravel(), minlength=n) / np.maximum(
            area, 1
        )
        keep = (area >= share * h * w) & (on_edge < EDGE_SHARE)
        keep[0] = False  # the background
        if keep.any():
            out[i, 0] = torch.from_numpy(keep[labels]).to(out)
    return out


def damage_probability(model: Any, x: Tensor, share: float = LARGE_SHARE) -> Tensor:
    """The detector's damage probability (B, 1, H, W) of photos ``x`` (B, 3, H, W) in [0, 1]:
    its full-size map, raised to the half-size map's value inside the half-size map's large
    regions (:func:`large_regions`). ``model`` has ``run_tensor(x) -> probabilities``."""
    prob = model.run_tensor(x)[:, :1]
    h, w = x.shape[-2:]
    if min(h, w) < MIN_SIDE:
        return prob
    small = F.interpolate(x, size=(h // 2, w // 2), mode="area")
    half = model.run_tensor(small)[:, :1]
    half = F.interpolate(half.float(), size=(h, w), mode="bilinear", align_corners=False)
    return torch.maximum(prob, (half * large_regions(half, share=share)).to(prob))
