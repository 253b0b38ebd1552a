"""Real-ESRGAN's second-order degradation for blind super-resolution, and its random kernels.

:func:`second_order_degradation` (HR -> realistic LR), with :func:`random_kernel` and
:func:`sinc_kernel`, after ``realesrgan/models/realesrnet_model.py`` and
``basicsr/data/degradations.py``. Conventions as in :mod:`restore.data.degrade`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import kornia
import torch
import torch.nn.functional as F

from restore.data.degrade.ops import (
    add_gaussian_noise,
    add_poisson_noise,
    bernoulli,
    check_images,
    choice,
    jpeg,
    scalar,
    uniform,
)

KERNEL_TYPES = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
_RESIZE_MODES = ("area", "bilinear", "bicubic")


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
        skip = ~bernoulli(g, n, cfg.second_blur_prob, x)
        pulse = torch.zeros_like(kernel[:1])
        pulse[:, kernel.shape[1] // 2, kernel.shape[2] // 2] = 1
        kernel = torch.where(skip.view(-1, 1, 1), pulse, kernel)
    x = kornia.filters.filter2d(x, kernel)

    updown = choice(g, getattr(cfg, "resize_prob" + sfx))
    lo, hi = getattr(cfg, "resize_range" + sfx)
    factor = (scalar(g, 1, hi), scalar(g, lo, 1), 1.0)[updown]
    mode = _RESIZE_MODES[choice(g, (1 / 3, 1 / 3, 1 / 3))]
    out_size = tuple(max(1, int(s * factor)) for s in size)
    x = F.interpolate(x, size=out_size, mode=mode) if out_size != x.shape[-2:] else x

    gray = bernoulli(g, n, getattr(cfg, "gray_noise_prob" + sfx), x)
    if scalar(g, 0, 1) < getattr(cfg, "gaussian_noise_prob" + sfx):
        sigma = uniform(g, n, *getattr(cfg, "noise_range" + sfx), x) / 255.0
        x = add_gaussian_noise(x, sigma, generator=g, gray=gray)
    else:
        scale = uniform(g, n, *getattr(cfg, "poisson_scale_range" + sfx), x)
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
    x = jpeg(x, uniform(g, n, *cfg.jpeg_range, x))
    x = _degrade_round(x, g, cfg, second=True, size=lr_size)

    max_size = max(cfg.kernel_sizes)
    sizes = torch.tensor(cfg.kernel_sizes, device=g.device)
    sizes = sizes[torch.randint(len(cfg.kernel_sizes), (n,), generator=g, device=g.device)]
    cutoff = math.pi / 3 + (2 * math.pi / 3) * torch.rand(n, generator=g, device=g.device)
    sinc = sinc_kernel(cutoff, sizes, max_size).to(x)
    pulse = torch.zeros_like(sinc[:1])
    pulse[:, max_size // 2, max_size // 2] = 1
    sinc = torch.where(bernoulli(g, n, cfg.final_sinc_prob, x).view(-1, 1, 1), sinc, pulse)
    quality = uniform(g, n, *cfg.jpeg_range2, x)
    mode = _RESIZE_MODES[choice(g, (1 / 3, 1 / 3, 1 / 3))]
    if scalar(g, 0, 1) < 0.5:  # resize + sinc, then JPEG
        x = kornia.filters.filter2d(F.interpolate(x, size=lr_size, mode=mode), sinc)
        x = jpeg(x, quality)
    else:  # JPEG, then resize + sinc
        x = jpeg(x, quality)
        x = kornia.filters.filter2d(F.interpolate(x, size=lr_size, mode=mode), sinc)
    x = x.clamp(0, 1)
    return (x * 255).round() / 255 if cfg.quantize else x
