"""Show the damage detector a dim print brightened: its bare paper as white as a scan's.

Emulsion that flakes off, a crack through it and a scratch show the paper: on a flatbed scan of
a print that is the lightest thing in it, close to white, and the training damage
(:mod:`restore.data.old_print`) draws it so. A print photographed in room light, or a dark,
faded one, puts its paper at 0.5-0.7 instead, and the detector, which learned "bare paper is
near white", leaves such flakes unmarked: on ``photo-restoration/sample.jpeg`` of
``../shared/data/real_old`` (a phone photo of a print, its 99.5% luma quantile at about 0.65)
``restore photo`` masked 0.13% of the photo where the white specks, the torn edge of the hat and
the flaked chest cover several percent; brightened, 3.7%.

:func:`levelled` gives the detector each photo brightened so that its luma's :data:`HIGH`
quantile, where the bare paper is, becomes white (the same gain on all three channels; black stays
black, and the lightest half percent is clipped), by at most :data:`MAX_GAIN`, when that quantile
is under :data:`DIM`. A photo whose paper is already near white (most flatbed scans and modern
photos) is left as it is. A full stretch,
the dark point to black too, was tried (a one-off variant) and not kept: it also raised the
contrast of the picture, and the detector found clearly less of the hand-labelled damage of
``yasirgunes/f``. Only the detector sees the brightened copy: the rest of the pipeline restores the photo
itself.

Measured by ``python scripts/eval_real_labels.py --detect-levels on|off``,
``python scripts/eval_photo.py --detect-levels on|off`` and
``python scripts/make_real_old_sheet.py`` (docs/BENCHMARKS.md, "Dim prints").

Example:
    >>> x = 0.6 * torch.linspace(0, 1, 1000).view(1, 1, 1, 1000).expand(1, 3, 10, 1000)
    >>> y = levelled(x)  # its paper at 0.6: brightened 1 / 0.6 times (0.597, the 99.5% quantile)
    >>> round(float(y.min()), 3), round(float(y[0, 0, 0, 500] / x[0, 0, 0, 500]), 3)
    (0.0, 1.675)
"""

from __future__ import annotations

import torch
from torch import Tensor

from restore.data.color import rgb_to_gray

__all__ = ["DIM", "HIGH", "MAX_GAIN", "SAMPLES", "levelled", "paper_gain"]

#: The luma quantile that becomes white: the lightest half percent of a print, its bare paper.
HIGH = 0.995
#: Only a photo whose :data:`HIGH` quantile is under this is brightened: a scan's paper, at
#: 0.85-1, is left alone. Brightening every photo (a one-off variant) lost a little on the
#: held-out photos with independent damage: on ``Set5/005`` (paper at 0.96) the small gain
#: clipped a fold's light line flat, and the detector lost most of it.
DIM = 0.8
#: A photo is stretched by at most this factor: a nearly flat photo is not blown up into its noise.
MAX_GAIN = 4.0
#: The quantiles are measured on at most this many pixels of each photo (evenly strided).
SAMPLES = 1 << 18


def paper_gain(x: Tensor) -> Tensor:
    """(B,) the gain :func:`levelled` gives each of photos ``x`` (B, 3, H, W) in [0, 1]: 1 over
    its luma's :data:`HIGH` quantile where that is under :data:`DIM` (at most :data:`MAX_GAIN`),
    else 1."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected photos (B, 3, H, W), got {tuple(x.shape)}")
    luma = rgb_to_gray(x.float()).flatten(1)
    step = max(1, luma.shape[1] // SAMPLES)
    hi = torch.quantile(luma[:, ::step], HIGH, dim=1)  # (B,)
    return torch.where(hi < DIM, 1.0 / hi.clamp(min=1.0 / MAX_GAIN), torch.ones_like(hi))


def levelled(x: Tensor, gain: Tensor | None = None) -> Tensor:
    """Photos ``x`` (B, 3, H, W) in [0, 1]; each whose luma's :data:`HIGH` quantile is under
    :data:`DIM` multiplied so that it becomes 1 (by at most :data:`MAX_GAIN`) and clipped to
    [0, 1], the others as they are. ``gain``: the (B,) gains if already measured
    (:func:`paper_gain`)."""
    gain = paper_gain(x) if gain is None else gain
    return (x * gain.view(-1, 1, 1, 1).to(x)).clamp(0, 1)
