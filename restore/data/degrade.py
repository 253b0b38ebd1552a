"""Batched, seeded image degradations that run on the images' device.

Three groups:

- Simple degradations used by the tasks: :func:`add_gaussian_noise`, :func:`add_poisson_noise`,
  :func:`jpeg`, :func:`gaussian_blur`, and the colorization inputs :func:`to_gray`,
  :func:`rgb_to_lab_l`.
- Real-ESRGAN's second-order degradation for blind super-resolution
  (:func:`second_order_degradation`, with :func:`random_kernel` and :func:`sinc_kernel`), after
  ``realesrgan/models/realesrnet_model.py`` and ``basicsr/data/degradations.py``.
- Old-photo damage (:func:`old_photo_damage`): fading, sepia, colour cast, grain, blur, scratches,
  dust, creases and JPEG, returning the damage mask a detector learns.

Conventions: images float32 (B, 3, H, W) in [0, 1]; outputs are clamped to [0, 1]. Random
parameters are drawn from the ``torch.Generator`` passed in, on the generator's device, then moved
to the images' device; pass a generator on the images' device (``torch.Generator(x.device)``) to
keep noise generation there. Nothing here names a device.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import kornia
import torch
import torch.nn.functional as F

from restore.data.masks import dust_masks, scratch_masks

__all__ = [
    "OLD_PHOTO_EFFECTS",
    "DegradationConfig",
    "OldPhotoConfig",
    "add_gaussian_noise",
    "add_poisson_noise",
    "gaussian_blur",
    "jpeg",
    "old_photo_damage",
    "random_kernel",
    "rgb_to_lab_l",
    "second_order_degradation",
    "sinc_kernel",
    "to_gray",
]

KERNEL_TYPES = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
_RESIZE_MODES = ("area", "bilinear", "bicubic")


# ---------------------------------------------------------------------------- helpers


def check_images(img: torch.Tensor, name: str = "img") -> None:
    """Raise ValueError unless ``img`` is a floating (B, 3, H, W) tensor."""
    if not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[1] != 3:
        shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
        raise ValueError(f"{name} must be a (B, 3, H, W) tensor, got {shape}")
    if not img.is_floating_point():
        raise ValueError(f"{name} must be floating point in [0, 1], got {img.dtype}")


def _uniform(g: torch.Generator, n: int, lo: float, hi: float, like: torch.Tensor) -> torch.Tensor:
    """n values uniform in [lo, hi) drawn from g, on like's device and dtype."""
    u = torch.rand(n, generator=g, device=g.device, dtype=torch.float32)
    return (lo + (hi - lo) * u).to(device=like.device, dtype=like.dtype)


def _bernoulli(g: torch.Generator, n: int, p: float, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, generator=g, device=g.device).to(like.device) < p


def _per_image(v: float | torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    """A scalar or (B,) value as a (B, 1, 1, 1) tensor on img's device."""
    t = torch.as_tensor(v, dtype=img.dtype, device=img.device)
    if t.ndim == 0:
        t = t.expand(img.shape[0])
    if t.shape != (img.shape[0],):
        raise ValueError(
            f"per-image value must be a scalar or shape ({img.shape[0]},), got {tuple(t.shape)}"
        )
    return t.view(-1, 1, 1, 1)


def _choice(g: torch.Generator, probs: tuple[float, ...]) -> int:
    """One index drawn with the given probabilities (a host value: it decides shapes)."""
    return int(torch.multinomial(torch.tensor(probs, device=g.device), 1, generator=g).item())


def _scalar(g: torch.Generator, lo: float, hi: float) -> float:
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
    return (img + noise * _per_image(sigma, img)).clamp(0, 1)


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
    return (x + noise * _per_image(scale, img)).clamp(0, 1)


def jpeg(img: torch.Tensor, quality: float | torch.Tensor) -> torch.Tensor:
    """JPEG encode-decode with kornia's differentiable codec (standard tables, 4:2:0).

    Args:
        img: images in [0, 1] (clamped first).
        quality: JPEG quality in [1, 100], scalar or per image (B,).

    Returns:
        Decoded images in [0, 1]. Shape: (B, 3, H, W); any H, W (the codec pads internally).
    """
    check_images(img)
    q = _per_image(quality, img).view(-1).float()
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
    s = _per_image(sigma, img).view(-1)
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


# ------------------------------------------------------------------------- kernels


def _support(sizes: torch.Tensor, max_size: int) -> torch.Tensor:
    """(N, max_size, max_size) 0/1 window of side sizes[i] centred in the grid."""
    ax = (torch.arange(max_size, device=sizes.device) - (max_size - 1) // 2).abs()
    inside = ax[None] <= (sizes[:, None] - 1) // 2
    return (inside[:, :, None] & inside[:, None, :]).float()


def sinc_kernel(
    cutoff: torch.Tensor, kernel_size: int | torch.Tensor = 21, max_size: int = 21
) -> torch.Tensor:
    """2D circular low-pass (sinc) kernels, as basicsr's ``circular_lowpass_kernel``.

    ``k(r) = cutoff * J1(cutoff * r) / (2 pi r)``, zero outside the ``kernel_size`` window,
    normalised to sum 1 (it has negative lobes: it rings like real resampling filters).

    Args:
        cutoff: (N,) angular cut-off frequencies in (0, pi].
        kernel_size: odd window side, scalar or (N,) ints, <= max_size.
        max_size: side of the returned (zero-padded) kernels.

    Returns:
        (N, max_size, max_size) kernels.
    """
    cutoff = cutoff.float()
    sizes = torch.as_tensor(kernel_size, device=cutoff.device).expand(cutoff.shape[0])
    ax = torch.arange(max_size, device=cutoff.device, dtype=cutoff.dtype) - (max_size - 1) / 2
    r = torch.sqrt(ax[:, None] ** 2 + ax[None, :] ** 2)[None]
    c = cutoff.view(-1, 1, 1)
    k = c * torch.special.bessel_j1(c * r) / (2 * math.pi * r.clamp_min(1e-12))
    centre = (max_size - 1) // 2
    k[:, centre, centre] = cutoff**2 / (4 * math.pi)
    k = k * _support(sizes, max_size)
    return k / k.sum((1, 2), keepdim=True)


def random_kernel(
    n: int,
    *,
    generator: torch.Generator,
    kernel_sizes: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21),
    kernel_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03),
    sigma_range: tuple[float, float] = (0.2, 3.0),
    betag_range: tuple[float, float] = (0.5, 4.0),
    betap_range: tuple[float, float] = (1.0, 2.0),
    sinc_prob: float = 0.1,
    like: torch.Tensor | None = None,
) -> torch.Tensor:
    """Real-ESRGAN's random blur kernels, one per sample.

    Per sample: a size from ``kernel_sizes``; with probability ``sinc_prob`` a sinc kernel
    (cut-off in [pi/3, pi] below size 13, [pi/5, pi] above), else a type from
    :data:`KERNEL_TYPES` with ``kernel_probs``: Gaussian ``exp(-q/2)``, generalized Gaussian
    ``exp(-q**beta/2)`` or plateau ``1/(1 + q**beta)``, where ``q = x^T Sigma^-1 x``; isotropic
    types use one sigma, anisotropic ones two sigmas and a rotation in [-pi, pi].

    Args:
        n: number of kernels.
        generator: source of all parameters.
        kernel_sizes, kernel_probs, sigma_range, betag_range, betap_range, sinc_prob:
            Real-ESRGAN's options (first-round defaults).
        like: put the kernels on this tensor's device and dtype (default: the generator's).

    Returns:
        (n, max(kernel_sizes), max(kernel_sizes)) kernels, each summing to 1.
    """
    if len(kernel_probs) != len(KERNEL_TYPES) or any(s % 2 == 0 for s in kernel_sizes):
        raise ValueError(f"need {len(KERNEL_TYPES)} kernel_probs and odd kernel_sizes")
    g = generator
    ref = torch.empty(0, device=g.device) if like is None else like
    max_size = max(kernel_sizes)
    sizes_t = torch.tensor(kernel_sizes, device=g.device)
    sizes = sizes_t[torch.randint(len(kernel_sizes), (n,), generator=g, device=g.device)]
    probs = torch.tensor(kernel_probs, device=g.device, dtype=torch.float32)
    kind = torch.multinomial(probs, n, replacement=True, generator=g)
    u = torch.rand(6, n, generator=g, device=g.device)
    sig_x = sigma_range[0] + (sigma_range[1] - sigma_range[0]) * u[0]
    sig_y = sigma_range[0] + (sigma_range[1] - sigma_range[0]) * u[1]
    theta = (2 * u[2] - 1) * math.pi
    iso = kind % 2 == 0
    sig_y = torch.where(iso, sig_x, sig_y)
    theta = torch.where(iso, torch.zeros_like(theta), theta)
    # basicsr: beta in [lo, 1) or [1, hi) with equal odds
    below = u[3] < 0.5
    beta_g = torch.where(
        below, betag_range[0] + (1 - betag_range[0]) * u[4], 1 + (betag_range[1] - 1) * u[4]
    )
    beta_p = torch.where(
        below, betap_range[0] + (1 - betap_range[0]) * u[4], 1 + (betap_range[1] - 1) * u[4]
    )
    beta = torch.where(kind < 2, torch.ones_like(beta_g), torch.where(kind < 4, beta_g, beta_p))

    ax = torch.arange(max_size, device=g.device, dtype=torch.float32) - (max_size - 1) / 2
    yy, xx = torch.meshgrid(ax, ax, indexing="ij")
    c, s = torch.cos(theta).view(-1, 1, 1), torch.sin(theta).view(-1, 1, 1)
    ix, iy = 1 / sig_x.view(-1, 1, 1) ** 2, 1 / sig_y.view(-1, 1, 1) ** 2
    a, b, d = c * c * ix + s * s * iy, c * s * (ix - iy), s * s * ix + c * c * iy
    q = (a * xx**2 + 2 * b * xx * yy + d * yy**2).clamp_min(0)
    qb = q ** beta.view(-1, 1, 1)
    k = torch.where((kind >= 4).view(-1, 1, 1), 1 / (1 + qb), torch.exp(-0.5 * qb))
    k = k * _support(sizes, max_size)
    k = k / k.sum((1, 2), keepdim=True)

    is_sinc = u[5] < sinc_prob
    if bool(is_sinc.any()):
        lo = torch.where(sizes < 13, math.pi / 3, math.pi / 5)
        cutoff = lo + (math.pi - lo) * torch.rand(n, generator=g, device=g.device)
        k = torch.where(is_sinc.view(-1, 1, 1), sinc_kernel(cutoff, sizes, max_size), k)
    return k.to(device=ref.device, dtype=ref.dtype if ref.is_floating_point() else torch.float32)


# ------------------------------------------------------------ second-order degradation


@dataclass(frozen=True)
class DegradationConfig:
    """Real-ESRGAN's degradation options (``options/train_realesrgan_x4plus.yml`` defaults).

    Noise sigmas are in 8-bit units (``noise_range=(1, 30)`` means sigma 1/255 to 30/255).
    ``resize_prob`` is (up, down, keep). ``*2`` fields configure the second round.
    """

    kernel_sizes: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21)
    kernel_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    sinc_prob: float = 0.1
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)
    resize_range: tuple[float, float] = (0.15, 1.5)
    gaussian_noise_prob: float = 0.5
    noise_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_range: tuple[float, float] = (30.0, 95.0)

    second_blur_prob: float = 0.8
    blur_sigma2: tuple[float, float] = (0.2, 1.5)
    betag_range2: tuple[float, float] = (0.5, 4.0)
    betap_range2: tuple[float, float] = (1.0, 2.0)
    sinc_prob2: float = 0.1
    resize_prob2: tuple[float, float, float] = (0.3, 0.4, 0.3)
    resize_range2: tuple[float, float] = (0.3, 1.2)
    gaussian_noise_prob2: float = 0.5
    noise_range2: tuple[float, float] = (1.0, 25.0)
    poisson_scale_range2: tuple[float, float] = (0.05, 2.5)
    gray_noise_prob2: float = 0.4
    jpeg_range2: tuple[float, float] = (30.0, 95.0)

    final_sinc_prob: float = 0.8
    quantize: bool = True  # round the output to 8 bits, as Real-ESRGAN does

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("resize_prob"):
                if len(v) != 3 or min(v) < 0 or sum(v) <= 0:
                    raise ValueError(
                        f"{f.name} must be 3 non-negative weights (up, down, keep), got {v}"
                    )
            elif f.name.endswith(("_prob", "_prob2")) and not 0.0 <= v <= 1.0:
                raise ValueError(f"{f.name} must be in [0, 1], got {v}")
            elif (
                f.name.endswith(("_range", "_range2", "sigma", "sigma2")) and not 0 <= v[0] <= v[1]
            ):
                raise ValueError(f"{f.name} must be (lo, hi) with 0 <= lo <= hi, got {v}")


def _degrade_round(
    x: torch.Tensor, g: torch.Generator, cfg: DegradationConfig, second: bool, size: tuple[int, int]
) -> torch.Tensor:
    """Blur, random resize, noise, JPEG: one round of the Real-ESRGAN pipeline."""
    n = x.shape[0]
    sfx = "2" if second else ""
    kernel = random_kernel(
        n,
        generator=g,
        kernel_sizes=cfg.kernel_sizes,
        kernel_probs=cfg.kernel_probs,
        sigma_range=getattr(cfg, "blur_sigma" + sfx),
        betag_range=getattr(cfg, "betag_range" + sfx),
        betap_range=getattr(cfg, "betap_range" + sfx),
        sinc_prob=getattr(cfg, "sinc_prob" + sfx),
        like=x,
    )
    if second:  # the second blur is skipped per image with probability 1 - second_blur_prob
        skip = ~_bernoulli(g, n, cfg.second_blur_prob, x)
        pulse = torch.zeros_like(kernel[:1])
        pulse[:, kernel.shape[1] // 2, kernel.shape[2] // 2] = 1
        kernel = torch.where(skip.view(-1, 1, 1), pulse, kernel)
    x = kornia.filters.filter2d(x, kernel)

    updown = _choice(g, getattr(cfg, "resize_prob" + sfx))
    lo, hi = getattr(cfg, "resize_range" + sfx)
    factor = (_scalar(g, 1, hi), _scalar(g, lo, 1), 1.0)[updown]
    mode = _RESIZE_MODES[_choice(g, (1 / 3, 1 / 3, 1 / 3))]
    out_size = tuple(max(1, int(s * factor)) for s in size)
    x = F.interpolate(x, size=out_size, mode=mode) if out_size != x.shape[-2:] else x

    gray = _bernoulli(g, n, getattr(cfg, "gray_noise_prob" + sfx), x)
    if _scalar(g, 0, 1) < getattr(cfg, "gaussian_noise_prob" + sfx):
        sigma = _uniform(g, n, *getattr(cfg, "noise_range" + sfx), x) / 255.0
        x = add_gaussian_noise(x, sigma, generator=g, gray=gray)
    else:
        scale = _uniform(g, n, *getattr(cfg, "poisson_scale_range" + sfx), x)
        x = add_poisson_noise(x, scale, generator=g, gray=gray)
    return x


def second_order_degradation(
    hr: torch.Tensor,
    scale: int,
    *,
    generator: torch.Generator,
    config: DegradationConfig | None = None,
) -> torch.Tensor:
    """Real-ESRGAN's high-order degradation: HR image -> realistic LR image.

    Round 1: random kernel blur, random resize (up/down/keep, area/bilinear/bicubic), Gaussian or
    Poisson noise (colour or gray), JPEG. Round 2: the same with milder ranges, the blur skipped
    with probability ``1 - second_blur_prob``, resized relative to ``hr / scale``. Final stage,
    in random order: (resize to ``hr / scale`` + sinc filter with probability ``final_sinc_prob``)
    and JPEG. Kernels, noise levels, gray/colour and JPEG qualities are drawn per image; the
    resize factors, modes and the noise type per batch (as in Real-ESRGAN: they set shapes).

    Args:
        hr: high-resolution images in [0, 1]; H and W divisible by ``scale``.
        scale: downscaling factor (2 or 4 typically).
        generator: source of all randomness.
        config: the option ranges; default :class:`DegradationConfig`.

    Returns:
        LR images in [0, 1] (quantized to 8-bit levels when ``config.quantize``).

    Shape:
        (B, 3, H, W) -> (B, 3, H // scale, W // scale).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> second_order_degradation(torch.rand(2, 3, 64, 64), 4, generator=g).shape
        torch.Size([2, 3, 16, 16])
    """
    check_images(hr, "hr")
    cfg = config or DegradationConfig()
    h, w = hr.shape[-2:]
    if scale < 1 or h % scale or w % scale:
        raise ValueError(f"hr size {(h, w)} must be divisible by scale {scale}")
    g, n = generator, hr.shape[0]
    lr_size = (h // scale, w // scale)

    x = _degrade_round(hr, g, cfg, second=False, size=(h, w))
    x = jpeg(x, _uniform(g, n, *cfg.jpeg_range, x))
    x = _degrade_round(x, g, cfg, second=True, size=lr_size)

    max_size = max(cfg.kernel_sizes)
    sizes = torch.tensor(cfg.kernel_sizes, device=g.device)
    sizes = sizes[torch.randint(len(cfg.kernel_sizes), (n,), generator=g, device=g.device)]
    cutoff = math.pi / 3 + (2 * math.pi / 3) * torch.rand(n, generator=g, device=g.device)
    sinc = sinc_kernel(cutoff, sizes, max_size).to(x)
    pulse = torch.zeros_like(sinc[:1])
    pulse[:, max_size // 2, max_size // 2] = 1
    sinc = torch.where(_bernoulli(g, n, cfg.final_sinc_prob, x).view(-1, 1, 1), sinc, pulse)
    quality = _uniform(g, n, *cfg.jpeg_range2, x)
    mode = _RESIZE_MODES[_choice(g, (1 / 3, 1 / 3, 1 / 3))]
    if _scalar(g, 0, 1) < 0.5:  # resize + sinc, then JPEG
        x = kornia.filters.filter2d(F.interpolate(x, size=lr_size, mode=mode), sinc)
        x = jpeg(x, quality)
    else:  # JPEG, then resize + sinc
        x = jpeg(x, quality)
        x = kornia.filters.filter2d(F.interpolate(x, size=lr_size, mode=mode), sinc)
    x = x.clamp(0, 1)
    return (x * 255).round() / 255 if cfg.quantize else x


# ------------------------------------------------------------------ old-photo damage

OLD_PHOTO_EFFECTS = ("fade", "sepia", "cast", "grain", "blur", "scratch", "dust", "crease", "jpeg")


@dataclass(frozen=True)
class OldPhotoConfig:
    """Probabilities (per image) and ranges of the old-photo effects.

    Set an effect's ``*_prob`` to 0 to switch it off; :meth:`only` keeps one effect.
    Ratios are hole ratios of the damage masks (fraction of pixels).
    """

    grain_prob: float = 0.8
    grain_sigma: tuple[float, float] = (0.01, 0.05)  # std at mid-grey, image units
    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.3, 1.2)
    fade_prob: float = 0.8
    fade_range: tuple[float, float] = (0.1, 0.5)  # contrast lost towards the grey
    fade_grey: tuple[float, float] = (0.55, 0.8)  # lifted grey the print fades to
    sepia_prob: float = 0.5
    sepia_range: tuple[float, float] = (0.3, 1.0)  # blend weight of the sepia toning
    cast_prob: float = 0.3
    cast_range: float = 0.08  # per-channel gain in [1 - c, 1 + c]
    scratch_prob: float = 0.7
    scratch_ratio: tuple[float, float] = (0.002, 0.02)
    dust_prob: float = 0.6
    dust_ratio: tuple[float, float] = (0.0005, 0.005)
    crease_prob: float = 0.3
    crease_ratio: tuple[float, float] = (0.003, 0.015)
    jpeg_prob: float = 0.5
    jpeg_range: tuple[float, float] = (40.0, 90.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.endswith("_prob") and not 0.0 <= v <= 1.0:
                raise ValueError(f"{f.name} must be in [0, 1], got {v}")
            if isinstance(v, tuple) and not 0 <= v[0] <= v[1]:
                raise ValueError(f"{f.name} must be (lo, hi) with 0 <= lo <= hi, got {v}")
        if not 1 <= self.jpeg_range[0] <= self.jpeg_range[1] <= 100:
            raise ValueError(f"jpeg_range must be within [1, 100], got {self.jpeg_range}")

    @classmethod
    def only(cls, *effects: str) -> OldPhotoConfig:
        """A config applying exactly ``effects`` (names from ``OLD_PHOTO_EFFECTS``) to every image."""
        bad = [e for e in effects if e not in OLD_PHOTO_EFFECTS]
        if bad:
            raise ValueError(f"unknown effects {bad}; known: {OLD_PHOTO_EFFECTS}")
        return replace(cls(), **{f"{e}_prob": float(e in effects) for e in OLD_PHOTO_EFFECTS})


_SEPIA = ((0.393, 0.769, 0.189), (0.349, 0.686, 0.168), (0.272, 0.534, 0.131))


def _paint(
    x: torch.Tensor, m: torch.Tensor, g: torch.Generator, bright_prob: float
) -> torch.Tensor:
    """Paint mask m onto x: per image bright or dark, opaque-ish, with a little texture."""
    n = x.shape[0]
    bright = _bernoulli(g, n, bright_prob, x).view(-1, 1, 1, 1)
    level = torch.where(
        bright,
        _uniform(g, n, 0.8, 1.0, x).view(-1, 1, 1, 1),
        _uniform(g, n, 0.0, 0.2, x).view(-1, 1, 1, 1),
    )
    alpha = _uniform(g, n, 0.75, 1.0, x).view(-1, 1, 1, 1)
    texture = 0.05 * torch.randn(m.shape, generator=g, device=g.device).to(x)
    paint = (level + texture).clamp(0, 1)
    return torch.where(m > 0, x * (1 - alpha) + paint * alpha, x)


def old_photo_damage(
    img: torch.Tensor,
    *,
    generator: torch.Generator,
    config: OldPhotoConfig | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Make clean photos look like old damaged prints, and say where they were destroyed.

    In order, each with its own per-image probability: film grain (monochrome, strongest in the
    mid-tones), mild blur, fading (contrast loss towards a lifted grey), sepia toning, colour cast,
    then local damage painted over the picture: scratches (long thin mostly vertical lines, bright
    or dark), dust (specks and hairs) and creases (long thin lines in any direction), and last a
    JPEG round trip (the scan). Only scratches, dust and creases enter the mask; the global effects
    do not.

    Args:
        img: clean images in [0, 1].
        generator: source of all randomness.
        config: probabilities and ranges; default :class:`OldPhotoConfig`.

    Returns:
        ``(damaged, mask)``: damaged images in [0, 1], and the damage mask, float32 in {0, 1},
        1 where scratches, dust or creases destroyed the pixel.

    Shape:
        (B, 3, H, W) -> ((B, 3, H, W), (B, 1, H, W)).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> out, mask = old_photo_damage(torch.rand(2, 3, 64, 64), generator=g)
        >>> out.shape, mask.shape
        (torch.Size([2, 3, 64, 64]), torch.Size([2, 1, 64, 64]))
    """
    check_images(img)
    cfg = config or OldPhotoConfig()
    g, (n, _, h, w) = generator, img.shape
    x = img.clamp(0, 1)

    def pick(p: float) -> torch.Tensor:  # (B, 1, 1, 1) bool: which images get the effect
        return _bernoulli(g, n, p, x).view(-1, 1, 1, 1)

    if cfg.grain_prob > 0:
        on, y = pick(cfg.grain_prob), to_gray(x)
        std = _uniform(g, n, *cfg.grain_sigma, x).view(-1, 1, 1, 1)
        std = std * (0.25 + 1.5 * torch.sqrt(y * (1 - y)))  # 1.0 x at mid-grey, 0.25 x at ends
        noise = torch.randn(y.shape, generator=g, device=g.device).to(x)
        x = torch.where(on, (x + noise * std).clamp(0, 1), x)
    if cfg.blur_prob > 0:
        on = pick(cfg.blur_prob)
        x = torch.where(on, gaussian_blur(x, _uniform(g, n, *cfg.blur_sigma, x), 7), x)
    if cfg.fade_prob > 0:
        on = pick(cfg.fade_prob)
        amount = _uniform(g, n, *cfg.fade_range, x).view(-1, 1, 1, 1)
        grey = _uniform(g, n, *cfg.fade_grey, x).view(-1, 1, 1, 1)
        x = torch.where(on, grey + (x - grey) * (1 - amount), x)
    if cfg.sepia_prob > 0:
        on = pick(cfg.sepia_prob)
        sepia = torch.einsum("ij,bjhw->bihw", torch.tensor(_SEPIA).to(x), x).clamp(0, 1)
        k = _uniform(g, n, *cfg.sepia_range, x).view(-1, 1, 1, 1)
        x = torch.where(on, x * (1 - k) + sepia * k, x)
    if cfg.cast_prob > 0:
        on = pick(cfg.cast_prob)
        gain = 1 + cfg.cast_range * (2 * torch.rand(n, 3, 1, 1, generator=g, device=g.device) - 1)
        x = torch.where(on, (x * gain.to(x)).clamp(0, 1), x)

    mask = torch.zeros(n, 1, h, w, dtype=torch.float32, device=img.device)
    layers = (
        (
            cfg.scratch_prob,
            0.7,
            lambda: scratch_masks(n, h, w, hole_range=cfg.scratch_ratio, generator=g),
        ),
        (cfg.dust_prob, 0.5, lambda: dust_masks(n, h, w, hole_range=cfg.dust_ratio, generator=g)),
        (
            cfg.crease_prob,
            0.6,
            lambda: scratch_masks(
                n,
                h,
                w,
                hole_range=cfg.crease_ratio,
                max_angle=90.0,
                thickness=(2, 4),
                bend=0.01,
                generator=g,
            ),
        ),
    )
    for prob, bright_prob, make in layers:
        if prob > 0:
            m = make().to(img.device) * pick(prob)
            x = _paint(x, m, g, bright_prob)
            mask = torch.maximum(mask, m)

    if cfg.jpeg_prob > 0:
        on = pick(cfg.jpeg_prob)
        x = torch.where(on, jpeg(x, _uniform(g, n, *cfg.jpeg_range, x)), x)
    return x.clamp(0, 1), mask
