"""Classical baselines that the learned models must beat, on the library's tensor convention.

- Inpainting: OpenCV's Telea and Navier-Stokes ``cv2.inpaint`` (radius 3, on uint8 images, as
  OpenCV requires) and ``skimage.restoration.inpaint_biharmonic`` (float).
- Super-resolution: MATLAB-compatible bicubic upscaling (:func:`restore.data.resize.imresize`).
- Colorization: the grayscale input itself, as an RGB grey image.

All take and return float (B, 3, H, W) images in [0, 1] on the input's device; the classical
inpainting runs on the CPU in numpy, image by image. Known pixels (``mask == 0``) are returned
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch
from skimage.restoration import inpaint_biharmonic as _sk_inpaint_biharmonic
from torch import Tensor

from restore.data.color import rgb_to_gray
from restore.data.resize import imresize, to_uint8

__all__ = [
    "INPAINT_BASELINES",
    "bicubic_upscale",
    "grayscale_baseline",
    "inpaint_biharmonic",
    "inpaint_ns",
    "inpaint_telea",
]

INPAINT_RADIUS = 3


def _check_inputs(images: Tensor, masks: Tensor) -> None:
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (B, 3, H, W), got {tuple(images.shape)}")
    if (
        masks.ndim != 4
        or masks.shape[1] != 1
        or masks.shape[0] != images.shape[0]
        or masks.shape[-2:] != images.shape[-2:]
    ):
        raise ValueError(
            f"masks must be (B, 1, H, W) matching images {tuple(images.shape)}, got {tuple(masks.shape)}"
        )


def _per_image(
    images: Tensor, masks: Tensor, fill: Callable[[Tensor, np.ndarray], np.ndarray]
) -> Tensor:
    """Run ``fill(image (3,H,W) cpu tensor, hole (H,W) bool array) -> (H,W,3) float array`` per image."""
    _check_inputs(images, masks)
    hole = (masks > 0.5).cpu()
    out = []
    for b in range(images.shape[0]):
        image = images[b].detach().float().cpu()
        filled = torch.from_numpy(np.ascontiguousarray(fill(image, hole[b, 0].numpy())))
        filled = filled.permute(2, 0, 1).to(torch.float32)
        # Keep known pixels exactly as given (cv2 works on uint8 and would quantise them).
        out.append(torch.where(hole[b], filled, image))
    return torch.stack(out).to(images.device)


def _cv2_fill(flags: int) -> Callable[[Tensor, np.ndarray], np.ndarray]:
    def fill(image: Tensor, hole: np.ndarray) -> np.ndarray:
        rgb8 = to_uint8(image).permute(1, 2, 0).numpy()
        result = cv2.inpaint(rgb8, hole.astype(np.uint8), INPAINT_RADIUS, flags)
        return result.astype(np.float32) / 255.0

    return fill


def inpaint_telea(images: Tensor, masks: Tensor) -> Tensor:
    """Fill holes with OpenCV's fast marching method (Telea 2004), radius 3.

    Args:
        images: images in [0, 1]; hole pixels may hold anything.
        masks: 1 marks a missing pixel.

    Returns:
        Inpainted images (holes quantised to uint8 levels by OpenCV).

    Shape:
        ``(B, 3, H, W), (B, 1, H, W) -> (B, 3, H, W)``.
    """
    return _per_image(images, masks, _cv2_fill(cv2.INPAINT_TELEA))


def inpaint_ns(images: Tensor, masks: Tensor) -> Tensor:
    """Fill holes with OpenCV's Navier-Stokes method (Bertalmio et al. 2001), radius 3.

    Args:
        images: images in [0, 1].
        masks: 1 marks a missing pixel.

    Returns:
        Inpainted images.

    Shape:
        ``(B, 3, H, W), (B, 1, H, W) -> (B, 3, H, W)``.
    """
    return _per_image(images, masks, _cv2_fill(cv2.INPAINT_NS))


def _biharmonic_fill(image: Tensor, hole: np.ndarray) -> np.ndarray:
    rgb = image.permute(1, 2, 0).numpy().astype(np.float64)
    if not hole.any():
        return rgb
    return np.clip(_sk_inpaint_biharmonic(rgb, hole, channel_axis=-1), 0.0, 1.0)


def inpaint_biharmonic(images: Tensor, masks: Tensor) -> Tensor:
    """Fill holes with biharmonic interpolation (``skimage.restoration.inpaint_biharmonic``).

    Slow for large holes (a sparse solve per connected hole region).

    Args:
        images: images in [0, 1].
        masks: 1 marks a missing pixel.

    Returns:
        Inpainted images, clipped to [0, 1].

    Shape:
        ``(B, 3, H, W), (B, 1, H, W) -> (B, 3, H, W)``.
    """
    return _per_image(images, masks, _biharmonic_fill)


# name -> function, in the order the protocol tables show them.
INPAINT_BASELINES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "telea": inpaint_telea,
    "navier_stokes": inpaint_ns,
    "biharmonic": inpaint_biharmonic,
}


def bicubic_upscale(lr: Tensor, scale: int | float) -> Tensor:
    """MATLAB bicubic upscaling, the SR baseline of every paper's table, clipped to [0, 1].

    Args:
        lr: low-resolution images in [0, 1].
        scale: upscaling factor, e.g. 4.

    Returns:
        Images ``scale`` times larger.

    Shape:
        ``(B, C, h, w) -> (B, C, h * scale, w * scale)``.
    """
    return imresize(lr, scale=float(scale)).clamp(0.0, 1.0)


def grayscale_baseline(images: Tensor) -> Tensor:
    """The trivial colorization: the grey (BT.601 luma) image itself, repeated over RGB.

    Args:
        images: colour images in [0, 1] (or grey inputs stored as RGB).

    Returns:
        Grey RGB images.

    Shape:
        ``(B, 3, H, W) -> (B, 3, H, W)``.
    """
    return rgb_to_gray(images, keep_channels=True)
