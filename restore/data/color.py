"""Colour conversions used by the metrics, in one place.

SR papers score the Y channel of BT.601 *studio-range* YCbCr, as MATLAB's ``rgb2ycbcr`` computes
it on double images: ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` with RGB in [0, 1], i.e. Y in
[16, 235]. Here every channel is divided by 255 so it stays on the library's [0, 1] scale
(Y in [16/255, 235/255]); PSNR / SSIM with ``data_range=1`` on these values equal those on
``Y * 255`` with ``data_range=255``. Note ``kornia.color.rgb_to_y`` is *full* range, about 1.3 dB
away from the published numbers.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rgb_to_gray", "rgb_to_y_studio", "rgb_to_ycbcr_studio", "ycbcr_studio_to_rgb"]

# MATLAB rgb2ycbcr (BT.601, studio range) for RGB in [0, 1]; output in [0, 255].
_STUDIO_MATRIX = (
    (65.481, 128.553, 24.966),
    (-37.797, -74.203, 112.0),
    (112.0, -93.786, -18.214),
)
_STUDIO_OFFSET = (16.0, 128.0, 128.0)
# BT.601 luma weights (full range), the grey of PIL's ``convert("L")`` and OpenCV.
_LUMA_601 = (0.299, 0.587, 0.114)


def _check_rgb(x: Tensor) -> None:
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise ValueError(f"expected a floating-point tensor, got {getattr(x, 'dtype', x)!r}")
    if x.ndim < 3 or x.shape[-3] != 3:
        raise ValueError(f"expected (..., 3, H, W) images, got shape {tuple(x.shape)}")


def _mix(x: Tensor, matrix: Tensor, offset: Tensor) -> Tensor:
    """``offset + matrix @ x`` over the channel dimension ``-3``."""
    out = torch.einsum("oc,...chw->...ohw", matrix, x)
    return out + offset[:, None, None]


def rgb_to_ycbcr_studio(x: Tensor) -> Tensor:
    """RGB to BT.601 studio-range YCbCr (MATLAB ``rgb2ycbcr`` on double), divided by 255.

    Args:
        x: RGB images in [0, 1].

    Returns:
        YCbCr images: Y in [16/255, 235/255], Cb and Cr in [16/255, 240/255].

    Shape:
        ``(..., 3, H, W) -> (..., 3, H, W)``.

    Example:
        >>> rgb_to_ycbcr_studio(torch.ones(1, 3, 1, 1)).flatten() * 255
        tensor([235., 128., 128.])
    """
    _check_rgb(x)
    matrix = torch.tensor(_STUDIO_MATRIX, dtype=x.dtype, device=x.device) / 255.0
    offset = torch.tensor(_STUDIO_OFFSET, dtype=x.dtype, device=x.device) / 255.0
    return _mix(x, matrix, offset)


def ycbcr_studio_to_rgb(x: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr_studio` (MATLAB ``ycbcr2rgb`` on double). Not clamped.

    Args:
        x: YCbCr images on the /255 scale of :func:`rgb_to_ycbcr_studio`.

    Returns:
        RGB images, nominally in [0, 1].

    Shape:
        ``(..., 3, H, W) -> (..., 3, H, W)``.
    """
    _check_rgb(x)
    matrix = torch.tensor(_STUDIO_MATRIX, dtype=torch.float64) / 255.0
    inverse = torch.linalg.inv(matrix)
    offset = -inverse @ (torch.tensor(_STUDIO_OFFSET, dtype=torch.float64) / 255.0)
    return _mix(x, inverse.to(x), offset.to(x))


def rgb_to_y_studio(x: Tensor) -> Tensor:
    """The Y channel of BT.601 studio-range YCbCr, the channel SR papers score.

    Args:
        x: RGB images in [0, 1].

    Returns:
        ``(16 + 65.481 R + 128.553 G + 24.966 B) / 255``, in [16/255, 235/255].

    Shape:
        ``(..., 3, H, W) -> (..., 1, H, W)``.

    Example:
        >>> rgb_to_y_studio(torch.zeros(1, 3, 2, 2)).shape
        torch.Size([1, 1, 2, 2])
    """
    _check_rgb(x)
    matrix = torch.tensor(_STUDIO_MATRIX[:1], dtype=x.dtype, device=x.device) / 255.0
    offset = torch.tensor(_STUDIO_OFFSET[:1], dtype=x.dtype, device=x.device) / 255.0
    return _mix(x, matrix, offset)


def rgb_to_gray(x: Tensor, keep_channels: bool = False) -> Tensor:
    """Full-range BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` (PIL ``convert("L")``, OpenCV).

    Args:
        x: RGB images in [0, 1].
        keep_channels: repeat the grey value into three channels, giving an RGB grey image.

    Returns:
        Grey images in [0, 1].

    Shape:
        ``(..., 3, H, W) -> (..., 1, H, W)``, or ``(..., 3, H, W)`` with ``keep_channels``.
    """
    _check_rgb(x)
    matrix = torch.tensor((_LUMA_601,), dtype=x.dtype, device=x.device)
    gray = _mix(x, matrix, torch.zeros(1, dtype=x.dtype, device=x.device))
    if keep_channels:
        return gray.expand(*gray.shape[:-3], 3, *gray.shape[-2:]).contiguous()
    return gray
