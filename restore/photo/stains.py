"""Coloured stains lifted off a single-toned print, by the channels they leave alone.

A water stain, foxing or rust on a B&W or sepia print is a coloured filter over the picture: it
absorbs blue most, green less, red least (brown, orange, yellow), and darkens the picture under
it. ``tone="mono"`` (:mod:`restore.photo.tone`) already rebuilds the output's colour from the
print's dominant tone, so the stain's *colour* goes; this stage takes out the *darkening* its own
channels can show.

On a single-toned print every channel follows from the luminance: channel ``k`` of a pixel of
true luma ``Y`` is ``f_k(Y) = Y + curve_k(Y)``, the tone curve of :func:`~restore.photo.tone.measure_tone`
(a median over each luminance bin, so stains do not pull it). A stain multiplies each channel by a
transmission ``t_k <= 1``. Inverting ``f_k`` gives one estimate of ``Y`` per channel; each is at
most the true ``Y`` (a stain only absorbs), so the largest, the channel the stain absorbs least,
is the closest: ``Y_hat = max_k f_k^-1(o_k)``. The stage brings the luma up to it:

- the gain is a ratio of local means, ``blur(Y_hat) / blur(Y)`` (Gaussian, :data:`SIGMA` px), so
  noise and JPEG chroma at edges do not make halos;
- it is used only where the channels disagree: the spread ``max_k - min_k`` of the estimates
  (blurred the same way) is weighed from 0 at :data:`SPREAD_LO` to 1 at :data:`SPREAD_HI` 8-bit
  levels; below it (the print's own tone, noise, grain) the photo is left bit-identical;
- it never darkens, and at most :data:`MAX_GAIN`.

What it cannot take out: the part of a stain that darkens every channel alike (a grey-brown
tide line, the red absorbed by a dense rust ring). So it removes a lower bound of the stain, never
more than the print's own channels show. Numbers: ``docs/BENCHMARKS.md``, "Stains lifted".

Example:
    >>> x = torch.rand(1, 1, 32, 32).expand(-1, 3, -1, -1)      # a grey print, no stain
    >>> y, share, _ = lift_stains(x, measure_tone(x, single=True))
    >>> bool(torch.equal(y, x)), share
    (True, [0.0])
"""

from __future__ import annotations

from collections.abc import Sequence

import kornia
import torch
from torch import Tensor

from restore.data.color import rgb_to_gray
from restore.photo.tone import LUT_SIZE, Tone, apply_tone, measure_tone

#: Gaussian sigma (px) of the local means the gain is a ratio of.
SIGMA = 3.0
#: Spread between the channels' luma estimates (8-bit levels) below which nothing is lifted, and
#: above which the gain is used whole.
SPREAD_LO = 4.0
SPREAD_HI = 12.0
#: Largest gain (a stain's least-absorbed channel passing a third of the light).
MAX_GAIN = 3.0
#: A pixel counts as lifted in the report's share when its gain exceeds this.
LIFTED = 1.01
#: Pixels a first pass lifts by more than this are left out when the tone is measured again.
REMEASURE = 1.03


def _blur(x: Tensor) -> Tensor:
    k = 2 * int(3 * SIGMA) + 1
    return kornia.filters.gaussian_blur2d(x, (k, k), (SIGMA, SIGMA), border_type="replicate")


def stain_gain(x: Tensor, curve: Tensor) -> Tensor:
    """The gain that lifts the stains of one single-toned print.

    Args:
        x: (1, 3, H, W) the print in [0, 1].
        curve: (3, BINS) its dominant tone (:attr:`restore.photo.tone.Tone.curve`, measured with
            ``single=True``).

    Returns:
        (1, 1, H, W) gain, >= 1, exactly 1 where the channels agree with the tone.
    """
    grid = torch.linspace(0, 1, LUT_SIZE, device=x.device, dtype=x.dtype)
    f = apply_tone(grid.view(1, 1, 1, -1).expand(1, 3, 1, -1), curve)[0, :, 0]  # (3, L)
    f = f.cummax(1).values.contiguous()  # each channel's value as luma rises, made monotone
    o = x[0].flatten(1).contiguous()
    est = torch.stack([torch.searchsorted(f[k], o[k]) for k in range(3)]).to(x.dtype)
    est = _blur((est / (LUT_SIZE - 1)).view(1, 3, *x.shape[-2:]))  # luma each channel says
    hi, lo = est.amax(1, keepdim=True), est.amin(1, keepdim=True)
    weight = (((hi - lo) * 255.0 - SPREAD_LO) / (SPREAD_HI - SPREAD_LO)).clamp(0, 1)
    ratio = hi / _blur(rgb_to_gray(x)).clamp(min=1e-3)
    return 1 + weight * (ratio - 1).clamp(0, MAX_GAIN - 1)


def mono_curve(t: Tone) -> Tensor:
    """The curve a print measured with ``single=True`` is given: its tone's, or zero (neutral
    grey) for one measured grey."""
    return t.curve if t.kind == "toned" else torch.zeros_like(t.curve)


def lift_stains(
    x: Tensor, tones: Sequence[Tone], mask: Tensor | None = None
) -> tuple[Tensor, list[float], list[Tone]]:
    """Lift the stains of single-toned prints (see the module doc).

    A stain over most of a luminance range pulls even a median tone curve (a brown stain over a
    fifth of the print can make up most of its mid-dark pixels), and the unstained pixels of
    that range then look bluer than the tone and would be lifted too. So the tone is measured
    again with the pixels the first pass lifts by more than :data:`REMEASURE` left out (when they
    are under half of the print), and the gain taken from that curve.

    Args:
        x: (B, 3, H, W) prints in [0, 1].
        tones: per print its tone measured with ``single=True`` (``tone="mono"``): a print
            measured grey is taken for neutral (a B&W print with an orange stain), one measured
            colour (only without ``single``) is left alone.
        mask: optional (B, 1, H, W) damage mask (1 = damaged), left out of the second measure.

    Returns:
        (the prints, (B, 3, H, W) in [0, 1], ``x`` itself when nothing was lifted; per print the
        share of its pixels lifted by more than 1%; per print its tone, measured again where
        stains were found: the curve to give the output).

    Raises:
        ValueError: ``x`` is not (B, 3, H, W) or ``tones`` has another length.
    """
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected prints (B, 3, H, W), got {tuple(x.shape)}")
    if len(tones) != x.shape[0]:
        raise ValueError(f"{len(tones)} tones for {x.shape[0]} prints")
    out, shares, kept = [], [], list(tones)
    for i, (xi, t) in enumerate(zip(x.split(1), tones)):
        if t.kind == "colour":
            out.append(xi)
            shares.append(0.0)
            continue
        g = stain_gain(xi, mono_curve(t))
        stained = g > REMEASURE
        if bool(stained.any()) and float(stained.float().mean()) < 0.5:
            if mask is not None:
                stained = stained | (mask[i : i + 1, :1] > 0.5)
            kept[i] = measure_tone(xi, stained.float(), single=True)[0]
            g = stain_gain(xi, mono_curve(kept[i]))
        shares.append(round(float((g > LIFTED).float().mean()), 5))
        out.append(torch.where(g > 1, (xi * g).clamp(0, 1), xi))
    if not any(shares):
        return x, shares, kept
    return torch.cat(out), shares, kept


__all__ = ["MAX_GAIN", "SIGMA", "SPREAD_HI", "SPREAD_LO", "lift_stains", "mono_curve", "stain_gain"]
