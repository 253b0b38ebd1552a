"""The coarse detector: damage that is still there at a whole print's scale (large flakes of
emulsion, tears), looked for on the photo shrunk to a short side of :data:`COARSE_SIDE` pixels.

The full-size detector (``damage``) finds cracks, scratches and dust, but a flake of emulsion
that takes a fifth of a face (``real_old/bzz12366/15``) is wider than most of what it sees: it
gives those flakes probability 0, at full and at half size, and its own synthetic large flakes
drawn on that print too. The coarse model (the shipped :data:`COARSE_MODEL`, trained by
``configs/damage_coarse.yaml``; ``restore photo`` runs it by default) is the same small U-Net
trained on real-print damage shrunk twice, most of it flaked, so a flake is a blob with its print
around it. Only prints are given to it (colour spread under :data:`COARSE_SPREAD`).

Its map alone also marks what is white and large: white clothes, lit skin, highlights. Where it
is over :data:`COARSE_THRESHOLD`, a blob is kept only when it looks like a large flake of bare
paper (:func:`fibrous`): at least :data:`COARSE_MIN_AREA` of the photo, and rougher than the
photo (:data:`PAPER_TEXTURE`): the paper's fibres show where the smooth gelatin came off. The
kept blobs, brought back to full size, grown and without edge bands like the rest, join the
mask, each as far as the map stays over :data:`COARSE_LOW` (:func:`reach`), after the faces'
protection (:func:`restore.photo.stages.detect_damage`): a flake off a face
is paper, not skin. Measured by ``python scripts/eval_photo.py [--coarse none]``, ``python
scripts/eval_real_labels.py [--coarse none]`` and ``python scripts/bench/flake_recall.py
--coarse damage-coarse`` (docs/BENCHMARKS.md, "A coarse detector for large flakes" and "Bare
paper is fibrous").
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from restore.photo.scales import flip_average

__all__ = [
    "COARSE_LOW",
    "COARSE_MIN_AREA",
    "COARSE_MODEL",
    "COARSE_MULTIPLE",
    "COARSE_SIDE",
    "COARSE_SPREAD",
    "COARSE_THRESHOLD",
    "PAPER_TEXTURE",
    "coarse_probability",
    "coarse_size",
    "fibrous",
    "fine_texture",
    "reach",
]

#: The shipped coarse detector, which ``restore photo`` runs by default.
COARSE_MODEL = "damage-coarse"
#: The short side (px) the photo is shrunk (or enlarged) to for the coarse detector: its 320-px
#: training patches were shrunk to the same 160, and a print's flakes are a few percent of the whole.
COARSE_SIDE = 160
#: The coarse map's sides are rounded to a multiple of this (the U-Net's 16, so no padding).
COARSE_MULTIPLE = 16
#: Coarse probability over which a pixel is damage.
COARSE_THRESHOLD = 0.5
#: A kept blob (:func:`fibrous`) reaches as far as the coarse map stays over this (hysteresis, as
#: Canny's edges): the map is over 0.5 on the middle of a large flake and falls off towards its
#: rim, so without it the mask covered two thirds of ``real_old/bzz12366/15``'s flakes.
COARSE_LOW = 0.3
#: Only photos whose colours stray less than this many 8-bit levels from their tone
#: (:func:`restore.photo.tone.colour_spread`: B&W, toned, faded, tinted prints) are looked at:
#: on colour photos the coarse model takes white clothes and highlights for flakes.
COARSE_SPREAD = 6.0
#: A coarse blob is kept only when its fine texture (:func:`fine_texture`, the median inside it)
#: is at least this many times the photo's own (its median over the whole photo): bare paper is
#: fibrous, the gelatin around it smooth, white clothes and lit skin included. On the real prints
#: of ``../shared/data/real_old`` the flakes of ``bzz12366/15`` measured 1.2-1.6, the coarse
#: model's white sleeves, shirts and lit faces 0.4-1.0 (docs/BENCHMARKS.md, "Bare paper is
#: fibrous").
PAPER_TEXTURE = 1.1
#: ... and covers at least this share of the photo: large flakes are the coarse detector's job,
#: small ones the full-size detector's. On clean photos the coarse model's blobs are highlights and
#: bright edges, almost all under 0.1% of the photo and rough with the photo's own detail.
COARSE_MIN_AREA = 0.004
#: The photo's fine texture counts as at least this (luma in [0, 1], a quarter of an 8-bit level):
#: on a noiseless synthetic photo any texture inside a blob is paper.
TEXTURE_FLOOR = 1 / 1020
#: Blobs are judged on the photo with its longer side at most this (px), as the line finder looks.
TEXTURE_SIDE = 1024


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


def fine_texture(luma: np.ndarray) -> np.ndarray:
    """|luma - its Gaussian blur (sigma 1.5 px)| per pixel of an H x W float32 luma: the grain,
    fibres and fine detail of a photo, without its shading."""
    return np.abs(luma - cv2.GaussianBlur(luma, (0, 0), 1.5))


def fibrous(mask: Tensor, x: Tensor) -> Tensor:
    """The connected blobs of ``mask`` (B, 1, H, W) in {0, 1} that look like large flakes of bare
    paper on photos ``x`` (B, 3, H, W) in [0, 1]: at least :data:`COARSE_MIN_AREA` of the photo,
    and their fine texture (:func:`fine_texture` of the BT.601 luma, the
    median over the blob shrunk by 2 px) at least :data:`PAPER_TEXTURE` times the photo's median
    (at least :data:`TEXTURE_FLOOR`). Judged on the photo shrunk to a longer side of
    :data:`TEXTURE_SIDE`; the kept blobs come back at full size with their own edges."""
    out = torch.zeros_like(mask)
    h, w = mask.shape[-2:]
    f = min(1.0, TEXTURE_SIDE / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))  # cv2's (width, height)
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    for i in range(mask.shape[0]):
        m = (mask[i, 0] > 0.5).cpu().numpy().astype(np.uint8)
        if not m.any():
            continue
        img = x[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        if f < 1.0:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            m = cv2.resize(m, size, interpolation=cv2.INTER_NEAREST)
        tex = fine_texture(np.ascontiguousarray(img @ weights, np.float32))
        base = max(float(np.median(tex)), TEXTURE_FLOOR)
        n, labels = cv2.connectedComponents(m, connectivity=8)
        inner_all = cv2.erode(m, np.ones((5, 5), np.uint8))
        keep = np.zeros_like(m)
        least = COARSE_MIN_AREA * m.size
        for k in range(1, n):
            blob = labels == k
            if blob.sum() < least:
                continue
            inner = blob & (inner_all > 0)
            inside = tex[inner if inner.any() else blob]
            if float(np.median(inside)) >= PAPER_TEXTURE * base:
                keep[blob] = 1
        if not keep.any():
            continue
        if f < 1.0:  # a kept blob's full-size pixels: the mask's own, near the shrunk blob
            keep = cv2.dilate(keep, np.ones((3, 3), np.uint8))
            keep = cv2.resize(keep, (w, h), interpolation=cv2.INTER_NEAREST)
        out[i, 0] = mask[i, 0] * torch.from_numpy(keep).to(mask)
    return out


def reach(kept: Tensor, prob: Tensor, low: float = COARSE_LOW) -> Tensor:
    """``kept`` (B, 1, H, W) in {0, 1} grown over the connected regions of ``prob`` (B, 1, H, W)
    over ``low`` that it touches (hysteresis, :func:`restore.data.masks.regions_touching`): a blob reaches as far as the map stays over
    ``low``; regions over ``low`` that no kept blob touches stay out.

    Example:
        >>> p = torch.tensor([[[[0.9, 0.4, 0.35, 0.1, 0.4]]]])
        >>> reach((p > 0.5).float(), p)[0, 0, 0].tolist()
        [1.0, 1.0, 1.0, 0.0, 0.0]
    """
    from restore.data.masks import regions_touching

    out = kept.clone()
    for i in range(kept.shape[0]):
        seed = kept[i, 0].cpu().numpy() > 0.5
        if seed.any():
            grown = regions_touching(prob[i, 0].cpu().numpy() > low, seed) | seed
            out[i, 0] = torch.from_numpy(grown).to(kept)
    return out
