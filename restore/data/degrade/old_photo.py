"""Old-photo damage: fading, sepia, colour cast, grain, blur, scratches, dust, creases and JPEG.

:func:`old_photo_damage` returns the damaged images and the damage mask a detector learns (only
scratches, dust and creases enter it). Conventions as in :mod:`restore.data.degrade`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from restore.data.degrade.ops import bernoulli, check_images, gaussian_blur, jpeg, to_gray, uniform
from restore.data.masks import dust_masks, scratch_masks

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
    bright = bernoulli(g, n, bright_prob, x).view(-1, 1, 1, 1)
    level = torch.where(
        bright,
        uniform(g, n, 0.8, 1.0, x).view(-1, 1, 1, 1),
        uniform(g, n, 0.0, 0.2, x).view(-1, 1, 1, 1),
    )
    alpha = uniform(g, n, 0.75, 1.0, x).view(-1, 1, 1, 1)
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
        return bernoulli(g, n, p, x).view(-1, 1, 1, 1)

    if cfg.grain_prob > 0:
        on, y = pick(cfg.grain_prob), to_gray(x)
        std = uniform(g, n, *cfg.grain_sigma, x).view(-1, 1, 1, 1)
        std = std * (0.25 + 1.5 * torch.sqrt(y * (1 - y)))  # 1.0 x at mid-grey, 0.25 x at ends
        noise = torch.randn(y.shape, generator=g, device=g.device).to(x)
        x = torch.where(on, (x + noise * std).clamp(0, 1), x)
    if cfg.blur_prob > 0:
        on = pick(cfg.blur_prob)
        x = torch.where(on, gaussian_blur(x, uniform(g, n, *cfg.blur_sigma, x), 7), x)
    if cfg.fade_prob > 0:
        on = pick(cfg.fade_prob)
        amount = uniform(g, n, *cfg.fade_range, x).view(-1, 1, 1, 1)
        grey = uniform(g, n, *cfg.fade_grey, x).view(-1, 1, 1, 1)
        x = torch.where(on, grey + (x - grey) * (1 - amount), x)
    if cfg.sepia_prob > 0:
        on = pick(cfg.sepia_prob)
        sepia = torch.einsum("ij,bjhw->bihw", torch.tensor(_SEPIA).to(x), x).clamp(0, 1)
        k = uniform(g, n, *cfg.sepia_range, x).view(-1, 1, 1, 1)
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
        x = torch.where(on, jpeg(x, uniform(g, n, *cfg.jpeg_range, x)), x)
    return x.clamp(0, 1), mask
