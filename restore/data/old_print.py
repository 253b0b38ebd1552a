"""Synthetic damage that looks like real scanned old prints, with the true hole mask.

:func:`old_print_damage` turns clean photos into ``(damaged, hole_mask, target)`` triples:

1. :func:`print_base` draws the print the photo would have been (mostly B&W or sepia, some
   cyanotype, colour or hand-tinted). That toned print is the restoration target: tone is the
   photo's, so a sepia target stays sepia and a B&W one has R = G = B.
2. Film grain and ageing that changes tone (:mod:`restore.data.old_print_tone`: fading,
   yellowing, uneven exposure, vignetting, silvering).
3. Damage that destroys pixels (:mod:`restore.data.old_print_holes`: emulsion flaking, crack
   networks, fold creases; :mod:`restore.data.old_print_marks`: scratches, crumple creases and
   crazing, mould), each adding its footprint to the hole mask.
4. Foxing and water stains, paper texture, torn corners and worn edges (in the mask), dust,
   hairs and lint (in the mask).
5. The copy and the scan: halftone, blur, a low-resolution scan, JPEG.

Each step has its own per-image probability and ranges in :class:`OldPrintConfig`;
``intact_prob`` leaves some images without any hole (only tone damage), so that a detector also
sees prints with nothing to mask. The single damage functions are re-exported here.

Conventions: images float (B, 3, H, W) in [0, 1]; masks (B, 1, H, W) in {0, 1}, 1 = destroyed,
in the images' dtype; all on the images' device. Randomness: see
:mod:`restore.data.old_print_fields` (a CPU generator keeps host reads free; per-pixel noise is
drawn on the images' device from a generator seeded by it).

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> damaged, mask, target = old_print_damage(torch.rand(2, 3, 64, 64), g)
    >>> damaged.shape, mask.shape, target.shape
    (torch.Size([2, 3, 64, 64]), torch.Size([2, 1, 64, 64]), torch.Size([2, 3, 64, 64]))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace

import kornia
import torch

from restore.data.degrade import add_gaussian_noise, gaussian_blur, jpeg, to_gray
from restore.data.old_print_fields import (
    MASK_AT,
    at_least_float32,
    check_images,
    check_range,
    fbm,
    pixel_generator,
    uniform,
)
from restore.data.old_print_holes import (
    crack_network,
    emulsion_flaking,
    fold_creases,
    torn_edges,
)
from restore.data.old_print_marks import crazing, dust_and_hair, mould_spots, scratches
from restore.data.old_print_tone import (
    fade,
    foxing,
    halftone,
    low_resolution,
    paper_texture,
    silvering,
    uneven_exposure,
    vignette,
    water_stains,
    yellowing,
)

__all__ = [
    "HOLE_EFFECTS",
    "print_hole_masks",
    "MASK_AT",
    "OLD_PRINT_EFFECTS",
    "PRINT_KINDS",
    "OldPrintConfig",
    "crack_network",
    "crazing",
    "dust_and_hair",
    "emulsion_flaking",
    "fade",
    "fold_creases",
    "foxing",
    "halftone",
    "low_resolution",
    "mould_spots",
    "old_print_damage",
    "paper_texture",
    "print_base",
    "scratches",
    "silvering",
    "torn_edges",
    "uneven_exposure",
    "vignette",
    "water_stains",
    "yellowing",
]

PRINT_KINDS = ("bw", "sepia", "cyanotype", "colour", "tinted")
# per-channel gamma of toned prints at full strength: y ** gamma (warm brown / Prussian blue)
_TONE_GAMMA = {"sepia": (0.78, 0.95, 1.3), "cyanotype": (1.6, 1.15, 0.7)}
HOLE_EFFECTS = ("flaking", "crack", "fold", "scratch", "crazing", "mould", "tear", "dust")
OLD_PRINT_EFFECTS = (
    "grain",
    "fade",
    "yellowing",
    "exposure",
    "vignette",
    "silvering",
    *HOLE_EFFECTS[:6],
    "foxing",
    "stain",
    "texture",
    *HOLE_EFFECTS[6:],
    "halftone",
    "blur",
    "lowres",
    "jpeg",
)  # in the order they are applied


# ------------------------------------------------------------------------ base print


@at_least_float32
def print_base(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    probs: tuple[float, ...] = (0.45, 0.3, 0.03, 0.12, 0.1),
    strength: tuple[float, float] = (0.5, 1.0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """The print a clean photo would have been: B&W, sepia, cyanotype, colour or hand-tinted.

    ``bw`` is the BT.601 luma on all three channels (R = G = B exactly); ``sepia`` and
    ``cyanotype`` map the luma through per-channel gamma curves, blended with the grey by a
    per-image ``strength``; ``colour`` is the photo itself; ``tinted`` is a B&W or light sepia
    print with soft washes of the photo's own chroma (blurred, boosted, in patches), as
    hand-colouring looks.

    Args:
        img: clean photos in [0, 1].
        g: source of all randomness.
        probs: weights of ``PRINT_KINDS`` (bw, sepia, cyanotype, colour, tinted).
        strength: range of the toning strength.

    Returns:
        ``(base, kind)``: toned images in [0, 1], (B, 3, H, W), and (B,) int64 indices into
        ``PRINT_KINDS`` on the images' device.
    """
    check_images(img)
    if len(probs) != len(PRINT_KINDS) or min(probs) < 0 or sum(probs) <= 0:
        raise ValueError(
            f"probs must be {len(PRINT_KINDS)} weights >= 0 with a positive sum, got {probs!r}"
        )
    check_range("strength", strength, 0.0, 1.0)
    x = img.clamp(0, 1)
    n, _, h, w = x.shape
    weights = torch.tensor(probs, dtype=torch.float32, device=g.device)
    kind_g = torch.multinomial(weights, n, replacement=True, generator=g)
    kind = kind_g.to(x.device).view(n, 1, 1, 1)
    s = uniform(g, n, *strength, x).view(n, 1, 1, 1)
    jitter = uniform(g, (n, 3), -0.06, 0.06, x).view(n, 3, 1, 1)
    y = to_gray(x)
    grey = y.expand(n, 3, h, w)

    def toned(name: str, k: torch.Tensor) -> torch.Tensor:
        gamma = torch.tensor(_TONE_GAMMA[name], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return grey + (y.clamp_min(1e-6) ** (gamma + jitter) - grey) * k

    sepia = toned("sepia", s)
    out = torch.where(kind == 0, grey, torch.where(kind == 1, sepia, x))
    out = torch.where(kind == 2, toned("cyanotype", s), out)
    if bool((kind_g == 4).any()):
        gd = pixel_generator(g, x)
        mono = torch.where(
            uniform(g, n, 0, 1, x).view(n, 1, 1, 1) < 0.5, grey, toned("sepia", s * 0.5)
        )
        lab, mono_lab = kornia.color.rgb_to_lab(x), kornia.color.rgb_to_lab(mono.clamp(0, 1))
        sigma = max(1.0, 0.015 * min(h, w))
        k = 2 * math.ceil(2.5 * sigma) + 1
        ab = kornia.filters.gaussian_blur2d(lab[:, 1:], (k, k), (sigma, sigma))
        region = fbm(gd, n, h, w, (min(h, w) / 3, min(h, w) / 6), torch.ones(n, 2).to(x), x)
        region = torch.sigmoid(3 * (region + uniform(g, n, 0.0, 1.5, x).view(n, 1, 1, 1)))
        gain = uniform(g, n, 1.0, 1.8, x).view(n, 1, 1, 1)
        tint = torch.cat([mono_lab[:, :1], mono_lab[:, 1:] + ab * gain * region], 1)
        out = torch.where(kind == 4, kornia.color.lab_to_rgb(tint), out)
    return out.clamp(0, 1), kind.view(n)


# ---------------------------------------------------------------------------- composite


@dataclass(frozen=True)
class OldPrintConfig:
    """Per-image probabilities and ranges of the old-print effects (in application order).

    ``<effect>_prob`` switches an effect (names in ``OLD_PRINT_EFFECTS``); :meth:`only` keeps
    some. Widths are in pixels, areas are fractions of the image, sizes fractions of
    ``min(H, W)``; ``*_count`` ranges are ints. Each range is passed to the function of the same
    name in :mod:`restore.data.old_print_holes` or :mod:`restore.data.old_print_tone`.
    """

    kind_probs: tuple[float, ...] = (0.45, 0.3, 0.03, 0.12, 0.1)  # weights of PRINT_KINDS
    tone_strength: tuple[float, float] = (0.5, 1.0)
    intact_prob: float = 0.1  # no hole at all in this share of the images
    paper_yellow: tuple[float, float] = (0.02, 0.2)  # cream of the bare paper in holes

    grain_prob: float = 0.7
    grain_sigma: tuple[float, float] = (0.01, 0.05)
    fade_prob: float = 0.7
    fade_amount: tuple[float, float] = (0.05, 0.45)
    yellowing_prob: float = 0.5
    yellowing_strength: tuple[float, float] = (0.05, 0.35)
    exposure_prob: float = 0.4
    exposure_strength: tuple[float, float] = (0.05, 0.25)
    vignette_prob: float = 0.35
    vignette_strength: tuple[float, float] = (0.1, 0.5)
    silvering_prob: float = 0.12
    silvering_strength: tuple[float, float] = (0.15, 0.6)

    flaking_prob: float = 0.4
    flaking_area: tuple[float, float] = (0.0005, 0.06)
    # large compact flakes (a cheek, an eye) instead of scattered ones, as on real prints; off by
    # default: a detector leg trained with 0.3 still gave real_old/bzz12366/15's flakes
    # probability 0 and lost 0.2 dB on the independent damage (docs/BENCHMARKS.md). The damage
    # recipe sets 0.4, with flaking_prob 0.6 and every large flake torn (the shipped leg 15)
    flaking_large_prob: float = 0.0
    flaking_large_area: tuple[float, float] = (0.03, 0.15)
    # share of those whose large flakes are torn along the emulsion's cracks, angular, on bumpy
    # paper (emulsion_flaking's torn_prob); 0 keeps the random stream of earlier legs
    flaking_torn_prob: float = 0.0
    crack_prob: float = 0.35
    crack_cell: tuple[float, float] = (0.05, 0.18)
    crack_width: tuple[float, float] = (0.7, 2.5)
    # how much of the picture a crack's / scratch's core replaces (crack_network's and scratches'
    # strength): the detector trained on these finds a 2 px scratch a third replaced almost
    # never (scripts/bench/crack_width.py --strengths), as a thin scratch on a small scan is
    crack_strength: tuple[float, float] = (0.75, 1.0)
    crack_coverage: tuple[float, float] = (0.3, 0.9)
    fold_prob: float = 0.3
    fold_count: tuple[int, int] = (1, 2)
    fold_width: tuple[float, float] = (1.0, 4.0)
    scratch_prob: float = 0.5
    scratch_count: tuple[int, int] = (1, 6)
    scratch_width: tuple[float, float] = (0.7, 3.0)
    scratch_strength: tuple[float, float] = (0.7, 1.0)
    # crumple creases and crazing: jagged branching cracks (real_old/bzz12366/22, /30), which
    # neither the cells of crack_network nor the smooth arcs of scratches look like
    crazing_prob: float = 0.45
    crazing_width: tuple[float, float] = (0.8, 3.0)
    crazing_strength: tuple[float, float] = (0.75, 1.0)
    mould_prob: float = 0.12
    mould_density: tuple[float, float] = (0.15, 0.5)

    foxing_prob: float = 0.3
    foxing_area: tuple[float, float] = (0.002, 0.03)
    stain_prob: float = 0.35
    stain_area: tuple[float, float] = (0.03, 0.35)
    texture_prob: float = 0.5
    texture_strength: tuple[float, float] = (0.02, 0.08)
    tear_prob: float = 0.3
    tear_corners: tuple[int, int] = (1, 2)
    tear_wear: tuple[float, float] = (0.0, 0.02)
    tear_rim_prob: float = 0.6  # torn (a rim of paper fibres) rather than broken or cut off
    dust_prob: float = 0.6
    dust_area: tuple[float, float] = (0.0003, 0.004)

    halftone_prob: float = 0.05
    halftone_period: tuple[float, float] = (2.5, 5.0)
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.3, 1.2)
    lowres_prob: float = 0.2
    lowres_factor: tuple[float, float] = (1.5, 3.0)
    jpeg_prob: float = 0.5
    jpeg_range: tuple[float, float] = (40.0, 90.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.endswith("_prob"):
                if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                    raise ValueError(f"{f.name} must be in [0, 1], got {v!r}")
            elif f.name == "kind_probs":
                if len(v) != len(PRINT_KINDS) or min(v) < 0 or sum(v) <= 0:
                    raise ValueError(
                        f"kind_probs must be {len(PRINT_KINDS)} weights >= 0, got {v!r}"
                    )
            elif f.name.endswith(("_count", "_corners")):
                if not (len(v) == 2 and all(isinstance(c, int) for c in v) and 0 <= v[0] <= v[1]):
                    raise ValueError(
                        f"{f.name} must be (lo, hi) ints with 0 <= lo <= hi, got {v!r}"
                    )
            else:
                check_range(f.name, v)
        check_range("jpeg_range", self.jpeg_range, 1.0, 100.0)
        check_range("tone_strength", self.tone_strength, 0.0, 1.0)
        for k in ("crazing_strength", "crack_strength", "scratch_strength"):
            check_range(k, getattr(self, k), MASK_AT, 1.0)
        if self.tear_corners[1] > 4:
            raise ValueError(f"tear_corners allows at most 4 corners, got {self.tear_corners!r}")

    @classmethod
    def only(cls, *effects: str) -> OldPrintConfig:
        """A config applying exactly ``effects`` (from ``OLD_PRINT_EFFECTS``) to every image."""
        bad = [e for e in effects if e not in OLD_PRINT_EFFECTS]
        if bad:
            raise ValueError(f"unknown effects {bad}; known: {OLD_PRINT_EFFECTS}")
        probs = {f"{e}_prob": float(e in effects) for e in OLD_PRINT_EFFECTS}
        return replace(cls(), intact_prob=0.0, **probs)


@at_least_float32
def old_print_damage(
    img: torch.Tensor, g: torch.Generator, cfg: OldPrintConfig | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Turn clean photos into damaged scans of old prints, with the hole mask and the target.

    The steps and their order are listed in the module docstring; each effect is applied to an
    image with its ``cfg.<effect>_prob``. Damage that destroys pixels adds its footprint to the
    mask; tone damage, grain, blur and the scan do not (the enhance stage removes them).

    Args:
        img: clean photos in [0, 1].
        g: source of all randomness (a CPU generator avoids host syncs; see
            :mod:`restore.data.old_print_fields`).
        cfg: probabilities and ranges; default :class:`OldPrintConfig`.

    Returns:
        ``(damaged, hole_mask, target)``: damaged images in [0, 1]; the hole mask, 1 where a
        defect destroyed the pixel, in {0, 1}; and the clean toned print (:func:`print_base`),
        the restoration target.

    Shape:
        (B, 3, H, W) -> ((B, 3, H, W), (B, 1, H, W), (B, 3, H, W)), in the input's dtype and
        on its device.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> cfg = OldPrintConfig.only("crack", "fade")
        >>> damaged, mask, target = old_print_damage(torch.rand(1, 3, 64, 64), g, cfg)
        >>> bool(mask.amax() == 1)
        True
    """
    check_images(img)
    c = cfg or OldPrintConfig()
    n, _, h, w = img.shape
    target, _ = print_base(img, g, probs=c.kind_probs, strength=c.tone_strength)
    x = target
    mask = torch.zeros(n, 1, h, w, device=img.device, dtype=img.dtype)
    intact = torch.rand(n, generator=g, device=g.device) < c.intact_prob

    def pick(p: float, hole: bool = False) -> torch.Tensor | None:
        """Indices of the images that get the effect (a host read: free with a CPU generator)."""
        on = torch.rand(n, generator=g, device=g.device) < p
        idx = (on & ~intact if hole else on).nonzero().view(-1)
        return idx.to(img.device) if p > 0 and idx.numel() else None

    def tone(p: float, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        nonlocal x
        if (idx := pick(p)) is not None:  # only the chosen images are computed
            x = x.index_copy(0, idx, fn(x[idx]))

    def hole(p: float, fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]) -> None:
        nonlocal x, mask
        if (idx := pick(p, hole=True)) is not None:
            y, m = fn(x[idx])
            x = x.index_copy(0, idx, y)
            mask = mask.index_copy(0, idx, torch.maximum(mask[idx], m))

    gd, yl = pixel_generator(g, img), c.paper_yellow

    def sig(r: tuple[float, float], x: torch.Tensor) -> torch.Tensor:
        return uniform(g, x.shape[0], *r, x)

    tone(
        c.grain_prob,
        lambda x: add_gaussian_noise(x, sig(c.grain_sigma, x), generator=gd, gray=True),
    )
    tone(c.fade_prob, lambda x: fade(x, g, amount=c.fade_amount))
    tone(c.yellowing_prob, lambda x: yellowing(x, g, strength=c.yellowing_strength))
    tone(c.exposure_prob, lambda x: uneven_exposure(x, g, strength=c.exposure_strength))
    tone(c.vignette_prob, lambda x: vignette(x, g, strength=c.vignette_strength))
    tone(c.silvering_prob, lambda x: silvering(x, g, strength=c.silvering_strength))
    hole(
        c.flaking_prob,
        lambda x: emulsion_flaking(
            x,
            g,
            area=c.flaking_area,
            paper_yellow=yl,
            large_prob=c.flaking_large_prob,
            large_area=c.flaking_large_area,
            torn_prob=c.flaking_torn_prob,
        ),
    )
    hole(
        c.crack_prob,
        lambda x: crack_network(
            x,
            g,
            cell=c.crack_cell,
            width=c.crack_width,
            coverage=c.crack_coverage,
            paper_yellow=yl,
            strength=c.crack_strength,
        ),
    )
    hole(
        c.fold_prob,
        lambda x: fold_creases(x, g, count=c.fold_count, width=c.fold_width, paper_yellow=yl),
    )
    hole(
        c.scratch_prob,
        lambda x: scratches(
            x,
            g,
            count=c.scratch_count,
            width=c.scratch_width,
            paper_yellow=yl,
            strength=c.scratch_strength,
        ),
    )
    hole(
        c.crazing_prob,
        lambda x: crazing(
            x, g, width=c.crazing_width, strength=c.crazing_strength, paper_yellow=yl
        ),
    )
    hole(c.mould_prob, lambda x: mould_spots(x, g, density=c.mould_density))
    tone(c.foxing_prob, lambda x: foxing(x, g, area=c.foxing_area))
    tone(c.stain_prob, lambda x: water_stains(x, g, area=c.stain_area))
    tone(c.texture_prob, lambda x: paper_texture(x, g, strength=c.texture_strength))
    hole(
        c.tear_prob,
        lambda x: torn_edges(
            x,
            g,
            corners=c.tear_corners,
            wear=c.tear_wear,
            paper_yellow=yl,
            rim_prob=c.tear_rim_prob,
        ),
    )
    hole(c.dust_prob, lambda x: dust_and_hair(x, g, area=c.dust_area))
    tone(c.halftone_prob, lambda x: halftone(x, g, period=c.halftone_period))
    tone(c.blur_prob, lambda x: gaussian_blur(x, sig(c.blur_sigma, x).clamp_min(1e-3)))
    tone(c.lowres_prob, lambda x: low_resolution(x, g, factor=c.lowres_factor))
    tone(c.jpeg_prob, lambda x: jpeg(x, sig(c.jpeg_range, x)))
    return x.clamp(0, 1), mask, target


def print_hole_masks(img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The hole masks that :func:`old_print_damage` would cut into ``img`` (cracks, flaking, folds,
    scratches, crazing, mould, tears, dust; no intact images): real-print hole shapes for inpainting.

    Shape:
        (B, 3, H, W) -> (B, 1, H, W), in {0, 1}.
    """
    _, mask, _ = old_print_damage(img, g, OldPrintConfig.only(*HOLE_EFFECTS))
    return mask
