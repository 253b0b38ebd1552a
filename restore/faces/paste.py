"""Paste restored faces back into the photo: feathered mask, colour matching, tone kept.

:func:`restore_faces` is the whole face stage: detect (:mod:`restore.faces.detect`), align
(:mod:`restore.faces.align`), restore the crops with a model, match their colour to the original
crops, and paste them back through the inverse similarity with a feathered mask, so no seam or
halo shows: at the mask's outer edge the photo is unchanged, and the blend ramps smoothly
(smoothstep) over ``feather`` crop pixels inside it.

Faces bigger in the photo than the crop (the crop shrinks them) get only the model's
*correction* pasted (restored crop minus original crop, enlarged): the photo's own fine detail,
finer than the crop can hold, is kept instead of being replaced by an enlarged 128-px face.
Faces smaller than the crop are enlarged into it and the restored crop is shrunk back; that
round trip alone blurs the face, so :data:`SMALL_FACE_DETAIL` of the detail it loses (the photo
minus the original crop shrunk back) is added back (1 = paste the correction only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from restore.faces.align import align_face, transform_scale, warp
from restore.faces.detect import Face, detect_faces

#: For faces smaller than the crop: the share of the photo's own detail that the enlarge-shrink
#: round trip loses and the paste adds back (:func:`paste_face`'s ``detail``).
SMALL_FACE_DETAIL = 1.0


def is_grey(x: Tensor) -> Tensor:
    """(B,) bool: images whose three channels are exactly equal."""
    return (x[:, 0] == x[:, 1]).flatten(1).all(1) & (x[:, 1] == x[:, 2]).flatten(1).all(1)


def keep_grey(x: Tensor, y: Tensor) -> Tensor:
    """``y`` with the images whose input ``x`` is grey made grey again (BT.601 luma, R = G = B).

    Shape:
        (B, 3, H, W), (B, 3, H, W) -> (B, 3, H, W).
    """
    from restore.data.color import rgb_to_gray

    grey = is_grey(x)
    if not bool(grey.any()):
        return y
    return torch.where(grey.view(-1, 1, 1, 1), rgb_to_gray(y).expand_as(y), y)


def feather_mask(size: int, feather: float, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Blend weights of a square crop: 0 at its edge, 1 from ``feather`` pixels inside it.

    Per axis ``t = clamp(d / feather, 0, 1)`` with ``d`` the distance of the pixel centre from
    the crop's edge minus half a pixel, smoothed (``3t^2 - 2t^3``); the two axes multiply.

    Shape:
        (1, 1, size, size), values in [0, 1].
    """
    if feather < 1:
        raise ValueError(f"feather must be >= 1 crop pixel, got {feather}")
    c = torch.arange(size, dtype=torch.float64)
    d = torch.minimum(c, size - 1 - c)  # 0 on the outermost pixels
    t = (d / feather).clamp(0, 1)
    r = t * t * (3 - 2 * t)
    return (r[:, None] * r[None, :]).to(dtype)[None, None]


def match_colour(
    restored: Tensor, original: Tensor, weight: Tensor, max_gain: float = 1.25
) -> Tensor:
    """Per channel, give ``restored`` the weighted mean of ``original`` (and its spread, within
    ``[1 / max_gain, max_gain]`` of the restored one), so a pasted face keeps the photo's colour.

    Shape:
        (B, 3, S, S), (B, 3, S, S), (1 or B, 1, S, S) -> (B, 3, S, S).
    """
    w = weight.expand(restored.shape[0], 1, *restored.shape[-2:])
    total = w.sum((2, 3), keepdim=True).clamp_min(1e-6)

    def stats(x: Tensor) -> tuple[Tensor, Tensor]:
        m = (x * w).sum((2, 3), keepdim=True) / total
        sd = (((x - m) ** 2 * w).sum((2, 3), keepdim=True) / total).sqrt()
        return m, sd

    mr, sr = stats(restored)
    mo, so = stats(original)
    gain = (so / sr.clamp_min(1e-4)).clamp(1 / max_gain, max_gain)
    # one gain for the three channels: a per-channel gain would tint a toned face
    gain = gain.mean(1, keepdim=True)
    return ((restored - mr) * gain + mo).clamp(0, 1)


def paste_face(
    image: Tensor,
    restored: Tensor,
    M: np.ndarray,
    *,
    feather: float,
    original: Tensor | None = None,
    detail: float = 1.0,
) -> Tensor:
    """Blend a restored crop back into the photo through the inverse of ``M``.

    Only the crop's footprint (its bounding box in the photo) is resampled. With ``original``
    (the crop as it was cut), ``detail`` of the photo's detail that the crop does not hold (the
    photo minus ``original`` mapped back) is kept on top of the restored crop: ``detail = 1``
    pastes the correction ``restored - original`` only, ``0`` the restored crop itself.

    Args:
        image: the photo (1, 3, H, W).
        restored: the restored crop (1, 3, S, S).
        M: photo -> crop transform (2, 3).
        feather: ramp width of the blend, in crop pixels.
        original: the original crop, to keep the photo's finer detail.
        detail: with ``original``, the share of that detail kept, in [0, 1].

    Returns:
        A new photo tensor; pixels outside the footprint are untouched.
    """
    size = restored.shape[-1]
    from restore.faces.align import apply, invert

    mask = feather_mask(size, feather, dtype=restored.dtype).to(restored.device)
    h, w = image.shape[-2:]
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], dtype=np.float64)
    pts = apply(invert(M), corners)
    x0, y0 = (int(max(0, np.floor(v))) for v in pts.min(0))
    x1, y1 = int(min(w, np.ceil(pts[:, 0].max()))), int(min(h, np.ceil(pts[:, 1].max())))
    if x1 <= x0 or y1 <= y0:
        return image
    if not 0.0 <= detail <= 1.0:
        raise ValueError(f"detail must be in [0, 1], got {detail}")
    parts = [restored] if original is None else [restored, original]
    both = torch.cat([*parts, mask.expand(restored.shape[0], 1, -1, -1)], 1)
    # crop pixels -> photo pixels of the footprint: the inverse map, offset to the footprint
    # outside the crop the border repeats the mask's edge value, 0: nothing leaks out
    # unclamped: the restored crop minus the original is a difference
    back = warp(both, invert(M), (y1 - y0, x1 - x0), offset=(x0, y0), clamp=False)
    piece, m = back[:, :3], back[:, -1:].clamp(0, 1)
    out = image.clone()
    region = out[..., y0:y1, x0:x1]
    if original is not None:  # the restored crop plus the detail the crop lost
        piece = piece + detail * (region - back[:, 3:6])
    new = region * (1 - m) + piece * m
    out[..., y0:y1, x0:x1] = new.clamp(0, 1)
    return out


def restore_faces(
    image: Tensor,
    crops_fn: Callable[[Tensor], Tensor],
    *,
    size: int = 128,
    feather: float | None = None,
    faces: list[Face] | None = None,
    strength: float = 1.0,
    detail: float = SMALL_FACE_DETAIL,
    **detect_kwargs: Any,
) -> tuple[Tensor, list[Face]]:
    """The face stage on one photo: detect, align, restore, colour-match and paste back.

    Args:
        image: the photo, (1, 3, H, W) float in [0, 1].
        crops_fn: the face model on aligned crops, (N, 3, size, size) -> (N, 3, size, size).
        size: side of the aligned crop the model takes.
        feather: blend ramp in crop pixels (default ``size / 8``).
        faces: faces already found (skips detection).
        strength: how much of the stage's change to keep, in [0, 1] (a fidelity weight, as
            GFPGAN's ``--weight``): ``photo + strength * (restored photo - photo)``; ``0``
            leaves the photo exactly as it is, lower values keep more of the face's own texture.
        detail: for faces smaller than the crop, the share of the photo's own detail kept
            (:func:`paste_face`); faces bigger than the crop always keep all of it.
        **detect_kwargs: passed to :func:`restore.faces.detect.detect_faces`.

    Returns:
        ``(photo with the faces restored, the faces)``; a grey photo comes back exactly grey.

    Raises:
        ValueError: ``image`` is not one (1, 3, H, W) float image, or ``strength`` is not in
            [0, 1].
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"face strength must be in [0, 1], got {strength}")
    if image.dim() != 4 or image.shape[0] != 1 or image.shape[1] != 3:
        raise ValueError(f"expected one (1, 3, H, W) image, got {tuple(image.shape)}")
    if not image.is_floating_point():
        raise ValueError(f"expected a float image in [0, 1], got {image.dtype}")
    if faces is None:
        faces = detect_faces(image, **detect_kwargs)
    if not faces:
        return image, []
    feather = size / 8 if feather is None else feather
    aligned = [align_face(image, f.eyes, size) for f in faces]
    crops = torch.cat([c for c, _ in aligned])
    restored = crops_fn(crops).to(crops)
    weight = feather_mask(size, feather, dtype=crops.dtype).to(crops.device)
    restored = match_colour(restored, crops, weight)
    out = image
    for i, (crop, M) in enumerate(aligned):
        big = transform_scale(M) < 1.0  # the face is bigger in the photo than in the crop
        out = paste_face(
            out,
            restored[i : i + 1],
            M,
            feather=feather,
            original=crop,
            detail=1.0 if big else detail,
        )
    if strength < 1.0:  # blended in the photo: 0 is the photo itself, not a resampled crop
        out = image + strength * (out - image)
    return keep_grey(image, out), faces


__all__ = [
    "SMALL_FACE_DETAIL",
    "feather_mask",
    "is_grey",
    "keep_grey",
    "match_colour",
    "paste_face",
    "restore_faces",
]
