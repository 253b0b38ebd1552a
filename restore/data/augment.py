"""Joint geometric augmentation of images and masks, and a fast batched random crop.

kornia's augmentations draw their parameters from torch's *global* RNG. To make them follow the
``torch.Generator`` passed in, :func:`joint_augment` draws one seed from that generator, forks the
global RNG state (``torch.random.fork_rng``, on the CPU and on the images' device), seeds it, runs
the kornia pipeline and restores the previous state on exit. So the same generator state gives
the same output, the generator advances, and the caller's global RNG is left untouched.
"""

from __future__ import annotations

import torch
from kornia import augmentation as K

__all__ = ["joint_augment", "random_crop"]


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if h < 1 or w < 1:
        raise ValueError(f"crop size must be positive, got {size}")
    return h, w


def _check(images: torch.Tensor, masks: torch.Tensor | None) -> None:
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got {tuple(images.shape)}")
    if masks is not None and (
        masks.ndim != 4
        or masks.shape[1] != 1
        or masks.shape[0] != images.shape[0]
        or masks.shape[-2:] != images.shape[-2:]
    ):
        raise ValueError(
            f"masks must be (B, 1, H, W) matching images {tuple(images.shape)}, got {tuple(masks.shape)}"
        )


def joint_augment(
    images: torch.Tensor,
    masks: torch.Tensor | None = None,
    *,
    generator: torch.Generator,
    crop: int | tuple[int, int] | None = None,
    flips: bool = True,
    rot90: bool = True,
    color_jitter: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Random crop, flips, quarter turns (and colour jitter) applied identically to images and masks.

    Built on ``kornia.augmentation.AugmentationSequential`` with ``data_keys=["input", "mask"]``:
    each image and its mask get the same geometry (masks resampled with nearest, so they stay
    binary); colour jitter touches the images only. Parameters differ between batch items.

    Args:
        images: float images in [0, 1].
        masks: optional masks, 1 = hole.
        generator: source of the randomness (one seed is drawn from it; see module docstring).
        crop: output size ``int`` or ``(h, w)``; None keeps the size.
        flips: random horizontal and vertical flips (p = 0.5 each).
        rot90: random quarter turn (0-3 times); needs a square output.
        color_jitter: strength s of brightness, contrast and saturation jitter (each in
            [1 - s, 1 + s]) and hue jitter (+- s / 4); 0 disables it.

    Returns:
        ``(images, masks)``; ``masks`` is None when none was given. Images in [0, 1], masks
        float32 in {0, 1}.

    Shape:
        (B, C, H, W), (B, 1, H, W) -> (B, C, h, w), (B, 1, h, w).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x, m = torch.rand(2, 3, 64, 64), torch.zeros(2, 1, 64, 64)
        >>> y, n = joint_augment(x, m, generator=g, crop=32)
        >>> y.shape, n.shape
        (torch.Size([2, 3, 32, 32]), torch.Size([2, 1, 32, 32]))
    """
    _check(images, masks)
    out_h, out_w = images.shape[-2:] if crop is None else _pair(crop)
    if crop is not None and (out_h > images.shape[-2] or out_w > images.shape[-1]):
        raise ValueError(f"crop {crop} is larger than the images {tuple(images.shape[-2:])}")
    if rot90 and out_h != out_w:
        raise ValueError(f"rot90 needs a square output, got {(out_h, out_w)}; pass rot90=False")
    if color_jitter < 0:
        raise ValueError(f"color_jitter must be >= 0, got {color_jitter}")

    ops: list[K.AugmentationBase2D] = []
    if crop is not None:
        ops.append(K.RandomCrop((out_h, out_w)))
    if flips:
        ops += [K.RandomHorizontalFlip(p=0.5), K.RandomVerticalFlip(p=0.5)]
    if rot90:
        ops.append(K.RandomRotation90(times=(0, 3), p=1.0))
    if color_jitter > 0:
        s = float(color_jitter)
        ops.append(K.ColorJitter(s, s, s, min(s / 4, 0.5), p=1.0))
    if not ops:
        return images, masks

    keys = ["input", "mask"] if masks is not None else ["input"]
    pipeline = K.AugmentationSequential(*ops, data_keys=keys)
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
    dev = images.device
    forked = [dev] if dev.type != "cpu" else []
    with torch.random.fork_rng(devices=forked, device_type=dev.type if forked else "cuda"):
        torch.default_generator.manual_seed(seed)
        if forked:
            module = torch.get_device_module(dev.type)
            with module.device(dev):
                module.manual_seed(seed)
        out = pipeline(images, masks) if masks is not None else pipeline(images)

    if masks is None:
        return out.clamp(0, 1), None
    y, m = out
    return y.clamp(0, 1), (m > 0.5).to(masks.dtype)


def random_crop(
    images: torch.Tensor, size: int | tuple[int, int], generator: torch.Generator
) -> torch.Tensor:
    """Crop each batch item at its own random offset (one gather, no host sync).

    The training fast path. To crop images and masks together, concatenate them on the channel
    axis first and split after. Works for any dtype (e.g. uint8 images kept in memory).

    Args:
        images: (B, C, H, W) tensor.
        size: crop size ``int`` or ``(h, w)``, at most (H, W).
        generator: source of the offsets (uniform over all valid positions).

    Returns:
        The crops, same dtype and device.

    Shape:
        (B, C, H, W) -> (B, C, h, w).
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got {tuple(images.shape)}")
    h, w = _pair(size)
    b, _, hh, ww = images.shape
    if h > hh or w > ww:
        raise ValueError(f"crop {(h, w)} is larger than the images {(hh, ww)}")
    u = torch.rand(2, b, generator=generator, device=generator.device).to(images.device)
    top = (u[0] * (hh - h + 1)).long().clamp_max(hh - h)
    left = (u[1] * (ww - w + 1)).long().clamp_max(ww - w)
    dev = images.device
    rows = (top[:, None] + torch.arange(h, device=dev))[:, :, None]  # (B, h, 1)
    cols = (left[:, None] + torch.arange(w, device=dev))[:, None, :]  # (B, 1, w)
    batch = torch.arange(b, device=dev)[:, None, None]
    return images[batch, :, rows, cols].permute(0, 3, 1, 2).contiguous()  # (B, h, w, C) -> NCHW
