"""Old-print damage that changes tone but leaves the picture recoverable (no hole mask).

Ageing of the print: :func:`fade`, :func:`yellowing`, :func:`uneven_exposure`, :func:`vignette`,
:func:`silvering`, :func:`foxing`, :func:`water_stains`; its surface and reproduction:
:func:`paper_texture`, :func:`halftone`; and the scan: :func:`low_resolution`. Grain, blur and
JPEG are :func:`restore.data.degrade.add_gaussian_noise`, :func:`~restore.data.degrade.gaussian_blur`
and :func:`~restore.data.degrade.jpeg`.

Each takes images (B, 3, H, W) in [0, 1] and a ``torch.Generator`` and returns images of the
same shape, dtype and device, clamped to [0, 1]. :func:`fade`, :func:`uneven_exposure`,
:func:`vignette`, :func:`paper_texture`, :func:`halftone` and :func:`low_resolution` act on the
three channels alike, so a grey print stays exactly grey; the others add the colour of the
damage (brown, yellow, blue-grey). Sizes given as fractions are fractions of ``min(H, W)``.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> fade(torch.rand(2, 3, 32, 32), g).shape
    torch.Size([2, 3, 32, 32])
"""

from __future__ import annotations

import math

import kornia
import torch
import torch.nn.functional as F

from restore.data.degrade import to_gray
from restore.data.old_print_fields import (
    at_least_float32,
    check_images,
    check_range,
    coords,
    fbm,
    host_uniform,
    pixel_generator,
    quantile_threshold,
    smooth_noise,
    uniform,
)

__all__ = [
    "fade",
    "foxing",
    "halftone",
    "low_resolution",
    "paper_texture",
    "silvering",
    "uneven_exposure",
    "vignette",
    "water_stains",
    "yellowing",
]


def _u(g: torch.Generator, n: int, r: tuple[float, float], like: torch.Tensor) -> torch.Tensor:
    return uniform(g, n, r[0], r[1], like).view(n, 1, 1, 1)


def _rgb(values: tuple[float, float, float], like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(values, device=like.device, dtype=like.dtype).view(1, 3, 1, 1)


@at_least_float32
def fade(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    amount: tuple[float, float] = (0.05, 0.45),
    grey: tuple[float, float] = (0.55, 0.85),
) -> torch.Tensor:
    """Fading: contrast lost towards a lifted grey (blacks turn grey, whites dull a little).

    Args:
        img: images in [0, 1].
        g: source of the per-image amounts.
        amount: range of the contrast lost (0 none, 1 flat grey).
        grey: range of the grey level the print fades towards.

    Returns:
        Faded images. Shape: (B, 3, H, W).
    """
    check_images(img)
    check_range("amount", amount, 0.0, 1.0)
    check_range("grey", grey, 0.0, 1.0)
    n, x = img.shape[0], img.clamp(0, 1)
    k, level = _u(g, n, amount, x), _u(g, n, grey, x)
    return (level + (x - level) * (1 - k)).clamp(0, 1)


@at_least_float32
def yellowing(
    img: torch.Tensor, g: torch.Generator, *, strength: tuple[float, float] = (0.05, 0.35)
) -> torch.Tensor:
    """Yellowed paper and binder: blue drops most, in the highlights most, in blotches.

    Args:
        img: images in [0, 1].
        g: source of the per-image strengths.
        strength: range of the mean loss of blue in white areas (green loses a third of it);
            a smooth field makes it vary by up to 60% across the print.

    Returns:
        Yellowed images. Shape: (B, 3, H, W).
    """
    check_images(img)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    s = min(h, w)
    blotch = fbm(
        pixel_generator(g, x),
        n,
        h,
        w,
        (s / 2, s / 5, s / 12),
        _rgb((1, 0.5, 0.25), x).view(1, 3).expand(n, 3),
        x,
    )
    blotch = (1 + _u(g, n, (0.0, 0.6), x) * blotch).clamp_min(0)
    k = _u(g, n, strength, x) * (0.4 + 0.6 * to_gray(x)) * blotch
    return (x * (1 - k * _rgb((0.0, 0.33, 1.0), x))).clamp(0, 1)


@at_least_float32
def uneven_exposure(
    img: torch.Tensor, g: torch.Generator, *, strength: tuple[float, float] = (0.05, 0.3)
) -> torch.Tensor:
    """Uneven printing exposure and development: a smooth gain field ``exp(s * noise)``.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        strength: range of the log-gain's standard deviation.

    Returns:
        Images. Shape: (B, 3, H, W); the same gain on all channels.
    """
    check_images(img)
    check_range("strength", strength, 0.0, 2.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s = pixel_generator(g, x), min(h, w)
    field = fbm(gd, n, h, w, (s / 1.5, s / 3), torch.ones(n, 2).to(x), x)
    return (x * torch.exp(_u(g, n, strength, x) * field)).clamp(0, 1)


@at_least_float32
def vignette(
    img: torch.Tensor, g: torch.Generator, *, strength: tuple[float, float] = (0.1, 0.5)
) -> torch.Tensor:
    """Vignetting: darker (or, one time in five, burnt-out lighter) towards the corners.

    Args:
        img: images in [0, 1].
        g: source of the per-image parameters.
        strength: range of the change in the corners (fraction of the way to black or white).

    Returns:
        Images. Shape: (B, 3, H, W); the same change on all channels.
    """
    check_images(img)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    ys, xs = coords(h, w, x)
    cy, cx = h * _u(g, n, (0.4, 0.6), x), w * _u(g, n, (0.4, 0.6), x)
    r2 = ((ys - cy) / (h / 2)) ** 2 + ((xs - cx) / (w / 2)) ** 2  # 2 at the corners
    k = _u(g, n, strength, x) * ((r2 - _u(g, n, (0.2, 0.8), x)).clamp_min(0) / 1.5).clamp(max=1)
    lighter = _u(g, n, (0, 1), x) < 0.2
    return torch.where(lighter, x + (1 - x) * k, x * (1 - k)).clamp(0, 1)


@at_least_float32
def silvering(
    img: torch.Tensor, g: torch.Generator, *, strength: tuple[float, float] = (0.15, 0.6)
) -> torch.Tensor:
    """Silver mirroring: a blue-grey metallic sheen over the dark areas, in patches and borders.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        strength: range of the blend towards the sheen where it is strongest.

    Returns:
        Images. Shape: (B, 3, H, W).
    """
    check_images(img)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s, (ys, xs) = pixel_generator(g, x), min(h, w), coords(h, w, x)
    border = torch.minimum(torch.minimum(ys, h - ys), torch.minimum(xs, w - xs)) / s
    patch = fbm(gd, n, h, w, (s / 3, s / 8, s / 24), torch.ones(n, 3).to(x), x)
    where = torch.sigmoid(2 * patch + 4 - 25 * border * _u(g, n, (0.3, 1.5), x))
    dark = (1 - to_gray(x)) ** 1.5
    sheen = _u(g, n, (0.45, 0.7), x) * _rgb((0.92, 0.97, 1.05), x)
    return (x + (sheen - x).clamp_min(0) * _u(g, n, strength, x) * where * dark).clamp(0, 1)


@at_least_float32
def foxing(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    area: tuple[float, float] = (0.002, 0.03),
    size: tuple[float, float] = (1.0, 5.0),
    strength: tuple[float, float] = (0.2, 0.6),
) -> torch.Tensor:
    """Foxing: scattered rust-brown spots with soft edges and darker cores.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        area: range of the spotted fraction of the image.
        size: range of the spot radius in pixels (the blur of the noise the spots come from).
        strength: range of the spots' opacity at their cores.

    Returns:
        Images. Shape: (B, 3, H, W).
    """
    check_images(img)
    check_range("area", area, 0.0, 0.5)
    check_range("size", size, 0.3, 50.0)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd = pixel_generator(g, x)
    sig = uniform(g, n, *size, x).view(n, 1).expand(n, 2)
    ks = 2 * math.ceil(3 * size[1]) + 1
    field = kornia.filters.gaussian_blur2d(smooth_noise(gd, n, h, w, 1.0, x), (ks, ks), sig)
    field = field / field.std((2, 3), keepdim=True).clamp_min(1e-6)
    spots = (field - quantile_threshold(field, uniform(g, n, *area, x))).clamp_min(0)
    spots = (spots / 0.8).clamp(max=1) ** 0.7 * _u(g, n, strength, x)
    rust = _rgb((0.72, 0.48, 0.3), x) * _u(g, n, (0.8, 1.1), x)
    return (x + (x * rust - x) * spots).clamp(0, 1)


@at_least_float32
def water_stains(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    area: tuple[float, float] = (0.03, 0.35),
    ring: tuple[float, float] = (0.04, 0.15),
    strength: tuple[float, float] = (0.1, 0.45),
) -> torch.Tensor:
    """Water stains: tinted blots with darker tide-line rings at their edges.

    The blot is where a smooth field (fractal noise, or for a third of the images round blots
    around a point: rust-like spots) exceeds the quantile that leaves ``area``; inside it the
    print is tinted brown, and along its edge (and a second, fainter edge inside) a ring darkens.

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        area: range of the stained fraction of the image.
        ring: range of the tide-line width, in units of the field (about its contrast).
        strength: range of the tint of the stain and the darkening of its ring.

    Returns:
        Images. Shape: (B, 3, H, W).
    """
    check_images(img)
    check_range("area", area, 0.0, 1.0)
    check_range("ring", ring, 0.001, 1.0)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd, s, (ys, xs) = pixel_generator(g, x), min(h, w), coords(h, w, x)
    weights = torch.tensor([1.0, 0.6, 0.3, 0.08]).to(x).expand(n, 4)
    field = fbm(gd, n, h, w, (s / 2, s / 4, s / 8, s / 32), weights, x)
    d = torch.sqrt((ys - _u(g, n, (0, h), x)) ** 2 + (xs - _u(g, n, (0, w), x)) ** 2) / s
    round_ = _u(g, n, (0, 1), x) < 0.33
    field = torch.where(round_, -6 * d + 0.4 * field, field)
    field = field / field.std((2, 3), keepdim=True).clamp_min(1e-6)
    z = field - quantile_threshold(field, uniform(g, n, *area, x))
    width = _u(g, n, ring, x)
    inner = _u(g, n, (0.2, 0.8), x)
    tide = torch.exp(-((z / width) ** 2)) + 0.5 * torch.exp(-(((z - inner) / width) ** 2))
    k = _u(g, n, strength, x)
    brown = _rgb((0.95, 0.82, 0.62), x)
    y = x + (x * brown - x) * (z > 0) * k * 0.6
    return (y * (1 - 0.8 * k * tide * _rgb((0.8, 1.0, 1.2), x).clamp(max=1))).clamp(0, 1)


@at_least_float32
def paper_texture(
    img: torch.Tensor, g: torch.Generator, *, strength: tuple[float, float] = (0.02, 0.08)
) -> torch.Tensor:
    """Paper and surface texture: fine fibrous mottle and a side-lit relief (e.g. silk or matte).

    Args:
        img: images in [0, 1].
        g: source of all randomness.
        strength: range of the relative change (std of the multiplicative texture).

    Returns:
        Images. Shape: (B, 3, H, W); the same factor on all channels.
    """
    check_images(img)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    gd = pixel_generator(g, x)
    mottle = fbm(gd, n, h, w, (8.0, 3.0, 1.5), torch.ones(n, 3).to(x), x)
    relief = fbm(gd, n, h, w, (4.0, 2.0), torch.ones(n, 2).to(x), x)
    theta = _u(g, n, (0, 2 * math.pi), x)
    grad = kornia.filters.spatial_gradient(relief)  # (n, 1, 2, h, w): d/dx, d/dy
    lit = grad[:, :, 0] * torch.cos(theta) + grad[:, :, 1] * torch.sin(theta)
    lit = lit / lit.std((2, 3), keepdim=True).clamp_min(1e-6)
    tex = 0.6 * mottle + 0.8 * lit * _u(g, n, (0.0, 1.0), x)
    return (x * (1 + _u(g, n, strength, x) * tex)).clamp(0, 1)


@at_least_float32
def halftone(
    img: torch.Tensor,
    g: torch.Generator,
    *,
    period: tuple[float, float] = (2.0, 4.0),
    strength: tuple[float, float] = (0.15, 0.5),
) -> torch.Tensor:
    """Halftone: the print reproduced through a rotated dot screen (newspapers, books).

    Args:
        img: images in [0, 1].
        g: source of the per-image screen.
        period: range of the screen period in pixels.
        strength: range of the blend between the original and the screened image.

    Returns:
        Images. Shape: (B, 3, H, W); the same screen on all channels.
    """
    check_images(img)
    check_range("period", period, 1.0, 100.0)
    check_range("strength", strength, 0.0, 1.0)
    x, (n, _, h, w) = img.clamp(0, 1), img.shape
    ys, xs = coords(h, w, x)
    theta = math.pi / 4 + _u(g, n, (-0.3, 0.3), x)
    f = 2 * math.pi / _u(g, n, period, x)
    u = (xs * torch.cos(theta) + ys * torch.sin(theta)) * f
    v = (-xs * torch.sin(theta) + ys * torch.cos(theta)) * f
    screen = 0.5 + 0.25 * (torch.cos(u) + torch.cos(v))
    dots = torch.sigmoid((x - screen) * 12)
    return (x + (dots - x) * _u(g, n, strength, x)).clamp(0, 1)


@at_least_float32
def low_resolution(
    img: torch.Tensor, g: torch.Generator, *, factor: tuple[float, float] = (1.5, 3.0)
) -> torch.Tensor:
    """A low-resolution scan: area-downscaled by ``factor``, then bilinear or bicubic back up.

    The factor and the upscaling filter are drawn once per batch (they decide the shape).

    Args:
        img: images in [0, 1].
        g: source of the factor.
        factor: range of the downscaling factor (>= 1).

    Returns:
        Images. Shape: (B, 3, H, W).
    """
    check_images(img)
    check_range("factor", factor, 1.0, 16.0)
    x, (_, _, h, w) = img.clamp(0, 1), img.shape
    f = float(host_uniform(g, 1, *factor)[0])
    mode = "bicubic" if float(host_uniform(g, 1, 0, 1)[0]) < 0.5 else "bilinear"
    small = F.interpolate(x, size=(max(1, round(h / f)), max(1, round(w / f))), mode="area")
    return F.interpolate(small, size=(h, w), mode=mode, align_corners=False).clamp(0, 1)
