"""Old-print damage that destroys pixels in small marks: scratches, dust and hairs, mould.

:func:`scratches`, :func:`dust_and_hair` and :func:`mould_spots` each return
``(damaged, mask)`` like the area damage of :mod:`restore.data.old_print_holes`: the mask is
where the mark replaced at least ``MASK_AT`` of a pixel, so a wider mark has a wider mask.

Conventions: images float (B, 3, H, W) in [0, 1], outputs clamped to [0, 1], masks (B, 1, H, W)
in {0, 1} in the images' dtype; everything runs on the images' device. Sizes given as fractions
are fractions of ``min(H, W)`` (scratch lengths: of ``max(H, W)``).

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> out, mask = scratches(torch.rand(2, 3, 64, 64), g, count=(2, 2))
    >>> out.shape, mask.shape
    (torch.Size([2, 3, 64, 64]), torch.Size([2, 1, 64, 64]))
"""

from __future__ import annotations

import math

import kornia
import torch

from restore.data.old_print_fields import (
    arc_distance,
    at_least_float32,
    check_counts,
    check_images,
    check_prob,
    check_range,
    coords,
    cover,
    draw_counts,
    fbm,
    fill_colour,
    paint,
    per_image,
    pixel_generator,
    quantile_threshold,
    smooth_noise,
    uniform,
)

__all__ = ["dust_and_hair", "mould_spots", "scratches"]


@at_least_float32
def scratches(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    count: tuple[int, int] = (1, 6),
    width: tuple[float, float] = (0.7, 3.0),
    length: tuple[float, float] = (0.15, 1.0),
    curved_prob: float = 0.35,
    light_prob: float = 0.8,
    paper_yellow: tuple[float, float] = (0.02, 0.2),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Straight and curved scratches: thin arcs with tapered ends, varying width and gaps.

    Half of them run near vertical (as in film-gate and print-feed scratches), the rest in any
    direction; a ``curved_prob`` share bend with a radius of 0.25-1.5 times their length, the rest
    are straight. Per image they are bare paper (light) or dirt (dark).

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        count: range of scratches per image (ints).
        width: range of the widest width of a scratch, in pixels.
        length: range of the length, as a fraction of ``max(H, W)``.
        curved_prob: share of curved scratches.
        light_prob: probability that an image's scratches are light.
        paper_yellow: range of the cream tint of the paper.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_counts("count", count)
    check_range("width", width, 0.0)
    check_range("length", length, 0.0, 4.0)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    check_prob("curved_prob", curved_prob)
    check_prob("light_prob", light_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    k, kmax = draw_counts(g, n, count, x)
    alpha = _arcs(x, g, k, kmax, width, length, (curved_prob, 0.25, 1.5), max(h, w), gaps=True)
    alpha = alpha * uniform(g, n, 0.7, 1.0, x).view(n, 1, 1, 1)
    return paint(x, alpha, fill_colour(g, n, x, light_prob, paper_yellow))


def _arcs(
    x: torch.Tensor,
    g: torch.Generator,
    k: torch.Tensor,
    kmax: int,
    width: tuple[float, float],
    length: tuple[float, float],
    bend: tuple[float, float, float],
    unit: float,
    gaps: bool,
    centre: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Coverage of up to ``kmax`` arcs per image (arc i drawn where ``k > i``). (n, 1, h, w).

    ``bend`` is (probability of a curved arc, radius range in lengths); straight arcs get a
    radius of 30-100 lengths. ``centre`` places the arcs' midpoints near a point (lint).
    """
    n, _, h, w = x.shape
    ys, xs = coords(h, w, x)
    out = torch.zeros(n, 1, h, w, device=x.device, dtype=x.dtype)
    u = per_image(g, n, x)
    wobble = smooth_noise(pixel_generator(g, x), n, h, w, 24.0, x) * u(0, 1.2)
    for i in range(kmax):
        if centre is None:
            mid = (u(0, h), u(0, w))
        else:
            mid = (centre[0] + u(-8, 8), centre[1] + u(-8, 8))
        vertical = u(0, 1) < 0.5
        angle = torch.where(vertical, math.pi / 2 + u(-0.25, 0.25), u(0, 2 * math.pi))
        ln = u(*length) * unit + 2
        curved = u(0, 1) < bend[0]
        radius = ln * torch.where(curved, u(bend[1], bend[2]), u(30, 100))
        radius = radius * torch.where(u(0, 1) < 0.5, 1.0, -1.0).to(x)
        signed, t, inside = arc_distance(ys, xs, mid, angle, ln, radius)
        taper = (torch.minimum(t, 1 - t) * u(4, 15)).clamp(0, 1)
        wave = 1 + 0.35 * torch.sin(2 * math.pi * u(0.5, 4) * t + u(0, 2 * math.pi))
        half = u(*width) / 2 * taper * wave * inside * (k > i)
        if gaps:
            half = half * (torch.sin(2 * math.pi * u(1, 6) * t + u(0, 6.3)) > u(-1.5, 0.2))
        out = torch.maximum(out, cover(half, signed + wobble))
    return out


@at_least_float32
def dust_and_hair(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    area: tuple[float, float] = (0.0003, 0.004),
    size: tuple[float, float] = (0.5, 1.8),
    hairs: tuple[int, int] = (0, 3),
    lint_prob: float = 0.2,
    light_prob: float = 0.4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dust specks, hairs and lint on the print or the scanner glass.

    Specks are the peaks of blurred white noise above the quantile that leaves ``area`` (a tenth
    of them from noise blurred 2.5 times wider: a few bigger motes). Hairs are thin curly arcs;
    with ``lint_prob`` they bunch up into a clump of fibres. Per image dark or light.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        area: range of the fraction of the image under specks.
        size: range of the speck blur sigma in pixels (about the speck radius).
        hairs: range of hairs per image (ints).
        lint_prob: probability that an image's hairs form one clump.
        light_prob: probability that an image's dust is light.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_range("area", area, 0.0, 0.5)
    check_range("size", size, 0.3, 20.0)
    check_counts("hairs", hairs)
    check_prob("lint_prob", lint_prob)
    check_prob("light_prob", light_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd = pixel_generator(g, x)
    frac = uniform(g, n, *area, x)
    alpha = torch.zeros(n, 1, h, w, device=x.device, dtype=x.dtype)
    sig = uniform(g, n, *size, x)
    for share, grow in ((0.9, 1.0), (0.1, 2.5)):
        sg = (sig * grow).view(n, 1).expand(n, 2)
        ks = 2 * math.ceil(3 * size[1] * grow) + 1
        noise = smooth_noise(gd, n, h, w, 1.0, x)
        field = kornia.filters.gaussian_blur2d(noise, (ks, ks), sg)
        field = field / field.std((2, 3), keepdim=True).clamp_min(1e-6)
        speck = (field - quantile_threshold(field, frac * share)).mul(3).add(0.5).clamp(0, 1)
        alpha = torch.maximum(alpha, speck * (frac * share > 0).view(n, 1, 1, 1))
    k, kmax = draw_counts(g, n, hairs, x)
    lint = uniform(g, n, 0, 1, x).view(n, 1, 1, 1) < lint_prob
    spot = (uniform(g, n, 0, h, x).view(n, 1, 1, 1), uniform(g, n, 0, w, x).view(n, 1, 1, 1))
    s = min(h, w)
    loose = _arcs(x, g, k * ~lint, kmax, (0.6, 1.3), (0.03, 0.15), (0.8, 0.15, 1.0), s, False)
    clump = _arcs(
        x, g, k * lint * 2, 2 * kmax, (0.6, 1.0), (0.02, 0.06), (1.0, 0.1, 0.5), s, False, spot
    )
    alpha = torch.maximum(alpha, torch.maximum(loose, clump))
    light = uniform(g, n, 0, 1, x).view(n, 1, 1, 1) < light_prob
    fill = torch.where(
        light,
        uniform(g, n, 0.85, 1.0, x).view(n, 1, 1, 1),
        uniform(g, n, 0.0, 0.2, x).view(n, 1, 1, 1),
    )
    return paint(x, alpha * uniform(g, n, 0.7, 1.0, x).view(n, 1, 1, 1), fill.expand(n, 3, 1, 1))


@at_least_float32
def mould_spots(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    colonies: tuple[int, int] = (1, 3),
    radius: tuple[float, float] = (0.03, 0.12),
    density: tuple[float, float] = (0.15, 0.5),
    light_prob: float = 0.3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mould: colonies of small spots, densest at the centre and thinning out to a ragged edge.

    Spots are where fine fractal noise exceeds a threshold that rises from the colony's centre
    (``density`` of the pixels) to its edge (none). Per image dark grey-green or whitish.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        colonies: range of colonies per image (ints).
        radius: range of the colony radius, as a fraction of ``min(H, W)``.
        density: range of the spot coverage at a colony's centre.
        light_prob: probability that an image's mould is whitish.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_counts("colonies", colonies)
    check_range("radius", radius, 0.0, 1.0)
    check_range("density", density, 0.0, 1.0)
    check_prob("light_prob", light_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s, (ys, xs) = pixel_generator(g, x), min(h, w), coords(h, w, x)
    u = per_image(g, n, x)
    k, kmax = draw_counts(g, n, colonies, x)
    shape = 1 + 0.3 * smooth_noise(gd, n, h, w, s / 16, x)
    spots = fbm(
        gd, n, h, w, (6.0, 3.0, 1.5, 1.0), torch.tensor([0.6, 1.0, 0.8, 0.4]).to(x).expand(n, 4), x
    )
    weight = torch.zeros_like(spots)
    for i in range(kmax):
        d = torch.sqrt((ys - u(0, h)) ** 2 + (xs - u(0, w)) ** 2) / (u(*radius) * s + 1)
        weight = torch.maximum(weight, (1 - d * shape).clamp(0, 1) ** 0.7 * (k > i))
    cov = (u(*density) * weight).clamp(1e-4, 0.999)
    alpha = ((spots - torch.special.ndtri(1 - cov)) * 2).clamp(0, 1) * (weight > 0)
    light = u(0, 1) < light_prob
    tint = torch.tensor([0.95, 1.0, 0.85], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    fill = torch.where(light, u(0.8, 0.95) * tint.flip(1), u(0.08, 0.3) * tint)
    return paint(x, alpha * u(0.6, 0.95), fill)
