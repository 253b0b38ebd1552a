"""Sharpness of an image against its ground truth: the ratio of mean gradient magnitudes.

PSNR rewards blur: a PSNR-trained SR model and bicubic both come out softer than the ground truth,
and a GAN fine-tune trades a little PSNR for detail. The ratio ``mean |grad SR| / mean |grad HR|``
on the BT.601 studio-range Y channel (Sobel, valid convolution, ``shave`` pixels dropped) puts a
number on it: 1 for an output as sharp as the ground truth, below 1 for a blurrier one. The SR
protocol (:func:`restore.eval.protocols.sr_protocol`) reports it per image as ``grad_ratio``.

Example:
    >>> import torch
    >>> hr = torch.rand(1, 3, 32, 32)
    >>> round(gradient_ratio(hr, hr, shave=4), 6)
    1.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from restore.data.color import rgb_to_y_studio

__all__ = ["gradient_magnitude", "gradient_ratio"]


def gradient_magnitude(y: Tensor) -> Tensor:
    """Mean Sobel gradient magnitude of each image (valid convolution, kernels divided by 8).

    Args:
        y: one-channel images, float.

    Returns:
        One value per image, shape (B,).

    Shape:
        (B, 1, H, W) -> (B,), H and W at least 3.
    """
    if y.ndim != 4 or y.shape[1] != 1 or min(y.shape[-2:]) < 3:
        raise ValueError(f"expected (B, 1, H, W) images with H, W >= 3, got {tuple(y.shape)}")
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=y.dtype, device=y.device) / 8
    k = torch.stack([kx, kx.T])[:, None]
    g = F.conv2d(y, k)
    return g.pow(2).sum(1).sqrt().mean(dim=(1, 2))


def gradient_ratio(pred: Tensor, target: Tensor, *, shave: int = 0) -> float:
    """``mean |grad Y(pred)| / mean |grad Y(target)|`` of one image pair (1 = as sharp as target).

    Args:
        pred: the output, RGB in [0, 1] (round it to uint8 first to score it as saved).
        target: the ground truth, same shape.
        shave: pixels dropped from each border before the gradients.

    Returns:
        The ratio as a float (``nan`` for a flat target).

    Shape:
        pred, target: (1, 3, H, W).
    """
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[0] != 1:
        raise ValueError(
            f"expected two (1, 3, H, W) images, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if shave:
        pred = pred[..., shave:-shave, shave:-shave]
        target = target[..., shave:-shave, shave:-shave]
    a = float(gradient_magnitude(rgb_to_y_studio(pred.float()))[0])
    b = float(gradient_magnitude(rgb_to_y_studio(target.float()))[0])
    return a / b if b > 0 else float("nan")
