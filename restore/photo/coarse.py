"""The coarse detector: damage that is still there at a whole print's scale (large flakes of
emulsion, tears), looked for on the photo shrunk to a short side of :data:`COARSE_SIDE` pixels.

The full-size detector (``damage``) finds cracks, scratches and dust, but a flake of emulsion
that takes a fifth of a face (``real_old/bzz12366/15``) is wider than most of what it sees: it
gives those flakes probability 0, at full and at half size, and its own synthetic large flakes
drawn on that print too. The coarse model (trained by ``configs/damage_coarse.yaml``; none is
shipped, so ``restore photo`` runs without one unless given ``detect_coarse=RUN``) is the same
small U-Net trained on real-print damage shrunk twice, most of it flaked, so a flake is
a blob with its print around it. Its map, brought back to full size, joins the full-size mask
where it is over :data:`COARSE_THRESHOLD`, grown and without edge bands like the rest
(:func:`restore.photo.stages.detect_damage`). Measured by ``python scripts/eval_photo.py
--coarse RUN`` and ``python scripts/eval_real_labels.py --coarse RUN`` (docs/BENCHMARKS.md, "A
coarse detector for large flakes").
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from restore.photo.scales import flip_average

__all__ = [
    "COARSE_MULTIPLE",
    "COARSE_SIDE",
    "COARSE_SPREAD",
    "COARSE_THRESHOLD",
    "coarse_probability",
    "coarse_size",
]

#: The short side (px) the photo is shrunk (or enlarged) to for the coarse detector: its 320-px
#: training patches were shrunk to the same 160, and a print's flakes are a few percent of the whole.
COARSE_SIDE = 160
#: The coarse map's sides are rounded to a multiple of this (the U-Net's 16, so no padding).
COARSE_MULTIPLE = 16
#: Coarse probability over which a pixel is damage.
COARSE_THRESHOLD = 0.5
#: Only photos whose colours stray less than this many 8-bit levels from their tone
#: (:func:`restore.photo.tone.colour_spread`: B&W, toned, faded, tinted prints) are looked at:
#: on colour photos the coarse model takes white clothes and highlights for flakes.
COARSE_SPREAD = 6.0


def coarse_size(h: int, w: int, side: int = COARSE_SIDE) -> tuple[int, int]:
    """(height, width) of an ``h`` x ``w`` photo brought to a shorter side of about ``side``,
    each rounded to a multiple of :data:`COARSE_MULTIPLE` (at least one).

    Example:
        >>> coarse_size(768, 1024), coarse_size(553, 390), coarse_size(100, 100)
        ((160, 208), (224, 160), (160, 160))
    """
    f = side / min(h, w)
    m = COARSE_MULTIPLE
    return max(m, round(h * f / m) * m), max(m, round(w * f / m) * m)


def coarse_probability(model: Any, x: Tensor, side: int = COARSE_SIDE, flips: int = 1) -> Tensor:
    """The coarse detector's damage probability (B, 1, H, W) for photos ``x`` (B, 3, H, W) in
    [0, 1]: ``model`` (anything with ``run_tensor``) on the photos brought to
    :func:`coarse_size` (area mean when shrinking, bilinear when enlarging), averaged over
    ``flips`` mirror views (:func:`restore.photo.scales.flip_average`), and brought back to the
    photos' size (bilinear)."""
    h, w = x.shape[-2:]
    hs, ws = coarse_size(h, w, side)
    mode = "area" if hs * ws < h * w else "bilinear"
    small = F.interpolate(
        x, size=(hs, ws), mode=mode, **({} if mode == "area" else {"align_corners": False})
    )
    p = flip_average(model, small, flips)[:, :1]  # area and bilinear stay within [0, 1]
    return F.interpolate(p, size=(h, w), mode="bilinear", align_corners=False)
