"""Random fields and shapes shared by the old-print damage generators.

Building blocks for :mod:`restore.data.old_print` and its ``old_print_*`` siblings: checked
inputs, parameter draws, smooth and fractal noise, jittered-grid Voronoi (Worley) cells, signed
distances to circular arcs, anti-aliased coverage, and painting a defect with its mask
(:func:`paint`, ``MASK_AT``). Everything runs with torch on the images' device.

Randomness: small per-image parameters are drawn from the caller's generator (on its device) and
moved to the images' device; shape-deciding values (grid sizes, counts) are read on the host, which
is free with a CPU generator. Per-pixel noise comes from :func:`pixel_generator`, a generator on
the images' device seeded from the caller's, so a CPU generator does not make a GPU pipeline draw
full-size noise on the host. The same seed reproduces the same batch on the same device.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F

from restore.data import degrade

__all__ = [
    "MASK_AT",
    "arc_distance",
    "at_least_float32",
    "check_images",
    "check_range",
    "check_counts",
    "check_prob",
    "coords",
    "cover",
    "draw_counts",
    "fbm",
    "fill_colour",
    "host_uniform",
    "paint",
    "paper_colour",
    "per_image",
    "pixel_generator",
    "quantile_threshold",
    "smooth_noise",
    "uniform",
    "worley_edges",
]


def check_images(img: torch.Tensor, name: str = "img") -> None:
    """Raise ValueError unless ``img`` holds floating (B, 3, H, W) images of at least 8 x 8."""
    degrade.check_images(img, name)
    if img.shape[0] < 1 or img.shape[2] < 8 or img.shape[3] < 8:
        raise ValueError(f"{name} must hold at least one 8x8 image, got {tuple(img.shape)}")


MASK_AT = 0.25  # a pixel at least this much replaced by a defect counts as destroyed
_F = TypeVar("_F", bound=Callable[..., object])


def at_least_float32(fn: _F) -> _F:
    """Run a damage function in float32 on half-precision images and cast its outputs back.

    Pixel coordinates, distances and noise thresholds need more than 8 mantissa bits; float32 and
    float64 inputs pass through untouched.
    """

    @functools.wraps(fn)
    def wrapper(img: torch.Tensor, *args: object, **kwargs: object) -> object:
        if not (isinstance(img, torch.Tensor) and img.dtype in (torch.float16, torch.bfloat16)):
            return fn(img, *args, **kwargs)
        out = fn(img.float(), *args, **kwargs)
        if isinstance(out, tuple):
            return tuple(o.to(img.dtype) if o.is_floating_point() else o for o in out)
        return out.to(img.dtype)

    return wrapper  # type: ignore[return-value]


def check_range(
    name: str, v: tuple[float, float], lo: float = 0.0, hi: float = math.inf
) -> tuple[float, float]:
    """Raise ValueError unless ``v`` is ``(a, b)`` with ``lo <= a <= b <= hi``; return it."""
    if not (isinstance(v, (tuple, list)) and len(v) == 2 and lo <= v[0] <= v[1] <= hi):
        raise ValueError(f"{name} must be (lo, hi) with {lo} <= lo <= hi <= {hi}, got {v!r}")
    return float(v[0]), float(v[1])


def uniform(
    g: torch.Generator, shape: Sequence[int] | int, lo: float, hi: float, like: torch.Tensor
) -> torch.Tensor:
    """Values uniform in [lo, hi) drawn from ``g``, on ``like``'s device and dtype."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    u = torch.rand(shape, generator=g, device=g.device)
    return (lo + (hi - lo) * u).to(device=like.device, dtype=like.dtype)


def host_uniform(g: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    """(n,) float32 values uniform in [lo, hi) on the CPU (for values that decide shapes)."""
    return lo + (hi - lo) * torch.rand(n, generator=g, device=g.device).cpu()


def pixel_generator(g: torch.Generator, like: torch.Tensor) -> torch.Generator:
    """``g`` itself when it lives on ``like``'s device, else a generator there seeded from ``g``."""
    if g.device == like.device:
        return g
    seed = int(torch.randint(0, 2**62, (1,), generator=g, device=g.device).item())
    return torch.Generator(device=like.device).manual_seed(seed)


def coords(h: int, w: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates ``(ys, xs)`` shaped (1, 1, h, 1) and (1, 1, 1, w)."""
    kw = {"device": like.device, "dtype": like.dtype}
    ys = torch.arange(h, **kw).view(1, 1, h, 1) + 0.5
    xs = torch.arange(w, **kw).view(1, 1, 1, w) + 0.5
    return ys, xs


def smooth_noise(gd: torch.Generator, n: int, h: int, w: int, cell: float, like: torch.Tensor):
    """Gaussian noise on a grid of ``cell``-pixel spacing, bicubically upsampled to (h, w).

    ``cell <= 1`` gives white noise. Returns (n, 1, h, w) on ``like``'s device, roughly unit std.
    """
    if cell <= 1:
        return torch.randn(n, 1, h, w, generator=gd, device=gd.device).to(like)
    gh, gw = max(2, math.ceil(h / cell) + 1), max(2, math.ceil(w / cell) + 1)
    coarse = torch.randn(n, 1, gh, gw, generator=gd, device=gd.device).to(like)
    return F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)


def fbm(
    gd: torch.Generator,
    n: int,
    h: int,
    w: int,
    cells: Sequence[float],
    weights: torch.Tensor,
    like: torch.Tensor,
) -> torch.Tensor:
    """Fractal noise: octaves of :func:`smooth_noise` mixed with per-image weights.

    Args:
        cells: octave spacings in pixels.
        weights: (n, len(cells)) mixing weights (a per-image spectrum).

    Returns:
        (n, 1, h, w), zero mean and unit std per image.
    """
    out = torch.zeros(n, 1, h, w, device=like.device, dtype=like.dtype)
    for i, c in enumerate(cells):
        out = out + weights[:, i].view(-1, 1, 1, 1) * smooth_noise(gd, n, h, w, c, like)
    out = out - out.mean((2, 3), keepdim=True)
    return out / out.std((2, 3), keepdim=True).clamp_min(1e-6)


def quantile_threshold(field: torch.Tensor, frac: torch.Tensor) -> torch.Tensor:
    """Per-image threshold so that a fraction ``frac`` (n,) of the field lies above it.

    Shape: (n, 1, h, w), (n,) -> (n, 1, 1, 1).
    """
    n = field.shape[0]
    flat = field.reshape(n, -1)
    srt = flat.sort(dim=1, descending=True).values
    k = (frac.to(flat) * flat.shape[1]).long().clamp(0, flat.shape[1] - 1).view(n, 1)
    thr = srt.gather(1, k)
    # frac 0: above the maximum, so nothing passes
    thr = torch.where(frac.view(n, 1).to(flat) <= 0, srt[:, :1] + 1, thr)
    return thr.view(n, 1, 1, 1)


def worley_edges(
    gd: torch.Generator,
    cell: torch.Tensor,
    h: int,
    w: int,
    like: torch.Tensor,
    warp: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance to the nearest Voronoi cell edge of jittered-grid sites, and a value per cell.

    One site per grid square of side ``cell[i]`` pixels (per image), placed uniformly in it; the
    edge distance is ``(F2 - F1) / 2`` (F1, F2 the two nearest-site distances), exact on the line
    between two sites and a little short of it elsewhere. ``warp`` displaces the lookup point, which
    bends the straight Voronoi edges.

    Args:
        cell: (n,) cell sides in pixels (a CPU tensor: it sizes the grid).
        warp: optional (n, 2, h, w) displacement (dx, dy) in pixels.

    Returns:
        ``(edge, value)``: (n, 1, h, w) edge distance in pixels, and the nearest site's random
        value in [0, 1) (constant over a cell).
    """
    n = cell.shape[0]
    cmin = float(cell.min())
    pad = 0.0 if warp is None else float(warp.abs().amax()) if warp.numel() else 0.0
    gy, gx = math.ceil((h + 2 * pad) / cmin) + 5, math.ceil((w + 2 * pad) / cmin) + 5
    ys, xs = coords(h, w, like)
    c = cell.to(like).view(n, 1, 1, 1)
    px, py = xs.expand(n, 1, h, w), ys.expand(n, 1, h, w)
    if warp is not None:
        px, py = px + warp[:, :1], py + warp[:, 1:]
    u, v = px / c + 2, py / c + 2  # two cells of margin so the 3x3 lookup stays inside the grid
    iu = u.floor().clamp(1, gx - 2).long()
    iv = v.floor().clamp(1, gy - 2).long()
    site = torch.rand(n, 3, gy * gx, generator=gd, device=gd.device).to(like)
    best = torch.full_like(u, math.inf)
    second = torch.full_like(u, math.inf)
    value = torch.zeros_like(u)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            idx = ((iv + dy) * gx + (iu + dx)).view(n, 1, -1).expand(n, 3, -1)
            s = site.gather(2, idx).view(n, 3, h, w)
            d2 = (u - (iu + dx) - s[:, :1]) ** 2 + (v - (iv + dy) - s[:, 1:2]) ** 2
            closer = d2 < best
            second = torch.where(closer, best, torch.minimum(second, d2))
            value = torch.where(closer, s[:, 2:], value)
            best = torch.where(closer, d2, best)
    return (second.sqrt() - best.sqrt()) * 0.5 * c, value


def arc_distance(
    ys: torch.Tensor,
    xs: torch.Tensor,
    mid: tuple[torch.Tensor, torch.Tensor],
    angle: torch.Tensor,
    length: torch.Tensor,
    radius: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Signed distance to circular arcs given by midpoint, heading, length and radius.

    The centre lies ``radius`` to the left of the heading at the midpoint (a negative radius bends
    the other way; a large one is a straight segment). All parameters are (n, K, 1, 1) tensors.

    Returns:
        ``(signed, t, inside)``: (n, K, h, w) signed distance in pixels, position along the arc
        in [0, 1], and whether the pixel's foot point falls within the arc.
    """
    my, mx = mid
    r = radius.abs().clamp_min(1.0)
    side = torch.where(radius < 0, -1.0, 1.0).to(r)
    cy, cx = my + side * r * torch.cos(angle), mx - side * r * torch.sin(angle)
    ry, rx = ys - cy, xs - cx
    signed = torch.sqrt(rx * rx + ry * ry) - r
    rel = torch.atan2(ry, rx) - torch.atan2(my - cy, mx - cx)  # angle from the midpoint
    rel = torch.remainder(rel + math.pi, 2 * math.pi) - math.pi
    half = (length / (2 * r)).clamp(max=math.pi)
    t = (rel / half + 1) * 0.5
    return signed, t, (t >= 0) & (t <= 1)


def cover(halfwidth: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """Anti-aliased coverage in [0, 1] of a band ``|dist| <= halfwidth`` (1 px ramp).

    A band narrower than a pixel is drawn fainter (coverage at most ``2 * halfwidth``), so a
    width that tapers to 0 fades out instead of leaving a half-grey hairline.
    """
    return (halfwidth - dist.abs() + 0.5).clamp(0, 1) * (2 * halfwidth).clamp(0, 1)


def paper_colour(
    g: torch.Generator, n: int, like: torch.Tensor, yellow: tuple[float, float] = (0.0, 0.15)
) -> torch.Tensor:
    """Colour of bare print paper per image: near white, cream when ``yellow > 0``.

    Shape: (n, 3, 1, 1), values in [0, 1].
    """
    v = uniform(g, n, 0.82, 0.97, like).view(n, 1, 1, 1)
    y = uniform(g, n, *yellow, like).view(n, 1, 1, 1)
    k = torch.tensor([0.0, 0.3, 1.0], device=like.device, dtype=like.dtype).view(1, 3, 1, 1)
    return (v * (1 - k * y)).clamp(0, 1)


def fill_colour(
    g: torch.Generator, n: int, like: torch.Tensor, light_prob: float, yellow: tuple[float, float]
) -> torch.Tensor:
    """Per image, bare paper (light) or dirt (dark, a deeper tint). Shape (n, 3, 1, 1)."""
    paper = paper_colour(g, n, like, yellow)
    tint = (paper / paper[:, :1]) ** 6  # dirt: the paper's hue, much deeper
    dark = tint * uniform(g, n, 0.03, 0.3, like).view(n, 1, 1, 1)
    light = uniform(g, n, 0, 1, like).view(n, 1, 1, 1) < light_prob
    return torch.where(light, paper, dark)


def paint(
    x: torch.Tensor, alpha: torch.Tensor, fill: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Blend ``fill`` into ``x`` by ``alpha``; the mask is where alpha >= MASK_AT.

    Fainter coverage counts only next to the mask (its anti-aliased rim), so nothing further than
    one pixel from the mask changes (a tapering crack's faint tail is cut, not left unmasked).
    """
    mask = (alpha >= MASK_AT).to(x.dtype)
    alpha = alpha * F.max_pool2d(mask, 3, stride=1, padding=1)
    return (x + (fill - x) * alpha).clamp(0, 1), mask


def draw_counts(
    g: torch.Generator, n: int, count: tuple[int, int], like: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """Per-image counts in [lo, hi] as a (n, 1, 1, 1) tensor, and the host maximum hi."""
    lo, hi = int(count[0]), int(count[1])
    k = torch.randint(lo, hi + 1, (n,), generator=g, device=g.device).to(like.device)
    return k.view(n, 1, 1, 1), hi


def check_counts(name: str, v: tuple[int, int], hi: int = 64) -> None:
    """Raise ValueError unless ``v`` is ``(lo, hi)`` ints with ``0 <= lo <= hi <= hi``."""
    if not (len(v) == 2 and all(isinstance(c, int) for c in v) and 0 <= v[0] <= v[1] <= hi):
        raise ValueError(f"{name} must be (lo, hi) ints with 0 <= lo <= hi <= {hi}, got {v!r}")


def check_prob(name: str, p: float) -> None:
    """Raise ValueError unless ``p`` is a probability."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {p!r}")


def per_image(
    g: torch.Generator, n: int, like: torch.Tensor
) -> Callable[[float, float], torch.Tensor]:
    """A drawer of per-image values: ``draw(lo, hi)`` is (n, 1, 1, 1), uniform in [lo, hi)."""

    def draw(lo: float, hi: float) -> torch.Tensor:
        return uniform(g, n, lo, hi, like).view(n, 1, 1, 1)

    return draw
