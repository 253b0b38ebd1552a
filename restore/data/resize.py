"""MATLAB-compatible bicubic ``imresize`` in torch.

SR papers make their low-resolution inputs with MATLAB's ``imresize(img, 1/scale, 'bicubic')``,
which differs from ``torch.nn.functional.interpolate``: it uses the cubic kernel with ``a = -0.5``,
widens (antialiases) the kernel when downscaling, mirrors the image at its borders
(``symmetric`` padding) and resizes one dimension at a time, the one with the smaller scale first.
This module reproduces MATLAB's ``contributions`` computation, so LR images made here agree with
the published ``LR/`` folders (within one grey level after rounding, see the tests).

The weights are a banded matrix stored as ``(out, P)`` indices and weights; applying them is a
sum of ``P`` gathers, so a 2k image resizes in well under a second on a CPU.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

__all__ = ["Boundary", "imresize", "imresize_uint8", "round_half_away", "to_uint8"]

Boundary = Literal["symmetric", "replicate"]
_BOUNDARIES = ("symmetric", "replicate")

_KERNEL_WIDTH = 4.0  # the support of the cubic kernel, [-2, 2]


def _cubic(x: Tensor) -> Tensor:
    """Keys' cubic convolution kernel with ``a = -0.5`` (MATLAB's ``cubic``)."""
    absx = x.abs()
    absx2 = absx * absx
    absx3 = absx2 * absx
    near = (1.5 * absx3 - 2.5 * absx2 + 1.0) * (absx <= 1)
    far = (-0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0) * ((absx > 1) & (absx <= 2))
    return near + far


def _contributions(
    in_length: int, out_length: int, scale: float, antialias: bool, boundary: Boundary
) -> tuple[Tensor, Tensor]:
    """MATLAB's ``contributions``: which input pixels feed each output pixel, and how much.

    Args:
        in_length: number of input pixels along the dimension.
        out_length: number of output pixels along the dimension.
        scale: output / input scale factor along the dimension.
        antialias: widen the kernel by ``1 / scale`` when downscaling (MATLAB's default).
        boundary: ``"symmetric"`` mirrors out-of-range indices (MATLAB R2013+), ``"replicate"``
            clamps them to the edge pixel (older MATLAB, which made the classic SR LR sets).

    Returns:
        ``(indices, weights)``: 0-based input indices (long) and float64 weights, both of shape
        ``(out_length, P)``; each row of ``weights`` sums to 1. Columns that are zero for every
        output are dropped, as MATLAB does.
    """
    kernel_width = _KERNEL_WIDTH
    widen = scale < 1 and antialias
    if widen:
        kernel_width = _KERNEL_WIDTH / scale

    x = torch.arange(1, out_length + 1, dtype=torch.float64)
    # Input-space coordinate (1-based) of each output pixel's centre.
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = torch.floor(u - kernel_width / 2.0)
    taps = math.ceil(kernel_width) + 2
    indices = left[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]
    distance = u[:, None] - indices
    weights = scale * _cubic(scale * distance) if widen else _cubic(distance)
    weights = weights / weights.sum(dim=1, keepdim=True)

    if boundary == "symmetric":
        mirror = torch.cat([torch.arange(in_length), torch.arange(in_length - 1, -1, -1)])
        indices = mirror[(indices.long() - 1) % mirror.numel()]
    else:
        indices = indices.long().clamp(1, in_length) - 1
    keep = (weights != 0).any(dim=0)
    return indices[:, keep], weights[:, keep]


def _resize_dim(
    x: Tensor, dim: int, out_length: int, scale: float, antialias: bool, boundary: Boundary
) -> Tensor:
    """Resize ``x`` along ``dim`` (``-2`` or ``-1``) with MATLAB's bicubic weights."""
    indices, weights = _contributions(x.shape[dim], out_length, scale, antialias, boundary)
    indices = indices.to(x.device)
    weights = weights.to(device=x.device, dtype=x.dtype)
    shape = (-1, 1) if dim == -2 else (-1,)
    out = None
    for p in range(indices.shape[1]):
        term = x.index_select(dim, indices[:, p]) * weights[:, p].reshape(shape)
        out = term if out is None else out.add_(term)
    assert out is not None
    return out


def _output_length(length: int, scale: float) -> int:
    """MATLAB's ``ceil(scale * length)``, robust to ``510 * (1/3) = 169.99999999999997``."""
    exact = scale * length
    nearest = round(exact)
    if abs(exact - nearest) < 1e-9:
        return int(nearest)
    return math.ceil(exact)


def _plan(
    shape: tuple[int, ...], scale: float | None, size: tuple[int, int] | None
) -> list[tuple[int, int, float]]:
    """Check the arguments and return the passes ``(dim, out_length, scale)`` in MATLAB's order."""
    if len(shape) not in (3, 4):
        raise ValueError(f"imresize expects (B, C, H, W) or (C, H, W), got shape {tuple(shape)}")
    if (scale is None) == (size is None):
        raise ValueError("imresize takes exactly one of `scale` and `size`")
    in_h, in_w = shape[-2], shape[-1]
    if scale is not None:
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"scale must be a positive finite number, got {scale!r}")
        out_h, out_w = _output_length(in_h, scale), _output_length(in_w, scale)
        scales = (float(scale), float(scale))
    else:
        assert size is not None
        out_h, out_w = int(size[0]), int(size[1])
        if out_h <= 0 or out_w <= 0:
            raise ValueError(f"size must be positive, got {size!r}")
        scales = (out_h / in_h, out_w / in_w)
    if (out_h, out_w) == (in_h, in_w) and scales == (1.0, 1.0):
        return []
    # MATLAB: [~, order] = sort(scale) -- the smaller scale first, a stable sort on ties.
    order = (0, 1) if scales[0] <= scales[1] else (1, 0)
    lengths = (out_h, out_w)
    return [(axis - 2, lengths[axis], scales[axis]) for axis in order]


def _check_boundary(boundary: str) -> None:
    if boundary not in _BOUNDARIES:
        raise ValueError(f"boundary must be one of {_BOUNDARIES}, got {boundary!r}")


def imresize(
    x: Tensor,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
    boundary: Boundary = "symmetric",
) -> Tensor:
    """Resize images with MATLAB's ``imresize(..., 'bicubic')``.

    Exactly one of ``scale`` and ``size`` is given. With ``scale`` the output size is
    ``ceil(scale * (H, W))`` and the kernel uses ``scale`` itself, as MATLAB does; with ``size``
    each dimension uses its own scale ``out / in``. The dimension with the smaller scale is resized
    first (height first on ties), like MATLAB. No clamping: bicubic overshoots slightly outside
    the input range; round with :func:`to_uint8` to get MATLAB's uint8 output, or use
    :func:`imresize_uint8` to reproduce MATLAB on uint8 images bit for bit.

    Args:
        x: floating-point images; runs on ``x``'s device and in ``x``'s dtype.
        scale: positive scale factor, e.g. ``0.25`` to make x4 LR images.
        size: output ``(height, width)``.
        antialias: widen the kernel when downscaling (MATLAB's default ``Antialiasing=true``).
        boundary: ``"symmetric"`` (MATLAB R2013 and later) or ``"replicate"`` (older MATLAB;
            the ``LR/`` folders of Set5 / Set14 were made this way, see the tests).

    Returns:
        The resized images, same dtype and device.

    Shape:
        ``(B, C, H, W) -> (B, C, H', W')``; also accepts ``(C, H, W)``.

    Example:
        >>> hr = torch.rand(1, 3, 64, 48)
        >>> imresize(hr, scale=0.25).shape
        torch.Size([1, 3, 16, 12])
    """
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise ValueError(
            f"imresize expects a floating-point tensor, got {getattr(x, 'dtype', x)!r}"
        )
    _check_boundary(boundary)
    passes = _plan(tuple(x.shape), scale, size)
    if not passes:
        return x.clone()
    for dim, length, dim_scale in passes:
        x = _resize_dim(x, dim, length, dim_scale, antialias, boundary)
    return x


def imresize_uint8(
    x: Tensor,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
    boundary: Boundary = "symmetric",
) -> Tensor:
    """MATLAB's ``imresize`` on a uint8 image, rounding to uint8 after each pass as MATLAB does.

    MATLAB resizes uint8 images one dimension at a time and stores the intermediate image as
    uint8; this reproduces that, so LR sets made by MATLAB can be remade exactly.

    Args:
        x: uint8 images.
        scale: positive scale factor.
        size: output ``(height, width)``.
        antialias: widen the kernel when downscaling.
        boundary: ``"symmetric"`` or ``"replicate"``, see :func:`imresize`.

    Returns:
        uint8 images.

    Shape:
        ``(B, C, H, W) -> (B, C, H', W')``; also accepts ``(C, H, W)``.
    """
    if not torch.is_tensor(x) or x.dtype != torch.uint8:
        raise ValueError(f"imresize_uint8 expects a uint8 tensor, got {getattr(x, 'dtype', x)!r}")
    _check_boundary(boundary)
    passes = _plan(tuple(x.shape), scale, size)
    y = x.to(torch.float64) / 255.0
    for dim, length, dim_scale in passes:
        y = (
            to_uint8(_resize_dim(y, dim, length, dim_scale, antialias, boundary)).to(y.dtype)
            / 255.0
        )
    return to_uint8(y)


def round_half_away(x: Tensor) -> Tensor:
    """Round half away from zero, like MATLAB's ``round`` (``torch.round`` rounds half to even).

    Args:
        x: any floating-point tensor.

    Returns:
        A tensor of the same shape and dtype with integral values.
    """
    return torch.sign(x) * torch.floor(x.abs() + 0.5)


def to_uint8(x: Tensor) -> Tensor:
    """Quantise [0, 1] images to uint8 the way MATLAB's ``im2uint8`` / uint8 ``imresize`` does.

    Args:
        x: floating-point images, nominally in [0, 1]; values outside are clipped.

    Returns:
        uint8 tensor ``round_half_away(clip(x, 0, 1) * 255)`` of the same shape.
    """
    return round_half_away(x.clamp(0.0, 1.0) * 255.0).to(torch.uint8)
