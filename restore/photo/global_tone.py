"""The enhance stage's change, split into one global tone curve and its local clean-up.

The ``enhance`` model is a U-Net that sees a window of the photo, not the whole print: its
low-frequency change (brightness, contrast, cast) is decided block by block, so on a whole photo
it varies in bands and blocks that follow the network's 64-px grid, and a dark background is
darkened further beside a subject that is not (``scripts/bench/photo_stages.py``). Fading and
casts are properties of the whole print, so :func:`global_enhance` keeps:

- the model's **local** change (grain, JPEG blocks, small blemishes): ``d - blur(d)``, with
  ``d = enhanced - photo`` and a Gaussian blur of ``sigma = max(H, W) / 64`` pixels;
- its **low-frequency** change only as one monotone curve per channel: the mean of ``blur(d)``
  over the pixels of each of :data:`BINS` bins of ``blur(photo)``, interpolated, continued
  beyond the photo's range by a constant offset and made non-decreasing, then applied to
  ``blur(photo)``.

The photo pipeline keeps only the curve, applied to every pixel (``local`` =
:data:`PIPELINE_LOCAL` = 0): the local change cost PSNR on every input the model was not trained
on (``scripts/bench/enhance_tone.py``).

A weak curve is the model's error, not a correction: on clean and mildly degraded photos its
curves move the pixels by 1-7 levels (RMS) and cost PSNR, while the fades and casts it was trained
to remove give 10-40 levels. With a ``gate`` ``(lo, hi)`` (the pipeline's :data:`PIPELINE_GATE`)
the curve is scaled by ``clamp((S - lo) / (hi - lo), 0, 1)``, ``S`` being its RMS move over the
photo in 8-bit levels: curves under ``lo`` are dropped, those over ``hi`` kept whole.

A photo marked ``shared`` gets one curve for its three channels, the mean of its channel curves:
its tone (fading, contrast) is corrected but its colour balance is kept, and a neutral pixel stays
neutral. The pipeline does that for colour photos (:class:`restore.photo.PhotoRestorer`'s
``fix_casts``): per-channel curves took the warm cast out of a clean Lena as if it were a
yellowing (``python scripts/eval_photo.py --fix-casts``). The gate judges the shared curve, the
one applied, so a cast the channel curves would have removed no longer counts as fading (clean
Lena, Set14 009: 28.33 -> 28.77 dB).

Measured with ``python scripts/bench/photo_stages.py --global-tone`` (the enhance stage alone,
PSNR against the clean photo; see docs/BENCHMARKS.md): better than the model's own output on
clean photos, mildly aged grey / sepia scenes, and the own fading + grain damage, and equal on
the independent damage.

Example:
    >>> x = torch.rand(1, 3, 64, 64)
    >>> y = global_enhance(x, (x * 0.8 + 0.1))  # a pure contrast change stays one
    >>> bool(((y - (x * 0.8 + 0.1)).abs() < 0.05).float().mean() > 0.9)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import kornia
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "BINS",
    "PIPELINE_GATE",
    "PIPELINE_LOCAL",
    "apply_curve",
    "check_gate",
    "curve_strength",
    "enhance_tone",
    "global_enhance",
    "tone_curve",
]

#: Bins of the curve over [0, 1].
BINS = 32
#: A bin needs this share of the photo's pixels to set a knot of the curve.
MIN_SHARE = 2e-4
#: Share of the model's local change the photo pipeline keeps; 0: only its tone curve, on every
#: pixel. Measured by ``python scripts/bench/enhance_tone.py`` (docs/BENCHMARKS.md): the local
#: change adds mottled texture and 64-px blocks to smooth areas, and costs PSNR on clean, mildly
#: degraded and independently damaged photos alike.
PIPELINE_LOCAL = 0.0
#: The pipeline's tone gate (module docstring): RMS moves, in 8-bit levels, under which the curve
#: is dropped and over which it is kept whole (``scripts/bench/enhance_tone.py --gates``).
PIPELINE_GATE: tuple[float, float] | None = (4.0, 10.0)
#: The pipeline fits the curve on a large photo halved while its shorter side stays at least
#: this (:func:`working_factor`): the enhance model was trained on 256-px crops of photos about
#: this size, and on a 4x enlarged scan it read the softness as fading (clean 4x scans of Set14
#: came back at 20-24 dB: ``python scripts/eval_photo.py --damage scan``).
WORKING_SIDE = 512


def working_factor(h: int, w: int, side: int = WORKING_SIDE) -> int:
    """The largest power of two ``k`` with ``min(h, w) / k >= side`` (1 for smaller photos).

    Example:
        >>> working_factor(768, 1024), working_factor(2048, 3072), working_factor(3456, 4608)
        (1, 4, 4)
    """
    k = 1
    while min(h, w) // (2 * k) >= side:
        k *= 2
    return k


def _shrink_blur(x: Tensor, sigma: float) -> Tensor:
    """A Gaussian blur of ``sigma`` pixels, computed on the image shrunk ``f = sigma // 2`` times
    (area): the same low frequencies at a fraction of the cost. Returns the blurred image at the
    shrunk size (the full size when ``f`` is 1)."""
    f = max(1, int(sigma // 2))
    if f > 1:
        h, w = x.shape[-2:]
        x = F.interpolate(x, size=(max(1, -(-h // f)), max(1, -(-w // f))), mode="area")
    s = sigma / f
    # kornia's Gaussian (truncated at 3 sigma, reflect padding), narrowed on tiny images
    r = max(1, int(3 * s))
    size = (2 * min(r, x.shape[-2] - 1) + 1, 2 * min(r, x.shape[-1] - 1) + 1)
    return kornia.filters.gaussian_blur2d(x, size, (s, s), "reflect")


def tone_curve(src: Tensor, dst: Tensor, bins: int = BINS) -> np.ndarray:
    """The non-decreasing curve (``bins`` knots on [0, 1]) that maps ``src`` values to ``dst``:
    per bin of ``src``, the knot is moved by the mean of ``dst - src`` there; bins with fewer
    than :data:`MIN_SHARE` of the pixels are interpolated, and beyond the data the offset of the
    nearest knot is kept.

    Shape:
        (N,), (N,) -> (bins,).
    """
    s, d = src.flatten().float(), dst.flatten().float()
    idx = (s.clamp(0, 1) * (bins - 1)).round().long()
    count = torch.bincount(idx, minlength=bins).double()
    shift = torch.bincount(idx, d - s, minlength=bins).double()
    xs = np.linspace(0.0, 1.0, bins)
    ok = (count >= max(1.0, MIN_SHARE * s.numel())).numpy()
    if ok.sum() == 0:
        return xs
    offset = (shift / count.clamp_min(1)).numpy()[ok]
    return np.maximum.accumulate(xs + np.interp(xs, xs[ok], offset))


def check_gate(gate: tuple[float, float] | None) -> tuple[float, float] | None:
    """``gate`` as floats, or None; ValueError unless ``0 <= lo <= hi``."""
    if gate is None:
        return None
    lo, hi = map(float, gate)
    if not 0.0 <= lo <= hi:
        raise ValueError(f"gate must be (lo, hi) with 0 <= lo <= hi, got {gate!r}")
    return lo, hi


def curve_strength(v: Tensor, curves: list[Tensor]) -> float:
    """How far ``curves`` (one per channel) move the pixels of ``v`` (C, H, W): RMS, 8-bit levels."""
    moved = torch.stack([apply_curve(v[c], curves[c]) for c in range(v.shape[0])])
    return float((moved - v).pow(2).mean().sqrt()) * 255.0


def _gated(curves: list[Tensor], strength: float, gate: tuple[float, float]) -> list[Tensor]:
    """``curves`` pulled toward the identity by the gate's ramp on their ``strength``."""
    lo, hi = gate
    k = min(1.0, max(0.0, (strength - lo) / max(hi - lo, 1e-6)))
    if k == 1.0:
        return curves
    return [torch.lerp(torch.linspace(0.0, 1.0, c.numel(), dtype=c.dtype), c, k) for c in curves]


def global_enhance(
    x: Tensor,
    enhanced: Tensor,
    sigma_frac: float = 1 / 64,
    local: float = 1.0,
    gate: tuple[float, float] | None = None,
    apply_to: Tensor | None = None,
    shared: Sequence[bool] | None = None,
) -> Tensor:
    """``enhanced`` (the model's output for photos ``x``) with its low-frequency change made one
    tone curve per channel (module docstring); a photo whose ``shared`` entry is true gets one
    curve for all its channels, the mean of theirs.

    ``apply_to`` (only with ``local`` = 0): the curves fitted on ``x`` and ``enhanced`` are applied
    to these photos instead (the same photos at another size: the pipeline fits on a large photo
    shrunk by :func:`working_factor` and applies the curves at full size).

    ``local`` = 1 keeps the model's local change: the curve moves only the low-pass photo (fitted
    and applied on the photo shrunk by :func:`_shrink_blur`; only the correction field is
    enlarged). ``local`` = 0 applies the curve to every pixel instead, as a photo editor's curve
    does: detail gets the curve's contrast, and nothing of the model's local change is kept. In
    between, the two are blended (the photo pipeline uses :data:`PIPELINE_LOCAL`).

    ``gate`` ``(lo, hi)``: scale each photo's curves by the ramp of their strength
    (:func:`curve_strength` on the low-pass photo; module docstring); None keeps them whole.

    Shape:
        (B, C, H, W), (B, C, H, W) -> (B, C, H, W), in [0, 1].
    """
    if x.shape != enhanced.shape or x.dim() != 4:
        raise ValueError(f"expected two (B, C, H, W) images, got {x.shape} and {enhanced.shape}")
    if not 0.0 <= local <= 1.0:
        raise ValueError(f"local must be in [0, 1], got {local!r}")
    gate = check_gate(gate)
    if apply_to is not None and (local != 0.0 or apply_to.shape[:2] != x.shape[:2]):
        raise ValueError("apply_to needs local = 0 and the same photos (B, C) as x")
    sigma = max(1.0, max(x.shape[-2:]) * sigma_frac)
    low_x = _shrink_blur(x.float(), sigma).clamp(0, 1)
    low_d = _shrink_blur((enhanced - x).float(), sigma)
    n, c_n = x.shape[:2]
    curves = [
        [torch.from_numpy(tone_curve(low_x[b, c], low_x[b, c] + low_d[b, c])) for c in range(c_n)]
        for b in range(n)
    ]
    if shared is not None:
        if len(shared) != n:
            raise ValueError(f"shared has {len(shared)} entries for {n} photos")
        curves = [[torch.stack(cs).mean(0)] * c_n if s else cs for s, cs in zip(shared, curves)]
    if gate is not None:  # on the curves that will be applied
        curves = [_gated(cs, curve_strength(low_x[b], cs), gate) for b, cs in enumerate(curves)]

    def mapped(v: Tensor) -> Tensor:
        """Every channel of ``v`` through its curve."""
        out = torch.empty_like(v)
        for b in range(n):
            for c in range(c_n):
                out[b, c] = apply_curve(v[b, c], curves[b][c])
        return out

    y = None
    if local > 0:  # the model's low-frequency change out, the curve's in: enhanced - low_d + tone
        tone = mapped(low_x) - low_x
        y = enhanced.float() - _enlarge(low_d - tone, x.shape[-2:])
    if apply_to is not None:
        return mapped(apply_to.float()).clamp(0, 1).to(apply_to.dtype)
    if local < 1:  # the curve on every pixel
        curved = mapped(x.float())
        y = curved if y is None else torch.lerp(curved, y, local)
    return y.clamp(0, 1).to(x.dtype)


def enhance_tone(
    run: Callable[[Tensor], Tensor],
    x: Tensor,
    local: float = PIPELINE_LOCAL,
    gate: tuple[float, float] | None = PIPELINE_GATE,
    side: int | None = WORKING_SIDE,
    shared: Sequence[bool] | None = None,
) -> Tensor:
    """The photo pipeline's enhance stage: the enhance model ``run`` on photos ``x`` (B, C, H, W)
    in [0, 1], its change made tone curves by :func:`global_enhance` (one curve for all channels
    of the photos marked ``shared``). With ``local`` = 0 and a ``side``, a large photo's curves are
    fitted on it shrunk by :func:`working_factor` and applied at full size."""
    k = working_factor(*x.shape[-2:], side) if side and local == 0 else 1
    if k > 1:
        small = F.interpolate(x, size=(x.shape[-2] // k, x.shape[-1] // k), mode="area")
        enhanced = run(small).clamp(0, 1)
        return global_enhance(small, enhanced, local=0.0, gate=gate, apply_to=x, shared=shared)
    return global_enhance(x, run(x).clamp(0, 1), local=local, gate=gate, shared=shared)


def apply_curve(v: Tensor, curve: Tensor) -> Tensor:
    """``curve`` (knots on an even grid over [0, 1]) at the values ``v``, linearly interpolated
    (``numpy.interp``, on the tensor's device)."""
    c = curve.to(device=v.device, dtype=v.dtype)
    t = v.clamp(0, 1) * (c.numel() - 1)
    i = t.floor().long().clamp(max=c.numel() - 2)
    return torch.lerp(c[i], c[i + 1], t - i)


def _enlarge(field: Tensor, size: torch.Size) -> Tensor:
    """A low-pass field computed small, brought to the photo's ``size`` (bilinear)."""
    if field.shape[-2:] == size:
        return field
    return F.interpolate(field, size=size, mode="bilinear", align_corners=False)
