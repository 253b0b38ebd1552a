"""The simple degradations the tasks use, and the seeded draws every degradation shares.

:func:`add_gaussian_noise`, :func:`add_poisson_noise`, :func:`jpeg`, :func:`gaussian_blur`, and
the colorization inputs :func:`to_gray` and :func:`rgb_to_lab_l`. The draws (:func:`uniform`,
:func:`bernoulli`, :func:`choice`, :func:`scalar`) take values from the caller's
``torch.Generator`` on its device and move them to the images' device. Conventions as in
:mod:`restore.data.degrade`.
"""

from __future__ import annotations

import math

import kornia
import torch

# ---------------------------------------------------------------------------- helpers


def check_images(img: torch.Tensor, name: str = "img") -> None:
    """Raise ValueError unless ``img`` is a floating (B, 3, H, W) tensor."""
    if not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[1] != 3:
        shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
        raise ValueError(f"{name} must be a (B, 3, H, W) tensor, got {shape}")
    if not img.is_floating_point():
        raise ValueError(f"{name} must be floating point in [0, 1], got {img.dtype}")


def uniform(g: torch.Generator, n: int, lo: float, hi: float, like: torch.Tensor) -> torch.Tensor:
    """n values uniform in [lo, hi) drawn from g, on like's device and dtype."""
    u = torch.rand(n, generator=g, device=g.device, dtype=torch.float32)
    return (lo + (hi - lo) * u).to(device=like.device, dtype=like.dtype)


def bernoulli(g: torch.Generator, n: int, p: float, like: torch.Tensor) -> torch.Tensor:
    """n booleans, each True with probability p, drawn from g, on like's device."""
    return torch.rand(n, generator=g, device=g.device).to(like.device) < p


def per_image(v: float | torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    """A scalar or (B,) value as a (B, 1, 1, 1) tensor on img's device."""
    t = torch.as_tensor(v, dtype=img.dtype, device=img.device)
    if t.ndim == 0:
        t = t.expand(img.shape[0])
    if t.shape != (img.shape[0],):
        raise ValueError(
            f"per-image value must be a scalar or shape ({img.shape[0]},), got {tuple(t.shape)}"
        )
    return t.view(-1, 1, 1, 1)


def choice(g: torch.Generator, probs: tuple[float, ...]) -> int:
    """One index drawn with the given probabilities (a host value: it decides shapes)."""
    return int(torch.multinomial(torch.tensor(probs, device=g.device), 1, generator=g).item())


def scalar(g: torch.Generator, lo: float, hi: float) -> float:
    """One value uniform in [lo, hi) drawn from g (a host value)."""
    return lo + (hi - lo) * float(torch.rand((), generator=g, device=g.device).item())


# ---------------------------------------------------------------------- simple ops


def add_gaussian_noise(
    img: torch.Tensor,
    sigma: float | torch.Tensor,
    *,
    generator: torch.Generator,
    gray: bool | torch.Tensor = False,
) -> torch.Tensor:
    """Add zero-mean Gaussian noise and clamp.

    Args:
        img: images in [0, 1].
        sigma: standard deviation in image units (25/255 for "sigma 25"), scalar or per image (B,).
        generator: source of the noise.
        gray: same noise on the three channels (luminance noise); bool or per image (B,) bool.

    Returns:
        Noisy images, clamped to [0, 1].

    Shape:
        (B, 3, H, W) -> (B, 3, H, W).
    """
    check_images(img)
    noise = torch.randn(img.shape, generator=generator, device=generator.device, dtype=img.dtype)
    noise = noise.to(img.device)
    gray_t = torch.as_tensor(gray, device=img.device).view(-1, 1, 1, 1)
    noise = torch.where(gray_t, noise[:, :1].expand_as(noise), noise)
    return (img + noise * per_image(sigma, img)).clamp(0, 1)


def add_poisson_noise(
    img: torch.Tensor,
    scale: float | torch.Tensor = 1.0,
    *,
    generator: torch.Generator,
    gray: bool | torch.Tensor = False,
    levels: float = 256.0,
) -> torch.Tensor:
    """Add signal-dependent (shot) noise as Real-ESRGAN does, and clamp.

    The noise is ``poisson(img * levels) / levels - img`` times ``scale``: its variance grows with
    the intensity. Real-ESRGAN sets ``levels`` from the count of distinct values (256 for 8-bit
    images); here it is a constant.

    Args:
        img: images in [0, 1].
        scale: noise multiplier, scalar or per image (B,); Real-ESRGAN draws it in [0.05, 3].
        generator: source of the noise.
        gray: noise computed on the luminance and shared by the channels; bool or per image (B,).
        levels: photon count at white.

    Returns:
        Noisy images, clamped to [0, 1]. Shape: (B, 3, H, W).
    """
    check_images(img)
    x = img.clamp(0, 1)
    src = torch.cat([x, to_gray(x)], 1)
    counts = torch.poisson(src.to(generator.device) * levels, generator=generator)
    noise = counts.to(img.device) / levels - src
    gray_t = torch.as_tensor(gray, device=img.device).view(-1, 1, 1, 1)
    noise = torch.where(gray_t, noise[:, 3:].expand_as(x), noise[:, :3])
    return (x + noise * per_image(scale, img)).clamp(0, 1)


def jpeg(img: torch.Tensor, quality: float | torch.Tensor) -> torch.Tensor:
    """JPEG encode-decode with kornia's differentiable codec (standard tables, 4:2:0).

    Args:
        img: images in [0, 1] (clamped first).
        quality: JPEG quality in [1, 100], scalar or per image (B,).

    Returns:
        Decoded images in [0, 1]. Shape: (B, 3, H, W); any H, W (the codec pads internally).
    """
    check_images(img)
    q = per_image(quality, img).view(-1).float()
    if bool(((q < 1) | (q > 100)).any()):
        raise ValueError(f"quality must be in [1, 100], got {q.tolist()}")
    out = kornia.enhance.jpeg_codec_differentiable(img.clamp(0, 1).float(), q)
    return out.to(img.dtype).clamp(0, 1)


def gaussian_kernel(sigma: torch.Tensor, size: int) -> torch.Tensor:
    """Isotropic Gaussian kernels, one per sigma, normalised to sum 1.

    Args:
        sigma: (N,) standard deviations in pixels (> 0).
        size: odd kernel side.

    Returns:
        (N, size, size) kernels.
    """
    ax = torch.arange(size, device=sigma.device, dtype=sigma.dtype) - (size - 1) / 2
    k1 = torch.exp(-0.5 * (ax[None] / sigma[:, None]) ** 2)
    k = k1[:, :, None] * k1[:, None, :]
    return k / k.sum((1, 2), keepdim=True)


def gaussian_blur(
    img: torch.Tensor, sigma: float | torch.Tensor, kernel_size: int | None = None
) -> torch.Tensor:
    """Gaussian blur with one sigma per image (reflect padding).

    Args:
        img: images in [0, 1].
        sigma: standard deviation in pixels (> 0), scalar or per image (B,).
        kernel_size: odd kernel side; default ``2 * ceil(3 * max(sigma)) + 1``.

    Returns:
        Blurred images in [0, 1]. Shape: (B, 3, H, W).
    """
    check_images(img)
    s = per_image(sigma, img).view(-1)
    if bool((s <= 0).any()):
        raise ValueError(f"sigma must be > 0, got {s.tolist()}")
    size = kernel_size or 2 * math.ceil(3 * float(s.max())) + 1
    if size % 2 == 0:
        raise ValueError(f"kernel_size must be odd, got {size}")
    return kornia.filters.filter2d(img, gaussian_kernel(s, size)).clamp(0, 1)


def to_gray(img: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B), the colorization input.

    Shape: (B, 3, H, W) -> (B, 1, H, W); values in [0, 1].
    """
    check_images(img)
    return kornia.color.rgb_to_grayscale(img)


def rgb_to_lab_l(img: torch.Tensor, *, normalize: bool = True) -> torch.Tensor:
    """CIE L* (D65) of sRGB images, via ``kornia.color.rgb_to_lab``.

    Args:
        img: sRGB images in [0, 1].
        normalize: divide by 100 so the result is in [0, 1]; otherwise L* in [0, 100].

    Shape: (B, 3, H, W) -> (B, 1, H, W).
    """
    check_images(img)
    lum = kornia.color.rgb_to_lab(img.clamp(0, 1))[:, :1]
    return lum / 100.0 if normalize else lum
