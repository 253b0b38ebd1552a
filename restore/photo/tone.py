"""A photo's tone: grey, toned (one hue: sepia, selenium, cyanotype) or colour.

Tone is the photo's, not the model's: the restoration models may shift colours (the enhance
model is trained to remove sepia and casts; any model can leave chroma noise), so the photo
pipeline measures the tone of the *input*, runs the models, and then rebuilds the output's colour
from the restored luminance:

- **grey**: R = G = B = the restored luma, exactly.
- **toned**: the restored luma plus the print's tone curve, the mean chroma ``RGB - luma`` of the
  input as a function of luminance (:func:`apply_tone`); or neutral grey when asked.
- **colour**: left as the models made it.

With ``tone="mono"`` the photo is taken for a single-toned print whatever colours it shows: its
tone curve is the *dominant* chroma of each luminance bin (the weighted median of ``RGB - luma``,
channel by channel), so coloured stains, foxing and rust covering less than half of a bin do not
pull it, and the output's colour is rebuilt from that curve: the stains' colour goes, and so do a
hand-tinted print's tints. Their darkening is lifted before that, as far as the channels a stain
spares show it (:mod:`restore.photo.stains`).

How the kind is decided. Everything is measured on the photo shrunk by area averaging so that its
longer side is at most :data:`ANALYSIS_SIDE` pixels, then box-blurred 3 x 3: the colour one sees of
the whole print, where scanner noise, film grain and JPEG chroma noise have averaged out. The
chroma of a pixel is ``max |channel - luma|`` in 8-bit levels (BT.601 luma, as
:func:`restore.data.color.rgb_to_gray`). :data:`GREY_LEVELS` = 3 levels is about one
just-noticeable colour difference: CIELAB dE*ab 2.0-2.7 over dark to light greys and all hues
(2.3 is the usual JND).

1. **grey** when at most :data:`GREY_AREA` (1%) of the pixels have a chroma above 3 levels (dust,
   specks and JPEG ringing may), so R = G = B and scanned "grey" JPEGs are grey.
2. **colour** when more than :data:`COLOUR_AREA` (0.6%) of the pixels are *off the tone's hue*: the
   part of their chroma that is not along the mean hue of their luminance bin exceeds
   :data:`HUE_LEVELS` (6 levels, two JNDs) and :data:`HUE_SHARE` (20%) of their chroma (about 12
   degrees of hue). A toned print's chroma varies in strength (uneven toning, stains, fading)
   but hardly in hue; colour photos and hand-tinted prints (pink cheeks on sepia, a blue bow)
   have hues that luminance does not explain.
3. **grey** again when the tone curve's mean chroma is below :data:`TONE_LEVELS` (1.5 levels,
   half a JND): an invisible tone; **toned** otherwise.

Calibration (``../shared/data``): 14 real toned or yellowed prints of ``real_old`` and 36
synthetic sepia (full and half strength, JPEG q60-80) versions of training photos have at most
0.29% of their pixels off-hue; the 6 hand-tinted or stained colour prints of ``real_old`` 1.4% to
28%; most colour photos 2-70% (a few nearly single-hue colour photos, e.g. a white tiger, count
as toned, and re-applying their curve reproduces them closely). Grey photos with 3-level RGB noise
saved as PNG or JPEG (q75-95) have at most 1.2% chromatic pixels and a tone curve under 0.2
levels. Known limits: a tint smaller than 0.6% of the picture (only the lips) does not make a
colour photo, and coloured stains on a grey print larger than 1% (rust, mould) do.

Example:
    >>> x = torch.rand(1, 1, 32, 32).expand(-1, 3, -1, -1)   # a grey photo
    >>> measure_tone(x)[0].kind
    'grey'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from restore.data.color import rgb_to_gray

ToneKind = Literal["grey", "toned", "colour"]
ToneMode = Literal["keep", "neutral", "mono"]
#: ``tone=`` values: keep a toned print's tone, make it neutral grey, or take any photo for a
#: single-toned print and rebuild its colour from its dominant tone.
TONE_MODES: tuple[str, ...] = ("keep", "neutral", "mono")
#: The analysis runs on the photo shrunk to this longer side (pixels).
ANALYSIS_SIDE = 256
#: Luminance bins of the tone curve.
BINS = 32
#: Luminance levels of the look-up table :func:`apply_tone` builds from a curve.
LUT_SIZE = 4096
#: Chroma (8-bit levels of ``max |channel - luma|``) below which a pixel looks grey (~1 JND).
GREY_LEVELS = 3.0
#: Largest share of chromatic pixels a grey photo may have.
GREY_AREA = 0.01
#: Off-hue chroma (levels) and share of the pixel's own chroma that make a pixel off the tone.
HUE_LEVELS = 6.0
HUE_SHARE = 0.2
#: Share of off-hue pixels above which a photo has colour (is not single-toned).
COLOUR_AREA = 0.006
#: Mean chroma (levels) of the tone curve below which a single-hue photo counts as grey.
TONE_LEVELS = 1.5
#: What a report says when colorize leaves a colour photo alone.
COLOUR_SKIP = "skipped: the photo already has colour (colorize='force' colours it anyway)"


@dataclass(frozen=True)
class Tone:
    """What :func:`measure_tone` found in one photo.

    Attributes:
        kind: ``"grey"``, ``"toned"`` or ``"colour"``.
        curve: (3, BINS) mean ``RGB - luma`` per luminance bin (bin ``k`` covers luma
            ``[k / BINS, (k + 1) / BINS)``), in [0, 1] units; sums to 0 under the luma weights.
        chroma: mean chroma of the tone curve over the photo, 8-bit levels.
        hue: CIELAB hue angle ``h_ab`` (degrees) of the photo's mean chroma; ``None`` when grey.
        chromatic_fraction: share of pixels with a chroma above :data:`GREY_LEVELS`.
        off_hue_fraction: share of pixels off the tone's hue (see the module doc).
    """

    kind: ToneKind
    curve: Tensor
    chroma: float
    hue: float | None
    chromatic_fraction: float
    off_hue_fraction: float

    def summary(self) -> dict[str, Any]:
        """JSON-able numbers for a report."""
        return {
            "kind": self.kind,
            "chroma_levels": round(self.chroma, 3),
            "hue_deg": None if self.hue is None else round(self.hue, 2),
            "chromatic_fraction": round(self.chromatic_fraction, 5),
            "off_hue_fraction": round(self.off_hue_fraction, 5),
        }


def _shrink(x: Tensor, side: int) -> Tensor:
    h, w = x.shape[-2:]
    s = side / max(h, w)
    if s < 1:
        x = F.interpolate(x, size=(max(1, round(h * s)), max(1, round(w * s))), mode="area")
    return F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)


def _fill(curve: Tensor, filled: Tensor) -> Tensor:
    """Bins without pixels (``~filled``) interpolated linearly from their neighbours, held
    constant beyond the first and last filled bins. curve: (3, BINS)."""
    known = torch.nonzero(filled).flatten()
    if len(known) == 0:
        return torch.zeros_like(curve)
    pos = torch.arange(curve.shape[1], device=curve.device)
    after = torch.searchsorted(known, pos)  # first known bin >= pos, in [0, len(known)]
    k0 = known[(after - 1).clamp(0, len(known) - 1)]
    k1 = known[after.clamp(0, len(known) - 1)]  # both the first / last known bin at the ends
    t = ((pos - k0) / (k1 - k0).clamp(min=1)).clamp(0, 1)
    return torch.where(filled, curve, curve[:, k0] * (1 - t) + curve[:, k1] * t)


def _hue(rgb: Tensor, weight: Tensor) -> float | None:
    """CIELAB hue of the weighted mean (a*, b*) of a few colours. rgb: (3, K), weight: (K,)."""
    import kornia

    lab = kornia.color.rgb_to_lab(rgb.clamp(0, 1)[None, :, None])[0, 1:, 0]  # (2, K)
    a, b = (lab * weight).sum(1).tolist()
    if math.hypot(a, b) < 1e-6:
        return None
    return math.degrees(math.atan2(b, a)) % 360.0


def measure_tone(x: Tensor, mask: Tensor | None = None, single: bool = False) -> list[Tone]:
    """Measure each photo's tone: its kind and its chroma as a function of luminance.

    Args:
        x: (B, 3, H, W) photos in [0, 1].
        mask: optional (B, 1, H, W) damage mask, 1 = damaged; damaged pixels (paper-white
            flakes, dark cracks) are left out of the measurement.
        single: take every photo for a single-toned print (``tone="mono"``): never
            ``"colour"``, and the curve is each bin's dominant chroma (its weighted median),
            not its mean.

    Returns:
        One :class:`Tone` per photo (curves on x's device).

    Example:
        >>> sepia = torch.rand(1, 1, 8, 8) * torch.tensor([1.0, 0.85, 0.65]).view(1, 3, 1, 1)
        >>> measure_tone(sepia)[0].kind
        'toned'
    """
    if x.dim() != 4 or x.shape[1] != 3 or not x.is_floating_point():
        raise ValueError(f"expected float (B, 3, H, W) images, got {tuple(x.shape)} {x.dtype}")
    if mask is not None and (mask.dim() != 4 or mask.shape[0] != x.shape[0]):
        raise ValueError(f"expected a (B, 1, H, W) mask, got {tuple(mask.shape)}")
    out = []
    for i in range(x.shape[0]):
        xi = _shrink(x[i : i + 1].float(), ANALYSIS_SIDE)
        w = torch.ones_like(xi[:, :1])
        if mask is not None:  # leave out damaged pixels and those the blur mixed them into
            m = _shrink(mask[i : i + 1, :1].to(xi), ANALYSIS_SIDE) > 0
            w = (~F.max_pool2d(m.float(), 3, stride=1, padding=1).bool()).to(xi)
            if float(w.sum()) < 1.0:  # all damaged: measure everything
                w = torch.ones_like(w)
        out.append(_measure_one(xi, w, single))
    return out


def _luma_bins(lum: Tensor, d: Tensor, w: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each pixel's luminance bin (N,), and per bin the pixels' summed weight (BINS,) and
    weighted ``d`` (3, BINS): the sums a tone curve is the ratio of."""
    idx = (lum * BINS).long().clamp(0, BINS - 1)
    wsum = torch.zeros(BINS, device=lum.device).index_add_(0, idx, w)
    dsum = torch.zeros(3, BINS, device=lum.device).index_add_(1, idx, d * w)
    return idx, wsum, dsum


def _bin_medians(idx: Tensor, d: Tensor, w: Tensor, filled: Tensor) -> Tensor:
    """(3, BINS): per luminance bin and channel, the weighted median of ``d`` (3, N) over the
    pixels of that bin (``idx``, weights ``w``); 0 for bins not ``filled``."""
    out = torch.zeros(3, BINS, device=d.device)
    for k in torch.nonzero(filled).flatten().tolist():
        sel = idx == k
        v, wk = d[:, sel], w[sel]
        order = v.argsort(dim=1)
        cum = wk[order].cumsum(1)
        first = (cum >= cum[:, -1:] / 2).float().argmax(1)  # first reaching half the weight
        out[:, k] = v.gather(1, order).gather(1, first[:, None])[:, 0]
    return out


def _measure_one(x: Tensor, w: Tensor, single: bool = False) -> Tone:
    lum = rgb_to_gray(x).flatten()  # (N,)
    d = (x.flatten(2)[0] - lum) * 255.0  # (3, N) levels off grey
    w = w.flatten() / w.sum()
    chroma_px = d.abs().amax(0)
    chromatic = chroma_px > GREY_LEVELS
    chromatic_fraction = float((w * chromatic).sum())
    idx, wsum, dsum = _luma_bins(lum, d, w)
    filled = wsum > 1e-3
    middle = _bin_medians(idx, d, w, filled) if single else dsum / wsum.clamp(min=1e-12)
    curve = _fill(middle, filled)
    kernel = torch.tensor([[[0.25, 0.5, 0.25]]], device=x.device)  # smooth along luminance
    curve = F.conv1d(F.pad(curve[:, None], (1, 1), mode="replicate"), kernel)[:, 0]
    chroma = float((curve.abs().amax(0)[idx] * w).sum())
    # the hue of each luminance bin: the mean direction of its chromatic pixels
    along = torch.zeros(3, BINS, device=x.device).index_add_(1, idx, d * (w * chromatic))
    u = (along / along.norm(dim=0).clamp(min=1e-12))[:, idx]
    par = (d * u).sum(0).clamp(min=0)  # chroma along the bin's hue (opposite hue: none)
    off = (d - par * u).abs().amax(0)
    off_hue = (off > HUE_LEVELS) & (off > HUE_SHARE * chroma_px)
    off_hue_fraction = float((w * off_hue).sum())
    if chromatic_fraction <= GREY_AREA:
        kind: ToneKind = "grey"
    elif off_hue_fraction > COLOUR_AREA and not single:
        kind = "colour"
    else:
        kind = "toned" if chroma >= TONE_LEVELS else "grey"
    hue = None
    if kind != "grey":  # CIELAB hue of the chromatic pixels, from their mean colour per bin
        wc = torch.zeros(BINS, device=x.device).index_add_(0, idx, w * chromatic)
        rgb = torch.zeros(3, BINS, device=x.device).index_add_(
            1, idx, x.flatten(2)[0] * (w * chromatic)
        )
        hue = _hue(rgb / wc.clamp(min=1e-12), wc)
    return Tone(kind, curve / 255.0, chroma, hue, chromatic_fraction, off_hue_fraction)


def colour_spread(x: Tensor) -> Tensor:
    """How far the colours of photos ``x`` (B, 3, H, W) in [0, 1] stray from their tone: the
    mean over pixels of ``max |d - t(luma)|``, ``d`` a pixel's ``RGB - luma`` (BT.601) and
    ``t`` the mean ``d`` of the pixels of its luminance (:data:`BINS` bins: the tone curve of
    :func:`measure_tone`), in 8-bit levels, measured as the tone is (the photo shrunk to
    :data:`ANALYSIS_SIDE`, blurred 3 x 3). A grey photo and a print toned evenly (sepia,
    selenium, a cast) score about 0, most faded, stained and hand-tinted prints a few levels,
    most colour photos more (docs/BENCHMARKS.md, "Looking at a print in grey too"). Returns (B,).

    Example:
        >>> grey = torch.rand(1, 1, 16, 16).expand(-1, 3, -1, -1)
        >>> float(colour_spread(grey * torch.tensor([1.0, 0.9, 0.7]).view(1, 3, 1, 1))[0]) < 0.5
        True
    """
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected photos (B, 3, H, W), got {tuple(x.shape)}")
    out = []
    for s in _shrink(x.float(), ANALYSIS_SIDE):
        lum = rgb_to_gray(s[None])[0, 0].flatten()
        d = (s.flatten(1) - lum) * 255.0  # (3, N)
        idx, n, dsum = _luma_bins(lum, d, torch.ones_like(lum))
        t = dsum / n.clamp(min=1)
        out.append((d - t[:, idx]).abs().amax(0).mean())
    return torch.stack(out)


def apply_tone(y: Tensor, curve: Tensor) -> Tensor:
    """The luma of ``y`` with the chroma of a tone curve: ``luma + s * curve(luma)``.

    The curve is interpolated linearly between bin centres (constant beyond the first and last),
    and ``s`` in [0, 1] scales the chroma down just enough, per pixel, to stay inside [0, 1]
    (hue and luma are kept). A zero curve gives R = G = B = luma exactly.

    Args:
        y: (B, 3, H, W) images in [0, 1].
        curve: (B, 3, BINS) or (3, BINS) tone curves (:attr:`Tone.curve`).

    Returns:
        (B, 3, H, W) in [0, 1], with the luma of ``y``.

    Example:
        >>> grey = apply_tone(torch.rand(1, 3, 4, 4), torch.zeros(3, BINS))
        >>> bool((grey[:, 0] == grey[:, 1]).all() and (grey[:, 1] == grey[:, 2]).all())
        True
    """
    if y.dim() != 4 or y.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) images, got {tuple(y.shape)}")
    curve = curve.to(y)
    if curve.dim() == 2:
        curve = curve[None].expand(y.shape[0], -1, -1)
    if curve.shape[:2] != (y.shape[0], 3):
        raise ValueError(f"expected (B, 3, bins) curves, got {tuple(curve.shape)}")
    lum = rgb_to_gray(y).clamp(0, 1)  # (B, 1, H, W)
    if not bool(curve.any()):
        return lum.expand(-1, 3, -1, -1).contiguous()
    # the chroma for LUT_SIZE luminance levels, then one look-up per pixel (nearest level:
    # within 1/4096 of the luminance, far below one 8-bit level of chroma)
    grid = torch.linspace(0, 1, LUT_SIZE, device=y.device, dtype=y.dtype).expand(y.shape[0], 1, -1)
    lut = _chroma(grid, curve)  # (B, 3, LUT_SIZE)
    idx = (lum.flatten(1) * (LUT_SIZE - 1)).round_().long()[:, None].expand(-1, 3, -1)
    return (lum + lut.gather(2, idx).view_as(y)).clamp_(0, 1)


def _chroma(lum: Tensor, curve: Tensor) -> Tensor:
    """``s * curve(lum)``: the curve interpolated between bin centres (constant beyond the ends),
    scaled down per value just enough that ``lum + chroma`` stays in [0, 1].
    lum: (B, 1, N), curve: (B, 3, BINS) -> (B, 3, N)."""
    bins = curve.shape[2]
    pos = lum * bins - 0.5  # in bin-centre units
    k0 = pos.floor()
    t = pos - k0
    i0 = k0.long().clamp(0, bins - 1).expand(-1, 3, -1)
    i1 = (k0.long() + 1).clamp(0, bins - 1).expand(-1, 3, -1)
    mu = curve.gather(2, i0) * (1 - t) + curve.gather(2, i1) * t
    inf = torch.full_like(mu, float("inf"))
    room = torch.where(mu > 0, (1 - lum) / mu.clamp(min=1e-12), inf)
    room = torch.where(mu < 0, lum / (-mu).clamp(min=1e-12), room)
    return room.amin(1, keepdim=True).clamp(max=1.0) * mu


def plan_tones(
    tones: Sequence[Tone], colorized: Sequence[bool], mode: ToneMode, colorize_on: bool
) -> tuple[list[dict[str, Any]], list[Tensor], list[int]]:
    """What the photo pipeline's last step does to each photo, given its tone.

    Args:
        tones: the input photos' tones (:func:`measure_tone`).
        colorized: per photo, whether the colorize stage coloured it.
        mode: ``"keep"`` or ``"neutral"`` (for toned prints), or ``"mono"`` (``tones`` measured
            with ``single``: toned prints keep their dominant tone).
        colorize_on: whether a colorize stage was asked for (and available).

    Returns:
        (one report entry per photo: the measured tone, ``action`` and ``colorize``; the tone
        curve :func:`apply_tone` gives each photo of ``pick``, zero for grey; ``pick``: the
        photos whose colour is rebuilt from their luminance). Colorized and colour photos are
        left as the models made them.
    """
    entries, curves, pick = [], [], []
    for i, t in enumerate(tones):
        entry = t.summary()
        if not colorize_on:
            entry["colorize"] = "off"
        elif colorized[i]:
            entry["colorize"] = "forced" if t.kind == "colour" else "ran"
        else:
            entry["colorize"] = COLOUR_SKIP
        if colorized[i]:
            entry["action"] = "colorized"
        elif t.kind == "colour":
            entry["action"] = "left as the models made it (a colour photo)"
        else:
            keep = t.kind == "toned" and mode in ("keep", "mono")
            if keep and mode == "mono":
                entry["action"] = "colour rebuilt from its dominant tone (tone='mono')"
            elif keep:
                entry["action"] = "tone kept"
            elif t.kind == "grey":
                entry["action"] = "made grey (R = G = B)"
            else:
                entry["action"] = "made neutral grey (tone='neutral')"
            pick.append(i)
            curves.append(t.curve if keep else torch.zeros_like(t.curve))
        entries.append(entry)
    return entries, curves, pick


__all__ = [
    "BINS",
    "COLOUR_SKIP",
    "TONE_MODES",
    "Tone",
    "ToneKind",
    "ToneMode",
    "apply_tone",
    "colour_spread",
    "measure_tone",
    "plan_tones",
]
