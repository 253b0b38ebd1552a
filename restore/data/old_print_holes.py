"""Old-print damage that destroys pixels over areas: cracks, flaking, folds, tears.

:func:`crack_network`, :func:`emulsion_flaking`, :func:`fold_creases` and :func:`torn_edges`
(the thin marks, scratches, dust and mould, are in :mod:`restore.data.old_print_marks`) each
return ``(damaged, mask)``: the damaged images and where the defect replaced at least
``MASK_AT`` of a pixel (1 = destroyed). The mask is the drawn footprint, so a wider defect has a
wider mask. Their composition with the tone-only damage is
:func:`restore.data.old_print.old_print_damage`.

Conventions: images float (B, 3, H, W) in [0, 1], outputs clamped to [0, 1], masks (B, 1, H, W)
in {0, 1} in the images' dtype; everything runs on the images' device. Sizes given as fractions
are fractions of ``min(H, W)``. Randomness as described in :mod:`restore.data.old_print_fields`.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> out, mask = crack_network(torch.rand(2, 3, 64, 64), g)
    >>> out.shape, mask.shape
    (torch.Size([2, 3, 64, 64]), torch.Size([2, 1, 64, 64]))
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from restore.data.old_print_fields import (
    MASK_AT,
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
    host_uniform,
    paint,
    paper_colour,
    per_image,
    pixel_generator,
    quantile_threshold,
    smooth_noise,
    uniform,
    worley_edges,
)

__all__ = ["crack_network", "emulsion_flaking", "fold_creases", "torn_edges"]

_VISIBLE = 0.1  # a fold's shadow or sheen this strong is part of the defect


# ------------------------------------------------------------------ pixel-destroying


@at_least_float32
def crack_network(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    cell: tuple[float, float] = (0.05, 0.18),
    width: tuple[float, float] = (0.7, 2.5),
    coverage: tuple[float, float] = (0.3, 0.9),
    light_prob: float = 0.75,
    paper_yellow: tuple[float, float] = (0.02, 0.2),
    strength: tuple[float, float] = (0.75, 1.0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Crack networks: the edges of two nested Voronoi tilings, bent, partly present, tapered.

    Cracks branch where cell edges meet and close into cells; only the edges where a smooth
    presence field exceeds a per-image threshold crack, so networks thin out into dangling
    branches and cluster in patches. The width varies along each crack (smooth and chipped) and
    tapers to zero where a crack ends. Per image the cracks are bare paper (light) or dirt (dark).

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        cell: range of the large cell size, as a fraction of ``min(H, W)``; small cells are
            0.35-0.6 of it (at least 8 px).
        width: range of the crack width in pixels (the widest part of a crack).
        coverage: range of the fraction of large-cell edges that are cracked.
        light_prob: probability that an image's cracks are light.
        paper_yellow: range of the cream tint of the exposed paper (0 = neutral).
        strength: range of how much of the picture a crack's core replaces, per image (below 1
            the picture shows through: a faint crack's, or one thinner than a pixel of the scan);
            the mask keeps the pixels replaced at least ``MASK_AT``.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_range("strength", strength, MASK_AT, 1.0)
    check_range("cell", cell, 0.01, 1.0)
    check_range("width", width, 0.0)
    check_range("coverage", coverage, 0.0, 1.0)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    check_prob("light_prob", light_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s = pixel_generator(g, x), min(h, w)
    big = (host_uniform(g, n, *cell) * s).clamp_min(4.0)
    small = (big * host_uniform(g, n, 0.35, 0.6)).clamp_min(8.0)
    scale = float(big.median())
    amp = uniform(g, n, 0.08, 0.3, x).view(n, 1, 1, 1) * big.to(x).view(n, 1, 1, 1)
    warp = smooth_noise(gd, n * 2, h, w, scale, x).view(n, 2, h, w) * amp
    jag = smooth_noise(gd, n * 2, h, w, 2.0, x).view(n, 2, h, w) * 0.6
    edge1, _ = worley_edges(gd, big, h, w, x, warp + jag)
    edge2, _ = worley_edges(gd, small, h, w, x, warp * 0.5 + jag)

    cov = uniform(g, n, *coverage, x).view(n, 1, 1, 1)
    ones = torch.ones(n, 3, device=x.device, dtype=x.dtype)
    pres1 = fbm(gd, n, h, w, (scale * 3, scale, scale / 2), ones, x)
    pres2 = fbm(gd, n, h, w, (scale * 3, scale / 2, scale / 4), ones, x)
    t1 = torch.special.ndtri(1 - cov.clamp(0.01, 0.99))
    t2 = torch.special.ndtri(1 - (cov * 0.4).clamp(0.01, 0.99))
    taper1 = ((pres1 - t1) / 0.6).clamp(0, 1)
    taper2 = ((pres2 - t2) / 0.6).clamp(0, 1)
    along = (0.65 + 0.3 * smooth_noise(gd, n, h, w, 6.0, x)).clamp(0.15, 1.2)
    chips = (smooth_noise(gd, n, h, w, 1.0, x) - 1.6).clamp_min(0) * 0.7
    half = uniform(g, n, *width, x).view(n, 1, 1, 1) / 2
    alpha = torch.maximum(
        cover((half * along + chips) * taper1, edge1),
        cover((half * 0.6 * along + chips) * taper2, edge2),
    )
    alpha = alpha * uniform(g, n, *strength, x).view(n, 1, 1, 1)
    return paint(x, alpha, fill_colour(g, n, x, light_prob, paper_yellow))


@at_least_float32
def emulsion_flaking(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    area: tuple[float, float] = (0.0005, 0.04),
    scale: tuple[float, float] = (0.02, 0.15),
    angular_prob: float = 0.5,
    paper_yellow: tuple[float, float] = (0.02, 0.2),
    large_prob: float = 0.0,
    large_area: tuple[float, float] = (0.03, 0.15),
    torn_prob: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Emulsion loss: irregular paper-white patches, from specks to a few percent of the image.

    A fractal noise field (spectrum peaking at the per-image ``scale``, with a power-law tail
    that makes ragged edges) is thresholded at the quantile that leaves ``area`` of the image;
    with ``angular_prob`` the field is mostly piecewise constant on Voronoi cells, so whole
    angular chips flake off along crack lines. The patches show bare, slightly mottled paper.

    With ``large_prob`` an image instead loses a few large compact flakes (``large_area`` of it
    in all), as on real prints where a whole cheek or eye has flaked off: the field is mostly
    of the size of a flake, so patches are whole blobs with ragged rims; the bare paper is
    fibrous (a fine grain and a gentle relief) and the broken emulsion leaves a thin grey rim.
    With ``torn_prob`` such an image's flakes are torn instead: the emulsion broke along its own
    crack network, so a flake is a union of whole angular cells of a flake's size (straight edges,
    sharp corners, as on ``real_old/yasirgunes/f.png``), and the bare paper shows its relief, lit
    from one side (the bumpy cream paper of ``real_old/bzz12366/15.png``).

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        area: range of the flaked fraction of the image.
        scale: range of the typical patch size, as a fraction of ``min(H, W)``.
        angular_prob: probability that an image flakes in angular chips.
        paper_yellow: range of the cream tint of the paper.
        large_prob: probability that an image loses large compact flakes instead.
        large_area: range of the flaked fraction of such an image.
        torn_prob: probability that an image with large flakes has torn ones.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_range("area", area, 0.0, 0.5)
    check_range("large_area", large_area, 0.0, 0.5)
    check_range("scale", scale, 0.001, 1.0)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    check_prob("angular_prob", angular_prob)
    check_prob("large_prob", large_prob)
    check_prob("torn_prob", torn_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s = pixel_generator(g, x), min(h, w)
    cells = [s / 2**k for k in range(2, 8)] + [2.0]
    peak = uniform(g, n, *scale, x).view(n, 1) * s
    c = torch.tensor(cells, device=x.device, dtype=x.dtype).view(1, -1)
    weights = torch.where(c <= peak, (c / peak) ** 0.6, (peak / c) ** 2)
    field = fbm(gd, n, h, w, cells, weights, x)
    angular = uniform(g, n, 0, 1, x).view(n, 1, 1, 1) < angular_prob
    if angular_prob > 0:
        size = host_uniform(g, n, *scale).clamp_min(0.004) * s * 0.8
        warp = smooth_noise(gd, n * 2, h, w, 2.0, x).view(n, 2, h, w) * 0.7
        _, value = worley_edges(gd, size.clamp_min(3.0), h, w, x, warp)
        chips = torch.special.ndtri(value.clamp(1e-4, 1 - 1e-4))
        field = torch.where(angular, field + 0.6 * chips, field)
    frac = uniform(g, n, *area, x)
    mottle = 1 - 0.05 * smooth_noise(gd, n, h, w, 3.0, x).abs()
    if large_prob > 0:  # a few flakes of the size of a face's cheek: blobs with ragged rims
        large = (uniform(g, n, 0, 1, x) < large_prob).view(n, 1, 1, 1)
        size = uniform(g, n, 0.12, 0.3, x).view(n, 1) * s
        blob = torch.where(c >= size, (size / c) ** 0.5, (c / size) ** 2.5)
        rag = (c <= 8) * 0.06 * (c / 8)  # ragged rims a few px deep, crisp at pixel scale
        field = torch.where(large, fbm(gd, n, h, w, cells, blob + rag, x), field)
        frac = torch.where(large.view(n), uniform(g, n, *large_area, x), frac)
        # bare paper: a fine fibrous grain and a gentle relief, as on scanned prints (a stronger,
        # coarser mottle read as grey foil, and the detector trained on it still missed the
        # cream flakes of real prints: docs/BENCHMARKS.md, "Real damage, hand-labelled")
        fibres = 0.035 * smooth_noise(gd, n, h, w, 1.5, x) + 0.025 * smooth_noise(
            gd, n, h, w, 5.0, x
        )
        mottle = torch.where(large, 1 + fibres, mottle)
        if torn_prob > 0:  # draws only then: the default's random stream stays as it was
            torn = large & (uniform(g, n, 0, 1, x) < torn_prob).view(n, 1, 1, 1)
            side = (size.view(n).cpu() * host_uniform(g, n, 0.6, 1.2)).clamp_min(3.0)
            bend = smooth_noise(gd, n * 2, h, w, 8.0, x).view(n, 2, h, w) * 1.5
            _, cell = worley_edges(gd, side, h, w, x, bend)
            cells_field = torch.special.ndtri(cell.clamp(1e-4, 1 - 1e-4))
            field = torch.where(torn, field + cells_field, field)
            mottle = torch.where(torn, 1 + 0.4 * fibres + _relief(gd, n, h, w, x), mottle)
    steep = torch.where(large, 40.0, 4.0) if large_prob > 0 else 4.0  # a blob's field is flat
    alpha = (field - quantile_threshold(field, frac)).mul(steep).add(0.5).clamp(0, 1)
    fill = paper_colour(g, n, x, paper_yellow) * mottle
    if large_prob > 0:  # the broken emulsion's grey rim, 1-2 px inside the flake
        inside = (alpha >= 0.5).to(x)
        rim = inside - -F.max_pool2d(-inside, 5, stride=1, padding=2)
        fill = torch.where(
            large & (rim > 0), fill * uniform(g, n, 0.78, 0.9, x).view(n, 1, 1, 1), fill
        )
    return paint(x, alpha * uniform(g, n, 0.8, 1.0, x).view(n, 1, 1, 1), fill)


def _relief(gd: torch.Generator, n: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """Bumpy paper lit from one side: the slope of a random height field along a random light
    direction, 0.05 at its standard deviation. Shape (n, 1, h, w)."""
    height = smooth_noise(gd, n, h, w, 2.5, like) + 0.7 * smooth_noise(gd, n, h, w, 6.0, like)
    dy = F.pad(height[..., 1:, :] - height[..., :-1, :], (0, 0, 0, 1), mode="replicate")
    dx = F.pad(height[..., :, 1:] - height[..., :, :-1], (0, 1, 0, 0), mode="replicate")
    angle = uniform(gd, n, 0, 2 * math.pi, like).view(n, 1, 1, 1)
    slope = dx * angle.cos() + dy * angle.sin()
    return 0.05 * slope / slope.std((2, 3), keepdim=True).clamp_min(1e-6)


@at_least_float32
def fold_creases(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    count: tuple[int, int] = (1, 2),
    width: tuple[float, float] = (1.0, 4.0),
    shadow: tuple[float, float] = (3.0, 12.0),
    strength: tuple[float, float] = (0.15, 0.5),
    paper_yellow: tuple[float, float] = (0.02, 0.2),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold creases: a light cracked ridge with a dark shadow on one side and a sheen on the other.

    Folds are nearly straight lines (mostly horizontal or vertical, through the middle half of
    the print; sometimes diagonal), with a gentle wobble; several can cross. A third of them stop
    part-way, tapering out. The ridge width varies along the fold and is chipped.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        count: range of the number of folds per image (ints).
        width: range of the ridge width in pixels.
        shadow: range of the shadow width in pixels (the highlight is half as wide).
        strength: range of the shadow's darkening at the ridge (the highlight is 0.6 of it).
        paper_yellow: range of the cream tint of the ridge.

    Returns:
        ``(damaged, mask)``; the mask holds the ridge and the part of the shadow and highlight
        that changes the pixel by at least 10% (darker, or closer to white).
        Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_counts("count", count)
    check_range("width", width, 0.0)
    check_range("shadow", shadow, 0.0)
    check_range("strength", strength, 0.0, 1.0)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, ys, xs = pixel_generator(g, x), *coords(h, w, x)
    k, kmax = draw_counts(g, n, count, x)
    wobble = smooth_noise(gd, n, h, w, 0.2 * min(h, w), x) * uniform(g, n, 0.3, 2.0, x).view(
        n, 1, 1, 1
    )
    along = (0.6 + 0.3 * smooth_noise(gd, n, h, w, 8.0, x)).clamp(0.2, 1.2)
    chips = (smooth_noise(gd, n, h, w, 1.0, x) - 1.5).clamp_min(0) * 0.8
    ridge = torch.zeros_like(ys.expand(n, 1, h, w))
    dark, sheen = torch.zeros_like(ridge), torch.zeros_like(ridge)
    u = per_image(g, n, x)
    for i in range(kmax):
        axis = u(0, 1) < 0.75
        theta = torch.where(axis, (u(0, 1) < 0.5) * (math.pi / 2) + u(-0.05, 0.05), u(0, math.pi))
        cy, cx = h * u(0.25, 0.75), w * u(0.25, 0.75)
        ny, nx = torch.cos(theta), -torch.sin(theta)
        dist = (ys - cy) * ny + (xs - cx) * nx + wobble
        t = (ys - cy) * torch.sin(theta) + (xs - cx) * torch.cos(theta)
        stop = torch.where(u(0, 1) < 0.33, u(-0.3, 0.3) * max(h, w), torch.full_like(cy, -1e4))
        on = (k > i).to(x) * ((t - stop) / 15).clamp(0, 1)
        half = u(*width) / 2 * on
        ridge = torch.maximum(ridge, cover(half * along + chips * on, dist))
        side = torch.where(u(0, 1) < 0.5, 1.0, -1.0).to(x)
        beyond = dist * side - half
        sw, st = u(*shadow).clamp_min(0.5), u(*strength) * on
        dark = torch.maximum(dark, st * (1 - beyond / sw).clamp(0, 1) * (beyond > -half))
        back = -dist * side - half
        sheen = torch.maximum(
            sheen, 0.6 * st * (1 - back / (0.5 * sw)).clamp(0, 1) * (back > -half)
        )
    y = x * (1 - dark)
    y = y + (1 - y) * sheen
    fill = paper_colour(g, n, x, paper_yellow)
    out, mask = paint(y, ridge * uniform(g, n, 0.6, 1.0, x).view(n, 1, 1, 1), fill)
    changed = (dark >= _VISIBLE) | (sheen >= _VISIBLE)
    return out, torch.maximum(mask, changed.to(x.dtype))


@at_least_float32
def torn_edges(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    corners: tuple[int, int] = (0, 2),
    corner_size: tuple[float, float] = (0.05, 0.25),
    notch_prob: float = 0.3,
    wear: tuple[float, float] = (0.0, 0.02),
    paper_yellow: tuple[float, float] = (0.02, 0.2),
    rim_prob: float = 0.6,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Torn or missing corners, torn notches in an edge, and worn borders.

    A missing piece is a superellipse around a corner (or around a point on an edge, for a
    notch) with a ragged outline; it shows the scanner bed or mount (white, black or card). On a
    torn print (``rim_prob`` of the images) a rim of torn paper fibres (bare paper, 1-4 px) lines
    the tear; a corner broken or cut off cleanly shows the bed right up to the picture. Worn
    borders lose the emulsion in an irregular band along the edges.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        corners: range of the number of torn corners per image (ints, at most 4).
        corner_size: range of a torn corner's size, as a fraction of ``min(H, W)``.
        notch_prob: probability of a torn notch in one edge.
        wear: range of the worn band's depth, as a fraction of ``min(H, W)`` (0 = none).
        paper_yellow: range of the cream tint of the paper.
        rim_prob: probability that an image's tears have a rim of bare paper fibres.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_counts("corners", corners, 4)
    check_prob("rim_prob", rim_prob)
    check_range("corner_size", corner_size, 0.0, 1.0)
    check_range("wear", wear, 0.0, 0.5)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    check_prob("notch_prob", notch_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s, (ys, xs) = pixel_generator(g, x), min(h, w), coords(h, w, x)
    u = per_image(g, n, x)
    ones = torch.ones(n, 3, device=x.device, dtype=x.dtype)
    ragged = fbm(gd, n, h, w, (s / 8, s / 24, 3.0), ones, x)
    k, _ = draw_counts(g, n, corners, x)
    rank = torch.rand(n, 4, generator=g, device=g.device).argsort(1).argsort(1).to(x.device)
    centres = [(cy, cx) for cy in (0.0, float(h)) for cx in (0.0, float(w))]
    notch_at = u(0, 4).floor()  # which edge: top, bottom, left, right
    pos = u(0.15, 0.85)
    centres.append(
        (
            torch.where(notch_at < 2, notch_at * h, pos * h),
            torch.where(notch_at < 2, pos * w, (notch_at - 2) * w),
        )
    )
    r = torch.full_like(ys.expand(n, 1, h, w), math.inf)
    for j, (cy, cx) in enumerate(centres):
        if j < 4:
            on, size = rank[:, j].view(n, 1, 1, 1) < k, u(*corner_size)
        else:
            on, size = u(0, 1) < notch_prob, u(*corner_size) * 0.3
        a, b = size * s * u(0.6, 1.4) + 1, size * s * u(0.6, 1.4) + 1
        p = u(0.7, 2.0)
        rj = ((ys - cy).abs() / b) ** p + ((xs - cx).abs() / a) ** p
        rj = (rj ** (1 / p) - 1) * torch.minimum(a, b)  # ~ pixels inside (< 0) the tear line
        rj = rj + ragged * u(0.5, 2.0) * (1 + 0.05 * torch.minimum(a, b))
        r = torch.where(on, torch.minimum(r, rj), r)
    missing = (0.5 - r).clamp(0, 1)
    fibres = u(1.0, 4.0) * (u(0, 1) < rim_prob)
    rim = ((fibres - r).clamp(0, 1) * (r > -0.5)).clamp(0, 1)
    patches = (1 + fbm(gd, n, h, w, (s / 3, s / 8, s / 20), ones, x)).clamp_min(0)
    mean_depth = u(*wear) * s
    sides = torch.rand(4, n, generator=g, device=g.device).to(x).view(4, n, 1, 1, 1) ** 2
    worn = torch.zeros_like(patches)
    for side, dist in zip(sides, (ys, h - ys, xs, w - xs)):  # some sides barely worn
        depth = mean_depth * side
        band = (depth * patches + 0.6 * ragged - dist + 0.5).clamp(0, 1) * (depth >= 0.5)
        worn = torch.maximum(worn, band)
    bed = torch.where(
        u(0, 1) < 0.5, u(0.9, 1.0), torch.where(u(0, 1) < 0.6, u(0.0, 0.08), u(0.4, 0.7))
    )
    paper = paper_colour(g, n, x, paper_yellow)
    bed = bed * (paper / paper[:, :1]) ** 0.5  # a card or lid of a paler tint than the paper
    y, m1 = paint(x, torch.maximum(rim, worn), paper)
    out, m2 = paint(y, missing, bed)
    return out, torch.maximum(m1, m2)
