"""Old-print damage that destroys pixels in small marks: scratches, crazing, dust and hairs, mould.

:func:`scratches`, :func:`crazing`, :func:`dust_and_hair` and :func:`mould_spots` each return
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
import torch.nn.functional as F

from restore.data.old_print_fields import (
    MASK_AT,
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

__all__ = ["crazing", "dust_and_hair", "mould_spots", "scratches"]


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
    strength: tuple[float, float] = (0.7, 1.0),
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
        strength: range of how much of the picture a scratch's core replaces, per image (below 1
            the picture shows through: a faint scratch's, or one thinner than a pixel of the scan);
            the mask keeps the pixels replaced at least ``MASK_AT``.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_range("strength", strength, MASK_AT, 1.0)
    check_counts("count", count)
    check_range("width", width, 0.0)
    check_range("length", length, 0.0, 4.0)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    check_prob("curved_prob", curved_prob)
    check_prob("light_prob", light_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    k, kmax = draw_counts(g, n, count, x)
    alpha = _arcs(x, g, k, kmax, width, length, (curved_prob, 0.25, 1.5), max(h, w), gaps=True)
    alpha = alpha * uniform(g, n, *strength, x).view(n, 1, 1, 1)
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


#: Supersampling of the :func:`crazing` raster: its points are stamped on a grid this many times
#: finer and averaged down, so a 1-px crack is anti-aliased.
_CRAZE_SS = 2
#: Distance in pixels between the stamped points of a crack (at most half a pixel: no gaps).
_CRAZE_STEP = 0.5
#: Points per kink of a crack's heading (so it kinks every 4 px).
_CRAZE_SEG = 8


def _walk(
    gd: torch.Generator,
    start: tuple[torch.Tensor, torch.Tensor],
    heading: torch.Tensor,
    jag: torch.Tensor,
    steps: int,
    like: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random walks of ``steps`` points ``_CRAZE_STEP`` px apart from ``start`` (two (N,)
    tensors): the heading drifts slowly (about 0.7 rad over 300 px) and kinks by a
    ``jag``-radian (N,) normal offset every ``_CRAZE_SEG`` points. Returns ``(y, x, heading)``,
    each (N, steps)."""
    n = heading.shape[0]
    kinks = torch.randn(n, steps // _CRAZE_SEG + 1, generator=gd, device=gd.device).to(like)
    seg = torch.arange(steps, device=like.device) // _CRAZE_SEG
    drift = torch.randn(n, steps, generator=gd, device=gd.device).to(like).mul(0.03).cumsum(1)
    head = heading[:, None] + drift + kinks[:, seg] * jag[:, None]
    y = start[0][:, None] + (torch.sin(head) * _CRAZE_STEP).cumsum(1)
    x = start[1][:, None] + (torch.cos(head) * _CRAZE_STEP).cumsum(1)
    return y, x, head


def _along(
    g: torch.Generator,
    t: torch.Tensor,
    like: torch.Tensor,
    taper: tuple[float, float] = (3.0, 12.0),
    held: tuple[float, float] = (-1.5, -0.5),
) -> torch.Tensor:
    """Width profile of (N, T) cracks at arc fractions ``t``: a slow wave, tapered to 0 over
    1 / ``taper`` of the length at both ends, with gaps where the emulsion held (where a sine
    along the crack stays under a level drawn from ``held``; -1 or less: none), and 0 beyond the
    crack's end (t > 1)."""
    n, draw = t.shape[0], per_image(g, t.shape[0], like)

    def u(lo: float, hi: float) -> torch.Tensor:
        return draw(lo, hi).view(n, 1)

    wave = 0.7 + 0.3 * torch.sin(2 * math.pi * u(0.5, 3) * t + u(0, 2 * math.pi))
    ends = (torch.minimum(t, 1 - t) * u(*taper)).clamp(0, 1)
    kept = torch.sin(2 * math.pi * u(1, 8) * t + u(0, 2 * math.pi)) > u(*held)
    return wave * ends * kept * (t <= 1)


def _children(
    g: torch.Generator,
    gd: torch.Generator,
    parent: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    per: int,
    length: torch.Tensor,
    jag: torch.Tensor,
    steps: int,
    like: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``per`` branches for each parent walk: each leaves a random point of its parent at 25-85
    degrees to either side. ``parent`` is ``(y, x, heading, half)`` of (N, T) walks (half: the
    half-width profile, 0 where the parent is absent); ``length`` (N * per,) in pixels. Returns
    the same four for the (N * per, steps) branches (half: the profile, not yet scaled)."""
    py, px, ph, phalf = parent
    n, t_max = py.shape
    m = n * per
    # a point where the parent is drawn: a random one of its first ~90% (uniform over its steps)
    drawn = (phalf > 0).to(like)
    last = (drawn * torch.arange(t_max, device=like.device)).amax(1).repeat_interleave(per)
    at = (uniform(g, m, 0.05, 0.95, like) * last).long()
    rows = torch.arange(n, device=like.device).repeat_interleave(per)
    side = torch.where(uniform(g, m, 0, 1, like) < 0.5, -1.0, 1.0).to(like)
    heading = ph[rows, at] + side * uniform(g, m, 0.45, 1.5, like)
    y, x, head = _walk(
        gd, (py[rows, at], px[rows, at]), heading, jag.repeat_interleave(per), steps, like
    )
    t = torch.arange(steps, device=like.device).to(like) * _CRAZE_STEP / length[:, None]
    alive = (phalf[rows, at] > 0).to(like)[:, None]
    return y, x, head, _along(g, t, like) * alive


@at_least_float32
def crazing(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    creases: tuple[int, int] = (1, 4),
    branches: tuple[int, int] = (2, 12),
    width: tuple[float, float] = (0.8, 3.0),
    length: tuple[float, float] = (0.3, 1.2),
    jag: tuple[float, float] = (0.05, 0.45),
    bundle_prob: float = 0.5,
    light_prob: float = 0.85,
    paper_yellow: tuple[float, float] = (0.02, 0.2),
    strength: tuple[float, float] = (0.75, 1.0),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Crumple creases and crazing: jagged cracks that wander across the print and branch into
    trees, where the emulsion broke along a bend or a crumple (the white lines over the faces of
    ``real_old/bzz12366/22`` and ``/19``, the crazing over the sailor's coat of ``/30``).

    Unlike :func:`restore.data.old_print_holes.crack_network` (closed cells, like dried mud) and
    :func:`scratches` (smooth arcs), each crease is a random walk whose heading drifts slowly and
    kinks every 4 px, so it zigzags. Branches leave a crease at 25-85 degrees and twigs leave the
    branches (each generation shorter and thinner), so the cracks form open trees with loose
    ends. With ``bundle_prob`` an image's creases run roughly parallel through one band, as
    along one bend of the print. The width follows a slow wave along each crack, with gaps where
    the emulsion held, and tapers to 0 at its ends. Per image the cracks are bare paper (light)
    or dirt (dark). The cracks are stamped as points half a pixel apart on a grid twice as fine
    and averaged down, so they are anti-aliased.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        creases: range of creases per image (ints).
        branches: range of branches per crease (ints); each branch has up to two twigs.
        width: range of a crease's widest width in pixels (branches 0.75 of it, twigs 0.5).
        length: range of a crease's length, as a fraction of ``max(H, W)`` (branches 0.05-0.3,
            twigs 0.02-0.1 of ``max(H, W)``).
        jag: range of the kink angle (standard deviation, radians) per image.
        bundle_prob: probability that an image's creases run parallel through one band.
        light_prob: probability that an image's cracks are light.
        paper_yellow: range of the cream tint of the paper.
        strength: range of how much of the picture a crack's core replaces, per image (below 1
            the picture shows through, as through the faint creases over the face of ``/22``);
            the mask keeps the pixels replaced at least ``MASK_AT``.

    Returns:
        ``(damaged, mask)``. Shape: (B, 3, H, W), (B, 1, H, W).
    """
    check_images(img)
    check_range("strength", strength, MASK_AT, 1.0)
    check_counts("creases", creases)
    check_counts("branches", branches)
    check_range("width", width, 0.0, 16.0)
    check_range("length", length, 0.0, 4.0)
    check_range("jag", jag, 0.0, math.pi)
    check_range("paper_yellow", paper_yellow, 0.0, 1.0)
    check_prob("bundle_prob", bundle_prob)
    check_prob("light_prob", light_prob)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s = pixel_generator(g, x), max(h, w)
    k, kmax = draw_counts(g, n, creases, x)
    b, bmax = draw_counts(g, n, branches, x)
    # per-image looks first, so the branches (drawn last) leave the creases as they are
    widest = uniform(g, n, *width, x) / 2
    strength = uniform(g, n, *strength, x).view(n, 1, 1, 1)
    fill = fill_colour(g, n, x, light_prob, paper_yellow)
    m = n * kmax
    # creases: in a bundle they share a heading and cross one band; else each its own way
    img_of = torch.arange(n, device=x.device).repeat_interleave(kmax)
    bundled = (uniform(g, n, 0, 1, x) < bundle_prob)[img_of]
    band = uniform(g, n, 0, math.pi, x)[img_of]
    heading = torch.where(
        bundled, band + uniform(g, m, -0.2, 0.2, x), uniform(g, m, 0, 2 * math.pi, x)
    )
    # a bundle's creases are centred along a line through one point, a little apart across it
    along, apart = uniform(g, m, -0.2, 0.2, x) * s, uniform(g, m, -0.06, 0.06, x) * s
    py, px = uniform(g, n, 0.25, 0.75, x)[img_of] * h, uniform(g, n, 0.25, 0.75, x)[img_of] * w
    cy = torch.where(
        bundled, py + along * torch.sin(band) + apart * torch.cos(band), uniform(g, m, 0, h, x)
    )
    cx = torch.where(
        bundled, px + along * torch.cos(band) - apart * torch.sin(band), uniform(g, m, 0, w, x)
    )
    ln = uniform(g, m, *length, x) * s + 2
    start = (cy - torch.sin(heading) * ln / 2, cx - torch.cos(heading) * ln / 2)
    jags = uniform(g, n, *jag, x)[img_of]
    steps0 = math.ceil((length[1] * s + 2) / _CRAZE_STEP)
    y0, x0, h0 = _walk(gd, start, heading, jags, steps0, x)
    t0 = torch.arange(steps0, device=x.device).to(x) * _CRAZE_STEP / ln[:, None]
    on = torch.arange(kmax, device=x.device).repeat(n) < k.view(n).repeat_interleave(kmax)
    half0 = _along(g, t0, x, taper=(8.0, 25.0), held=(-1.5, -0.8)) * on.to(x)[:, None]
    # branches, then twigs
    steps1 = math.ceil(0.3 * s / _CRAZE_STEP) + 1
    ln1 = uniform(g, m * bmax, 0.05, 0.3, x) * s + 2
    y1, x1, h1, half1 = _children(g, gd, (y0, x0, h0, half0), bmax, ln1, jags, steps1, x)
    bi = torch.arange(bmax, device=x.device).repeat(m)
    half1 = half1 * (bi < b.view(n).repeat_interleave(kmax * bmax)).to(x)[:, None]
    steps2 = math.ceil(0.1 * s / _CRAZE_STEP) + 1
    ln2 = uniform(g, m * bmax * 2, 0.02, 0.1, x) * s + 2
    y2, x2, _, half2 = _children(
        g, gd, (y1, x1, h1, half1), 2, ln2, jags.repeat_interleave(bmax), steps2, x
    )
    half2 = half2 * (uniform(g, m * bmax * 2, 0, 1, x) < 0.7).to(x)[:, None]
    # stamp every point's half-width on the fine grid (the widest where points meet)
    per_walk = [(y0, x0, half0, kmax), (y1, x1, half1 * 0.75, kmax * bmax),
                (y2, x2, half2 * 0.5, kmax * bmax * 2)]  # fmt: skip
    hs, ws = h * _CRAZE_SS, w * _CRAZE_SS
    grid = torch.full((n * hs * ws,), -1.0, device=x.device, dtype=x.dtype)
    for yy, xx, hh, per in per_walk:
        owner = torch.arange(n, device=x.device).repeat_interleave(per)[:, None]
        half = hh * widest.view(n).repeat_interleave(per)[:, None] * _CRAZE_SS
        iy, ix = (yy * _CRAZE_SS).floor().long(), (xx * _CRAZE_SS).floor().long()
        ok = (half > 0) & (iy >= 0) & (iy < hs) & (ix >= 0) & (ix < ws)
        idx = (owner * hs + iy) * ws + ix
        grid.scatter_reduce_(0, idx[ok], half[ok], "amax")
    grid = grid.view(n, 1, hs, ws)
    # coverage: a disc of its half-width around every stamped point (``cover`` of the distance)
    r = math.ceil(width[1] / 2 * _CRAZE_SS) + 1
    padded = F.pad(grid, (r, r, r, r), value=-1.0)
    fine = torch.zeros_like(grid)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            d = math.hypot(dy, dx)
            if d <= r:
                near = padded[..., r + dy : r + dy + hs, r + dx : r + dx + ws]
                fine = torch.maximum(fine, cover(near, near.new_tensor(d)))
    return paint(x, F.avg_pool2d(fine, _CRAZE_SS) * strength, fill)


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
