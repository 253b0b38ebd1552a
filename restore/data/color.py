"""Colour conversions, in one place: those the metrics use, and CIE Lab (colorization).

SR papers score the Y channel of BT.601 *studio-range* YCbCr, as MATLAB's ``rgb2ycbcr`` computes
it on double images: ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` with RGB in [0, 1], i.e. Y in
[16, 235]. Here every channel is divided by 255 so it stays on the library's [0, 1] scale
(Y in [16/255, 235/255]); PSNR / SSIM with ``data_range=1`` on these values equal those on
``Y * 255`` with ``data_range=255``. Note ``kornia.color.rgb_to_y`` is *full* range, about 1.3 dB
away from the published numbers.

CIE Lab (D65) is kornia's (:func:`rgb_to_lab`), with two additions colorization needs:
:func:`lightness` computes ``L*`` alone (3x cheaper on large images), and
:func:`lab_to_rgb_in_gamut` pulls out-of-gamut colours towards grey instead of clipping them, so
``L*`` is kept exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "LUMA_601",
    "lab_to_rgb_in_gamut",
    "lightness",
    "rgb_to_gray",
    "rgb_to_lab",
    "rgb_to_y_studio",
    "rgb_to_ycbcr_studio",
    "ycbcr_studio_to_rgb",
]

# MATLAB rgb2ycbcr (BT.601, studio range) for RGB in [0, 1]; output in [0, 255].
_STUDIO_MATRIX = (
    (65.481, 128.553, 24.966),
    (-37.797, -74.203, 112.0),
    (112.0, -93.786, -18.214),
)
_STUDIO_OFFSET = (16.0, 128.0, 128.0)
#: BT.601 luma weights (full range), the grey of PIL's ``convert("L")`` and OpenCV.
LUMA_601 = (0.299, 0.587, 0.114)


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
    matrix = torch.tensor((LUMA_601,), dtype=x.dtype, device=x.device)
    gray = _mix(x, matrix, torch.zeros(1, dtype=x.dtype, device=x.device))
    if keep_channels:
        return gray.expand(*gray.shape[:-3], 3, *gray.shape[-2:]).contiguous()
    return gray


# --- CIE Lab ----------------------------------------------------------------------------------


def rgb_to_lab(x: Tensor) -> Tensor:
    """CIE Lab (D65) of sRGB images.

    Shape: (B, 3, H, W) in [0, 1] -> (B, 3, H, W): ``L*`` in [0, 100], ``a*``, ``b*`` about
    [-110, 110].
    """
    import kornia

    return kornia.color.rgb_to_lab(x.clamp(0.0, 1.0))


# Constants of kornia.color.rgb_to_lab / lab_to_rgb (D65), so that L* agrees with kornia's.
_WHITE_X, _WHITE_Z = 0.95047, 1.08883
_Y_FROM_LIN = (0.212671, 0.715160, 0.072169)
_LIN_FROM_XYZ = (
    (3.2404813432005266, -1.5371515162713185, -0.4985363261688878),
    (-0.9692549499965682, 1.8759900014898907, 0.0415559265582928),
    (0.0556466391351772, -0.2040413383665112, 1.0573110696453443),
)


def lightness(x: Tensor) -> Tensor:
    """CIE ``L*`` of sRGB images, equal to ``kornia.color.rgb_to_lab(x)[:, :1]`` (to float error).

    Computes only what ``L*`` needs (one channel when the image is grey), about 3x cheaper than
    the full conversion on large images.

    Shape: (B, 3, H, W) in [0, 1] -> (B, 1, H, W) in [0, 100].
    """
    x = x.clamp(0.0, 1.0)
    r = x[:, :1]
    if bool((r == x[:, 1:2]).all() and (r == x[:, 2:]).all()):  # grey: one channel to linearize
        y = _linearize(r) * sum(_Y_FROM_LIN)
    else:
        wr, wg, wb = _Y_FROM_LIN
        y = wr * _linearize(r) + wg * _linearize(x[:, 1:2]) + wb * _linearize(x[:, 2:])
    f = torch.where(y > 0.008856, y.clamp(min=0.008856).pow(1 / 3.0), 7.787 * y + 4.0 / 29.0)
    return 116.0 * f - 16.0


def _linearize(v: Tensor) -> Tensor:
    """sRGB -> linear, as ``kornia.color.rgb_to_linear_rgb`` (any number of channels)."""
    return torch.where(v > 0.04045, ((v + 0.055).clamp(min=0.0) / 1.055).pow(2.4), v / 12.92)


def _finv(f: Tensor) -> Tensor:
    return torch.where(f > 0.2068966, f * f * f, (f - 4.0 / 29.0) / 7.787)


def _lab_to_linear(y: Tensor, fy: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Linear RGB, stacked on dim 1, from ``Y``, ``f(Y)`` and ``a*``, ``b*`` (kornia's maths)."""
    xx = _WHITE_X * _finv(fy + a / 500.0)
    zz = _WHITE_Z * _finv((fy - b / 200.0).clamp(min=0.0))
    return torch.cat([m[0] * xx + m[1] * y + m[2] * zz for m in _LIN_FROM_XYZ], 1)


def _in_gamut(lin: Tensor, tol: float) -> Tensor:
    return ((lin >= -tol) & (lin <= 1.0 + tol)).all(dim=1, keepdim=True)


def lab_to_rgb_in_gamut(lum: Tensor, ab: Tensor, *, iters: int = 10, tol: float = 1e-6) -> Tensor:
    """sRGB from ``L*`` and ``a*b*``, reducing each out-of-gamut pixel's chroma until it fits.

    Clipping an out-of-gamut colour to [0, 1] changes its lightness; instead the pixel's
    ``(a*, b*)`` is scaled by the largest ``t`` in [0, 1] (bisection, ``iters`` halvings) whose
    colour is inside sRGB (``t = 0`` is the grey of that ``L*``, always inside), keeping hue and
    ``L*``. Only the offending pixels are searched, in linear RGB (the sRGB curve is monotone, so
    the gamut test is the same there). The maths and constants are kornia's ``lab_to_rgb``.

    Args:
        lum: ``L*`` in [0, 100].
        ab: ``a*b*``.
        iters: bisection steps (the chroma is found to within ``2**-iters`` of its own size).
        tol: slack on [0, 1] (linear RGB) before a pixel counts as out of gamut.

    Returns:
        RGB in [0, 1].

    Shape:
        (B, 1, H, W) and (B, 2, H, W) -> (B, 3, H, W).
    """
    import kornia

    fy = (lum + 16.0) / 116.0
    y = _finv(fy)
    lin = _lab_to_linear(y, fy, ab[:, :1], ab[:, 1:])
    bad = ~_in_gamut(lin, tol)  # (B, 1, H, W)
    if bool(bad.any()):
        b, _, h, w = lum.shape
        idx = bad.flatten().nonzero().squeeze(1)

        def px(t: Tensor) -> Tensor:  # (B, C, H, W) -> (N, C, 1, 1) at the bad pixels
            c = t.shape[1]
            return t.permute(0, 2, 3, 1).reshape(-1, c)[idx][:, :, None, None]

        y_px, fy_px, a_px, b_px = px(y), px(fy), px(ab[:, :1]), px(ab[:, 1:])
        lo = torch.zeros_like(y_px)
        hi = torch.ones_like(y_px)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            ok = _in_gamut(_lab_to_linear(y_px, fy_px, a_px * mid, b_px * mid), tol)
            lo = torch.where(ok, mid, lo)
            hi = torch.where(ok, hi, mid)
        fixed = _lab_to_linear(y_px, fy_px, a_px * lo, b_px * lo)[:, :, 0, 0]  # (N, 3)
        flat = lin.permute(0, 2, 3, 1).reshape(-1, 3).clone()
        flat[idx] = fixed
        lin = flat.reshape(b, h, w, 3).permute(0, 3, 1, 2)
    return kornia.color.linear_rgb_to_rgb(lin.clamp(0.0, 1.0))
