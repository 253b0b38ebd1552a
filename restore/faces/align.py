"""Face alignment: eyes -> a similarity transform onto the canonical crop, and the warps.

Coordinates are continuous pixel coordinates: the centre of pixel ``(i, j)`` (row ``i``, column
``j``) is at ``(x, y) = (j + 0.5, i + 0.5)``, in the photo and in the crop alike. A transform is a
2 x 3 float64 array ``M`` mapping photo coordinates to crop coordinates:
``[u, v] = M[:, :2] @ [x, y] + M[:, 2]``; a similarity has ``M[:, :2] = s * rotation``.

The canonical crop is the layout of the aligned faces the face model was trained on (UTKFace
"aligned & cropped"): :data:`TEMPLATE_EYES`, measured on the mean of 505 training faces (the
darkest point of each eye region of the mean face, made symmetric).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

#: The eyes of the canonical crop, as fractions of its side: (image-left eye, image-right eye).
TEMPLATE_EYES = ((0.295, 0.285), (0.705, 0.285))

Point = tuple[float, float]
#: Where the eyes sit in a face box of :func:`restore.faces.detect.detect_faces`, as fractions
#: of its side: (x of the image-left eye, x of the other, y). Measured on held-out faces pasted
#: into scenes 100-199 (``scripts/eval_faces.py detect --first 100``: ``box_eyes_mean``) for
#: the verifier's regressed boxes (tighter than the LBP cascade's were: brows to chin).
BOX_EYES = (0.283, 0.727, 0.324)


def box_eyes(box: tuple[float, float, float, float]) -> tuple[Point, Point]:
    """Where a face box puts the eyes (:data:`BOX_EYES`)."""
    x, y, w, h = box
    lx, rx, ey = BOX_EYES
    return (x + lx * w, y + ey * h), (x + rx * w, y + ey * h)


def template_eyes(size: int) -> tuple[Point, Point]:
    """:data:`TEMPLATE_EYES` in the pixel coordinates of a ``size`` x ``size`` crop."""
    (lx, ly), (rx, ry) = TEMPLATE_EYES
    return (lx * size, ly * size), (rx * size, ry * size)


def similarity_from_eyes(src: tuple[Point, Point], dst: tuple[Point, Point]) -> np.ndarray:
    """The similarity (rotation, uniform scale, shift) taking the eye pair ``src`` to ``dst``.

    Two points fix a similarity exactly: with points as complex numbers, ``z = (d1 - d0) /
    (s1 - s0)`` and ``M = [[Re z, -Im z, tx], [Im z, Re z, ty]]``, ``t = d0 - z s0``.

    Returns:
        (2, 3) float64 ``M``: photo coordinates -> crop coordinates.

    Raises:
        ValueError: the two source eyes coincide.

    Example:
        >>> similarity_from_eyes(((0, 0), (1, 0)), ((10, 10), (12, 10))).tolist()
        [[2.0, -0.0, 10.0], [0.0, 2.0, 10.0]]
    """
    s0, s1 = complex(*src[0]), complex(*src[1])
    d0, d1 = complex(*dst[0]), complex(*dst[1])
    if abs(s1 - s0) < 1e-6:
        raise ValueError(f"the two eyes coincide: {src}")
    z = (d1 - d0) / (s1 - s0)
    t = d0 - z * s0
    return np.array([[z.real, -z.imag, t.real], [z.imag, z.real, t.imag]], dtype=np.float64)


def invert(M: np.ndarray) -> np.ndarray:
    """The inverse of a (2, 3) affine transform."""
    A = np.linalg.inv(M[:, :2])
    return np.concatenate([A, -A @ M[:, 2:]], 1)


def transform_scale(M: np.ndarray) -> float:
    """The scale of a similarity (crop pixels per photo pixel)."""
    return float(math.sqrt(abs(np.linalg.det(M[:, :2]))))


def apply(M: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``M`` applied to (N, 2) points."""
    return points @ M[:, :2].T + M[:, 2]


def warp(
    image: Tensor,
    M: np.ndarray,
    out_hw: tuple[int, int],
    *,
    offset: Point = (0.0, 0.0),
    clamp: bool = True,
) -> Tensor:
    """Resample ``image`` through ``M`` (source -> destination coordinates).

    Destination pixel ``(i, j)`` takes the source value at ``M^-1 (j + 0.5 + ox, i + 0.5 + oy)``
    (``offset`` places the destination grid inside a larger frame); outside the source, the
    border value is repeated. Enlarging (scale > 1.25) is bicubic (as the face model's training
    enlarged its small faces), otherwise bilinear; shrinking (scale < 0.8) first blurs the source
    (Gaussian, sigma ``0.5 / scale``) so the crop does not alias. Values are clamped to [0, 1]
    unless ``clamp`` is false (to resample differences, which may be negative).

    Shape:
        (B, C, H, W) -> (B, C, out_h, out_w).
    """
    if image.dim() != 4:
        raise ValueError(f"expected (B, C, H, W), got {tuple(image.shape)}")
    h, w = image.shape[-2:]
    oh, ow = out_hw
    scale = transform_scale(M)
    if scale < 0.8:
        import kornia

        sigma = 0.5 / scale
        k = 2 * math.ceil(3 * sigma) + 1
        if k < min(h, w):
            image = kornia.filters.gaussian_blur2d(image, (k, k), (sigma, sigma), "reflect")
    inv = invert(M)
    ys = torch.arange(oh, dtype=torch.float64) + 0.5 + offset[1]
    xs = torch.arange(ow, dtype=torch.float64) + 0.5 + offset[0]
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    sx = inv[0, 0] * gx + inv[0, 1] * gy + inv[0, 2]
    sy = inv[1, 0] * gx + inv[1, 1] * gy + inv[1, 2]
    grid = torch.stack([sx / w * 2 - 1, sy / h * 2 - 1], -1).to(image)  # align_corners=False
    grid = grid.unsqueeze(0).expand(image.shape[0], -1, -1, -1)
    mode = "bicubic" if scale > 1.25 else "bilinear"
    out = F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=False)
    return out.clamp(0, 1) if clamp else out


def align_face(image: Tensor, eyes: tuple[Point, Point], size: int) -> tuple[Tensor, np.ndarray]:
    """The canonical ``size`` x ``size`` crop of a face, and its transform.

    Args:
        image: the photo, (1, 3, H, W) float in [0, 1].
        eyes: the face's eyes in photo pixels (image-left first).
        size: crop side.

    Returns:
        ``(crop (1, 3, size, size), M)``, ``M`` photo -> crop coordinates.
    """
    M = similarity_from_eyes(eyes, template_eyes(size))
    return warp(image, M, (size, size)), M


def find_eyes(
    grey: np.ndarray, box: tuple[float, float, float, float]
) -> tuple[Point, Point] | None:
    """The eyes inside a face box, as the darkest blobs near where the box puts them.

    Each eye is looked for in a window around :data:`BOX_EYES` (0.26 x 0.22
    of the box) of the luminance smoothed at ``box / 40``; the pair is kept only if it is
    plausible: eye distance 0.65-1.15 of the box's (:data:`BOX_EYES`), tilt under 20 degrees,
    and each blob darker than its window's median by 8 levels.

    Args:
        grey: uint8 luminance (H, W).
        box: ``(x, y, w, h)``.

    Returns:
        ``((x, y), (x, y))`` image-left eye first, or ``None``.
    """
    import cv2

    x, y, w, h = box
    if w < 16:
        return None
    ex = (BOX_EYES[0], BOX_EYES[1])
    hw, hh = 0.13 * w, 0.11 * h
    eyes = []
    for fx in ex:
        cx, cy = x + fx * w, y + BOX_EYES[2] * h
        x0, x1 = int(max(0, cx - hw)), int(min(grey.shape[1], cx + hw))
        y0, y1 = int(max(0, cy - hh)), int(min(grey.shape[0], cy + hh))
        if x1 - x0 < 3 or y1 - y0 < 3:
            return None
        win = cv2.GaussianBlur(grey[y0:y1, x0:x1].astype(np.float32), (0, 0), max(0.8, w / 40))
        i, j = np.unravel_index(int(win.argmin()), win.shape)
        if float(np.median(win)) - float(win[i, j]) < 8.0:
            return None
        eyes.append((float(x0 + j + 0.5), float(y0 + i + 0.5)))
    (lx, ly), (rx, ry) = eyes
    dist = math.hypot(rx - lx, ry - ly)
    nominal = (BOX_EYES[1] - BOX_EYES[0]) * w
    if (
        not 0.65 * nominal <= dist <= 1.15 * nominal
        or abs(math.degrees(math.atan2(ry - ly, rx - lx))) > 20
    ):
        return None
    return eyes[0], eyes[1]


__all__ = [
    "BOX_EYES",
    "TEMPLATE_EYES",
    "box_eyes",
    "align_face",
    "apply",
    "find_eyes",
    "invert",
    "similarity_from_eyes",
    "template_eyes",
    "transform_scale",
    "warp",
]
