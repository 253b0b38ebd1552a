"""Look for large damage at half size too (folds, torn corners, big flaked patches), and on large
scans at the size the detector was trained at.

The damage detector was trained on 256-px patches, so a defect much wider than its receptive
field (a fold with its shadow, a missing corner, a flaked patch of a few percent of the print) is
only partly marked at full size. On the photo shrunk to half size the same defect fits the
network's view. :func:`damage_probability` runs the detector at both sizes and adds, from the
half-size map, only its large regions (each at least :data:`LARGE_SHARE` of the photo): the small
ones there are mostly bright edges and highlights that the full-size map already judges better.

A scan of a print at 600-1200 dpi is 2,000-5,000 px across, and its cracks are 10-30 px wide:
several times wider than any crack the detector saw. So the photo is halved again while its
shorter side stays at least :data:`PYRAMID_SIDE` (a 4608 x 3456 scan is also looked at at 1/4
and 1/8). The last of those levels is the scan at the scale of the detector's training crops: all
of its regions join the mask, small ones too (a crack network is many small regions there); the
levels between add their large regions only. Photos under 1,536 px on the shorter side (the
held-out sets, the 1024 x 768 benchmark) are looked at at full and half size only, as before.

At every size the detector's map is the mean over mirror views of the photo (:func:`flip_average`,
:data:`FLIPS`): a flaw is damage whichever way the print lies, while a network's false alarms on a
white dot or an edge are not mirror-symmetric, so averaging lowers them more than the damage. The
mean also pulls in the tails of the map (a crack marked in three views of four averages 0.7, a
speck marked in one 0.25), so the pipeline thresholds it at :data:`FLIP_THRESHOLD` instead of the
single view's 0.5: at 0.4 the masks on ``../shared/data/real_old`` are about as large as one
view's at 0.5 (0.91% and 1.01% of a print on average: ``scripts/make_real_old_sheet.py
--detect-flips``), with fewer marks on print borders and faces, and on the held-out photos the
independent-damage gain rises from +4.52 to +4.98 dB (docs/BENCHMARKS.md).

Measured by ``python scripts/eval_photo.py`` (docs/BENCHMARKS.md, "Half-size detection";
``--damage scan`` for scans at 4x the resolution; ``--detect-flips`` for the mirror views).

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

__all__ = [
    "EDGE_SHARE",
    "FLIPS",
    "FLIP_THRESHOLD",
    "LARGE_SHARE",
    "MIN_SIDE",
    "PYRAMID_SIDE",
    "SCAN_FLIPS",
    "SUPPORT",
    "check_flips",
    "damage_probability",
    "flip_average",
    "large_regions",
    "levels",
]

#: A half-size region joins the mask when it covers at least this share of the photo.
LARGE_SHARE = 0.005
#: A half-size region with this share of its pixels in the edge band is the print's edge.
EDGE_SHARE = 0.75
#: A half-size region joins only where the full-size map is at least this high on average inside
#: it: a fold or flaked patch too wide for the full-size view is still partly marked there, while a
#: large smooth highlight (a toucan's white chest, a dark blurred corner) is not marked at all.
SUPPORT = 0.04
#: Mirror views the detector's map is averaged over (:func:`flip_average`).
FLIPS = 4
#: Mirror views of a large scan's full-size map (one with a pyramid beyond half size,
#: :func:`levels`): there the detector is trusted whole at the scan's working level, and the
#: full size only adds specks; 2 views mark almost the same mask as 4 in about a quarter less time
#: (docs/BENCHMARKS.md, "A large scan's full size in two views").
SCAN_FLIPS = 2
#: The damage threshold on a map averaged over more than one view (module docstring); a single
#: view keeps its card's threshold.
FLIP_THRESHOLD = 0.4
#: The mirrorings after the photo itself: left-right, upside down, both.
_FLIP_DIMS = ((-1,), (-2,), (-2, -1))
#: Photos whose shorter side is below this are only looked at at full size.
MIN_SIDE = 128
#: Beyond half size, the photo is halved again while its shorter side stays at least this.
PYRAMID_SIDE = 384


def levels(h: int, w: int, pyramid: bool = True) -> list[int]:
    """The downscale factors the detector looks at besides full size: 2 when the shorter side is
    at least :data:`MIN_SIDE`, then (with ``pyramid``) 4, 8, ... while it stays at least
    :data:`PYRAMID_SIDE`.

    Example:
        >>> levels(768, 1024), levels(3456, 4608), levels(100, 200)
        ([2], [2, 4, 8], [])
    """
    side = min(h, w)
    out = [2] if side >= MIN_SIDE else []
    while pyramid and out and side // (out[-1] * 2) >= PYRAMID_SIDE:
        out.append(out[-1] * 2)
    return out


def flip_average(model: Any, x: Tensor, flips: int = FLIPS) -> Tensor:
    """``model.run_tensor`` on photos ``x`` (B, 3, H, W), averaged over ``flips`` mirror views:
    1 the photo itself, 2 also mirrored left-right, 4 also upside down and both. Each view's map
    is mirrored back before the mean; the output has the model's channels.

    Example:
        >>> class Left:  # "damage" = the left half, whichever way the photo lies
        ...     def run_tensor(self, x):
        ...         p = torch.zeros_like(x[:, :1])
        ...         p[..., : x.shape[-1] // 2] = 1.0
        ...         return p
        >>> float(flip_average(Left(), torch.rand(1, 3, 4, 4), 2)[0, 0, 0, 0])
        0.5
    """
    n = check_flips(flips)
    total = model.run_tensor(x)
    for d in _FLIP_DIMS[: n - 1]:
        total = total + model.run_tensor(x.flip(d)).flip(d)
    return total / n


def check_flips(flips: int, name: str = "flips") -> int:
    """``flips`` as an int; ValueError unless it is 1, 2 or 4 (``name`` says which argument)."""
    if flips not in (1, 2, 4):
        raise ValueError(f"{name} must be 1, 2 or 4, got {flips!r}")
    return int(flips)


def _region_mean(labels: np.ndarray, n: int, area: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The mean of ``v`` over each of the ``n`` labelled regions (``area``: their pixel counts)."""
    return np.bincount(labels.ravel(), weights=v.ravel(), minlength=n) / np.maximum(area, 1)


def large_regions(
    prob: Tensor,
    threshold: float = 0.5,
    share: float = LARGE_SHARE,
    support: Tensor | None = None,
    floor: float = 0.0,
) -> Tensor:
    """(B, 1, H, W) {0, 1}: the 8-connected regions of ``prob > threshold`` that cover at least
    ``share`` of the image and do not lie mostly (:data:`EDGE_SHARE` of their pixels) within
    :data:`restore.photo.margins.BAND` of the border: a print's edge or its card mount is not
    damage (a fold crosses the picture, a torn corner reaches into it). With ``support``
    (B, 1, H, W), only regions where its mean is at least ``floor``."""
    out = torch.zeros_like(prob[:, :1], dtype=torch.float32)
    binary = (prob[:, :1] > threshold).cpu().numpy().astype(np.uint8)
    h, w = binary.shape[-2:]
    edge = edge_band(h, w, max(1, round(BAND * min(h, w)))).astype(np.float64)
    for i in range(binary.shape[0]):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(binary[i, 0], connectivity=8)
        area = stats[:, cv2.CC_STAT_AREA]
        keep = (area >= share * h * w) & (_region_mean(labels, n, area, edge) < EDGE_SHARE)
        if support is not None and floor > 0:
            inside = _region_mean(labels, n, area, support[i, 0].double().cpu().numpy())
            keep &= inside >= floor
        keep[0] = False  # the background
        if keep.any():
            out[i, 0] = torch.from_numpy(keep[labels]).to(out)
    return out


def damage_probability(
    model: Any,
    x: Tensor,
    share: float = LARGE_SHARE,
    pyramid: bool = True,
    flips: int = FLIPS,
    threshold: float = 0.5,
    scan_flips: int = SCAN_FLIPS,
) -> Tensor:
    """The detector's damage probability (B, 1, H, W) of photos ``x`` (B, 3, H, W) in [0, 1]:
    its full-size map, raised inside the large regions (:func:`large_regions`) of each smaller
    level's map (:func:`levels`; half size only without ``pyramid``) to that map's value, and on
    a large scan wherever its last level (1/4 or smaller) finds damage. A large region joins
    only where the full-size map's mean inside it is at least :data:`SUPPORT`. Every map is the
    mean over ``flips`` mirror views (:func:`flip_average`). A scan's working level stands in for
    the full-size map, so it is cut at the pipeline's ``threshold`` as that map is; the large
    regions of the levels between keep :func:`large_regions`' 0.5 (cut at 0.4 they cost the mildly
    degraded grey photos 0.2 dB for +0.07 dB on the independent damage: docs/BENCHMARKS.md).
    On a large scan (a level of 1/4 or smaller) the full-size map is the mean over
    ``min(flips, scan_flips)`` views (:data:`SCAN_FLIPS`).
    ``model`` has ``run_tensor(x) -> probabilities``."""
    h, w = x.shape[-2:]
    ks = levels(h, w, pyramid)
    scan_flips = check_flips(scan_flips, "scan_flips")
    scan = bool(ks) and ks[-1] >= 4
    prob = full = flip_average(model, x, min(flips, scan_flips) if scan else flips)[:, :1]
    for k in ks:
        small = F.interpolate(x, size=(h // k, w // k), mode="area")
        p = flip_average(model, small, flips)[:, :1]
        p = F.interpolate(p.float(), size=(h, w), mode="bilinear", align_corners=False)
        # the working level of a large scan (its last, at the scale the detector was trained
        # at) is trusted whole; the others add their large regions only
        whole = k == ks[-1] and k >= 4
        if whole:
            keep = (p > threshold).to(p)
        else:
            keep = large_regions(p, share=share, support=full, floor=SUPPORT)
        prob = torch.maximum(prob, (p * keep).to(prob))
    return prob
