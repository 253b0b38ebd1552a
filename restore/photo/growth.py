"""Growing the damage mask to the width of the defect: into neighbours that look like the damage.

An experiment, not ``restore photo``'s default (``PhotoRestorer(dilate="like")`` turns it on;
``python scripts/eval_photo.py --dilate like``). The default grows the detector's thresholded map
by 1 px everywhere (the damage model's card), which takes the picture on both sides of a thin
crack into the hole and misses the edges of a wide one. :func:`grow_like_damage` grows it one
pixel at a time instead, and takes a neighbour only where that pixel looks like the damage next
to it:

- the damage's colour near a pixel is the mean of the masked pixels in the
  :data:`WINDOW` x :data:`WINDOW` box around it; the background's is the mean of the pixels
  there that lie more than 2 px from the mask (the 1-px rim is mixed);
- a pixel of the 1-px ring around the mask joins when its colour, projected on the line from
  the background's colour to the damage's, lies at least :data:`LIKENESS` of the way to the
  damage (0.5: nearer to the damage than to the background);
- where the two colours lie closer than :data:`MIN_CONTRAST` (RGB distance), nothing grows:
  faint damage gives no colour to follow.

Why it is not the default (docs/BENCHMARKS.md, "The mask grown like the damage"): on the
independent synthetic damage, whose defects are painted in one flat colour with hard edges, it
raises the mask's precision and IoU and the output's PSNR; on real prints, whose cracks have soft
edges, the tighter mask leaves those edges and the inpainter's fill beside them, and the filled
cracks stay visible as grey outlines where the 1-px rim filled them cleanly.

Example:
    >>> x = torch.zeros(1, 3, 20, 20)
    >>> x[..., :, 8:12] = 1.0  # a 4-px wide white crack on black
    >>> core = torch.zeros(1, 1, 20, 20)
    >>> core[..., :, 9] = 1  # the detector found one column of it
    >>> grown = grow_like_damage(core, x)
    >>> grown[0, 0, 10].nonzero().flatten().tolist()  # the crack's full width, nothing more
    [8, 9, 10, 11]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from restore.tasks.damage import dilate

__all__ = [
    "DILATE_SIDE",
    "GROW_STEPS",
    "LIKENESS",
    "MIN_CONTRAST",
    "WINDOW",
    "grow_like_damage",
    "parse_dilate",
    "scaled_dilate",
]

#: Pixels the mask may grow by at most (one per step).
GROW_STEPS = 3
#: How far (0 = background, 1 = damage) a ring pixel's colour must lie towards the damage's.
LIKENESS = 0.5
#: Side of the box in which the damage's and the background's colours are measured.
WINDOW = 9
#: Smallest RGB distance (in [0, 1] units) between those two colours for the mask to grow.
MIN_CONTRAST = 0.08


def _box_sum(t: Tensor, k: int) -> Tensor:
    """Sum over the k x k box around each pixel (zero outside the image), separably."""
    t = F.avg_pool2d(t, (1, k), 1, (0, k // 2), count_include_pad=True)
    return F.avg_pool2d(t, (k, 1), 1, (k // 2, 0), count_include_pad=True) * (k * k)


def grow_like_damage(
    mask: Tensor,
    x: Tensor,
    steps: int = GROW_STEPS,
    likeness: float = LIKENESS,
    window: int = WINDOW,
    min_contrast: float = MIN_CONTRAST,
) -> Tensor:
    """Grow ``mask`` into the neighbouring pixels of ``x`` that look like the damage (module doc).

    Args:
        mask: (B, 1, H, W) damage mask; > 0.5 is damaged.
        x: (B, 3, H, W) photos in [0, 1] the mask belongs to.
        steps: at most this many pixels of growth.
        likeness: share of the way from the background's colour to the damage's a pixel must go.
        window: odd side of the box the two colours are measured in.
        min_contrast: no growth where the two colours are closer than this (RGB distance).

    Returns:
        (B, 1, H, W) float mask in {0, 1}, a superset of ``mask > 0.5``.
    """
    if mask.dim() != 4 or mask.shape[1] != 1 or x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(
            f"expected a (B, 1, H, W) mask and (B, 3, H, W) photos, got "
            f"{tuple(mask.shape)} and {tuple(x.shape)}"
        )
    if mask.shape[0] != x.shape[0] or mask.shape[-2:] != x.shape[-2:]:
        raise ValueError(f"mask {tuple(mask.shape)} does not match photos {tuple(x.shape)}")
    if steps < 0 or window < 3 or window % 2 == 0:
        raise ValueError(f"steps must be >= 0 and window odd and >= 3, got {steps}, {window}")
    m = (mask > 0.5).float()
    x = x.to(m)
    for _ in range(steps):
        ring = dilate(m, 1) - m
        if not bool(ring.any()):
            break
        bg = 1 - dilate(m, 2)
        n_dmg, n_bg = _box_sum(m, window), _box_sum(bg, window)
        dmg = _box_sum(x * m, window) / n_dmg.clamp_min(1e-6)
        back = _box_sum(x * bg, window) / n_bg.clamp_min(1e-6)
        v = dmg - back
        v2 = (v * v).sum(1, keepdim=True)
        t = ((x - back) * v).sum(1, keepdim=True) / v2.clamp_min(1e-12)
        joins = (ring > 0) & (n_dmg > 0.5) & (n_bg > 0.5)
        joins &= (v2 > min_contrast**2) & (t >= likeness)
        if not bool(joins.any()):
            break
        m = torch.maximum(m, joins.float())
    return m


#: The photo size the damage card's dilation was set at: a photo whose longer side is ``k`` times
#: this (rounded) grows its mask ``k`` times as far by default (:func:`scaled_dilate`).
DILATE_SIDE = 1024


def scaled_dilate(pixels: int, h: int, w: int) -> int:
    """``pixels`` of growth (the damage card's, for photos up to about :data:`DILATE_SIDE` px)
    for an ``h`` x ``w`` photo: times its longer side over :data:`DILATE_SIDE`, rounded, at
    least 1. A large scan or phone photo blurs each speck's and crack's edge over as many more
    pixels, and a 1-px rim left the filled specks of a 4608-px phone photo outlined by their
    halos (docs/BENCHMARKS.md, "The mask grows with the photo").

    Example:
        >>> scaled_dilate(1, 768, 1024), scaled_dilate(1, 2048, 1920), scaled_dilate(1, 3456, 4608)
        (1, 2, 4)
    """
    return pixels * max(1, round(max(h, w) / DILATE_SIDE))


def parse_dilate(value: str) -> int | str:
    """A ``--dilate`` value on a command line: whole pixels, or ``like`` (:func:`grow_like_damage`)."""
    return value if value == "like" else int(value)
