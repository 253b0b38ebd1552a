"""Hole masks for inpainting and damage masks for old-photo restoration.

Every function returns a float32 tensor of shape (B, 1, H, W) with values in {0, 1}, where 1
marks a missing (or damaged) pixel, and honours the requested hole-ratio range exactly: each mask
has ``lo <= mask.mean() <= hi``. A target ratio is drawn uniformly in the range, then elements
(strokes, boxes, scratches, specks) are added until the target is reached; an element that would
overshoot the upper bound is drawn again a few times and, failing that, trimmed to the pixels
nearest its start. Blobs threshold a smooth noise field at the exact quantile instead.

Rasterisation runs on the CPU with OpenCV on uint8 canvases (microseconds per element) and the
result is moved to ``device``. All randomness comes from the ``torch.Generator`` passed in: one
seed is drawn from it and feeds a NumPy ``Generator``, so a seeded generator reproduces a batch
exactly and advances the generator's state.

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> m = random_masks(4, 64, 64, hole_range=(0.1, 0.2), generator=g)
    >>> m.shape, bool(((m.mean((1, 2, 3)) >= 0.1) & (m.mean((1, 2, 3)) <= 0.2)).all())
    (torch.Size([4, 1, 64, 64]), True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import cv2
import numpy as np
import torch

__all__ = [
    "MASK_KINDS",
    "MaskKind",
    "StrokeWidth",
    "blob_masks",
    "box_masks",
    "dust_masks",
    "max_filter",
    "random_masks",
    "regions_touching",
    "ring_outside",
    "scratch_masks",
    "stroke_masks",
]

MaskKind = Literal["stroke", "box", "blob", "scratch", "dust"]
StrokeWidth = Literal["thin", "medium", "thick"]
MASK_KINDS: tuple[str, ...] = ("stroke", "box", "blob", "scratch", "dust")

# LaMa's mask generator settings at 256 px (configs/data_gen/random_{thin,medium,thick}_256.yaml):
# a stroke is a walk of 1-5 segments of length 10 + U[0, max_len) and brush 5 + U[0, max_width).
# They scale with min(H, W) / 256.
_STROKE_PRESETS: dict[str, tuple[int, int]] = {  # width: (max_len, max_width)
    "thin": (40, 10),
    "medium": (100, 50),
    "thick": (200, 100),
}
_BOX_SIZE = (30, 150)  # LaMa thick box_kwargs: bbox_min_size, bbox_max_size at 256 px
_RETRIES = 3  # redraws of an element that overshoots before it is trimmed
_MAX_ELEMENTS = 200_000

# (anchor (x, y), bounding box (y0, y1, x0, x1)) of the element just drawn
_Drawn = tuple[tuple[float, float], tuple[int, int, int, int]]
_Drawer = Callable[[np.ndarray, np.random.Generator], _Drawn]


def _numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A NumPy generator seeded from (and advancing) ``generator``."""
    seed = torch.randint(0, 2**62, (2,), generator=generator, device=generator.device)
    return np.random.default_rng([int(s) for s in seed.tolist()])


def _count_bounds(hole_range: tuple[float, float], n: int) -> tuple[int, int]:
    lo, hi = (float(v) for v in hole_range)
    if not (0.0 <= lo <= hi <= 1.0):
        raise ValueError(f"hole_range must satisfy 0 <= lo <= hi <= 1, got {hole_range}")
    kmin, kmax = math.ceil(lo * n), math.floor(hi * n)
    kmin += kmin / n < lo  # guard against rounding in lo * n
    kmax -= kmax / n > hi
    if kmin > kmax:
        raise ValueError(f"hole_range {hole_range} holds no pixel count of a {n}-pixel mask")
    return kmin, kmax


def _check_size(b: int, h: int, w: int) -> None:
    if b < 1 or h < 1 or w < 1:
        raise ValueError(f"batch and size must be positive, got b={b}, h={h}, w={w}")


def _to_tensor(masks: list[np.ndarray], device: torch.device | str | None) -> torch.Tensor:
    out = torch.from_numpy(np.stack(masks)).to(torch.float32).unsqueeze(1)
    return out.to(device) if device is not None else out


def _bbox(pts: np.ndarray, pad: float, h: int, w: int) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(pts.min(0) - pad).astype(int)
    x1, y1 = np.ceil(pts.max(0) + pad + 1).astype(int)
    return max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)


def _grow(
    h: int, w: int, hole_range: tuple[float, float], rng: np.random.Generator, draw: _Drawer
) -> np.ndarray:
    """Add elements drawn by ``draw`` until the hole count is in range (see module docstring)."""
    kmin, kmax = _count_bounds(hole_range, h * w)
    target = max(int(rng.integers(kmin, kmax + 1)), min(1, kmax))
    mask = np.zeros((h, w), np.uint8)
    elem = np.zeros((h, w), np.uint8)
    count, overshoots = 0, 0
    for _ in range(_MAX_ELEMENTS):
        if count >= target:
            return mask
        (ax, ay), (y0, y1, x0, x1) = draw(elem, rng)
        win, old = elem[y0:y1, x0:x1], mask[y0:y1, x0:x1]
        new = (win > 0) & (old == 0)
        win[:] = 0
        k = int(new.sum())
        if k == 0:
            continue
        if count + k <= kmax:
            old[new] = 1
            count += k
            continue
        overshoots += 1
        if overshoots <= _RETRIES:
            continue
        # Trim: keep the new pixels nearest the element's start.
        need = target - count
        ys, xs = np.nonzero(new)
        d = (ys + y0 - ay) ** 2 + (xs + x0 - ax) ** 2
        keep = np.argpartition(d, need - 1)[:need]
        old[ys[keep], xs[keep]] = 1
        return mask
    raise RuntimeError(f"could not reach hole_range {hole_range} in {_MAX_ELEMENTS} elements")


def _stroke_drawer(width: str, h: int, w: int) -> _Drawer:
    max_len, max_width = _STROKE_PRESETS[width]
    s = min(h, w) / 256.0

    def draw(canvas: np.ndarray, rng: np.random.Generator) -> _Drawn:
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        pts = [(x, y)]
        brush = max(1, round((5 + rng.integers(max_width)) * s))
        for _ in range(1 + int(rng.integers(5))):
            angle = rng.uniform(0, 2 * np.pi)
            length = (10 + rng.integers(max_len)) * s
            x = float(np.clip(x + length * np.sin(angle), 0, w - 1))
            y = float(np.clip(y + length * np.cos(angle), 0, h - 1))
            pts.append((x, y))
        p = np.asarray(pts)
        cv2.polylines(canvas, [np.round(p).astype(np.int32)], False, 1, brush, cv2.LINE_8)
        return pts[0], _bbox(p, brush, h, w)

    return draw


def _box_drawer(h: int, w: int) -> _Drawer:
    s = min(h, w) / 256.0
    lo, hi = max(1, round(_BOX_SIZE[0] * s)), max(2, round(_BOX_SIZE[1] * s))

    def draw(canvas: np.ndarray, rng: np.random.Generator) -> _Drawn:
        bh, bw = (int(min(rng.integers(lo, hi + 1), n)) for n in (h, w))
        y0, x0 = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        canvas[y0 : y0 + bh, x0 : x0 + bw] = 1
        return (x0 + bw / 2, y0 + bh / 2), (y0, y0 + bh, x0, x0 + bw)

    return draw


def _scratch_drawer(
    h: int, w: int, max_angle: float, thickness: tuple[int, int], bend: float
) -> _Drawer:
    def draw(canvas: np.ndarray, rng: np.random.Generator) -> _Drawn:
        length = rng.uniform(0.3, 1.2) * h
        angle = np.deg2rad(np.clip(rng.normal(0, max_angle / 2), -max_angle, max_angle))
        t = np.linspace(0.0, 1.0, 24)[:, None]
        direction, normal = (
            np.array([np.sin(angle), np.cos(angle)]),
            np.array([np.cos(angle), -np.sin(angle)]),
        )
        sway = (
            bend
            * length
            * rng.uniform(-1, 1)
            * np.sin(np.pi * t * rng.uniform(0.5, 2) + rng.uniform(0, np.pi))
        )
        start = np.array([rng.uniform(0, w), rng.uniform(-0.2 * h, h)])
        p = start + (t - 0.5 * rng.uniform(0, 1)) * length * direction + sway * normal
        thick = int(rng.integers(thickness[0], thickness[1] + 1))
        cv2.polylines(canvas, [np.round(p).astype(np.int32)], False, 1, thick, cv2.LINE_8)
        return tuple(p[0]), _bbox(p, thick, h, w)

    return draw


def _dust_drawer(h: int, w: int, hair_prob: float) -> _Drawer:
    s = max(1.0, min(h, w) / 256.0)

    def draw(canvas: np.ndarray, rng: np.random.Generator) -> _Drawn:
        c = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        if rng.uniform() < hair_prob:  # a short curved hair, 1 px wide
            n = 8
            turn = np.cumsum(rng.normal(0, 0.4, n)) + rng.uniform(0, 2 * np.pi)
            step = rng.uniform(4, 15) * s / n
            p = c + np.cumsum(np.stack([np.cos(turn), np.sin(turn)], 1) * step, 0)
            cv2.polylines(canvas, [np.round(p).astype(np.int32)], False, 1, 1, cv2.LINE_8)
            return tuple(c), _bbox(np.vstack([c, p]), 1, h, w)
        axes = (int(rng.integers(0, 3 * s)), int(rng.integers(0, 3 * s)))
        centre = tuple(int(v) for v in np.round(c))
        cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        return tuple(c), _bbox(c[None], max(axes) + 1, h, w)

    return draw


def _blob(h: int, w: int, hole_range: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    kmin, kmax = _count_bounds(hole_range, h * w)
    k = int(rng.integers(kmin, kmax + 1))
    cells = int(rng.integers(3, 9))  # blob scale: a few noise cells across the image
    low = rng.standard_normal((cells, cells)).astype(np.float32)
    field = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    field += 0.15 * cv2.GaussianBlur(rng.standard_normal((h, w)), (0, 0), max(1.0, min(h, w) / 64))
    mask = np.zeros(h * w, np.uint8)
    if k > 0:
        mask[np.argpartition(-field.ravel(), k - 1)[:k]] = 1
    return mask.reshape(h, w)


def _batch(
    b: int,
    h: int,
    w: int,
    hole_range: tuple[float, float],
    generator: torch.Generator,
    device: torch.device | str | None,
    make: Callable[[np.random.Generator], _Drawer],
) -> torch.Tensor:
    _check_size(b, h, w)
    _count_bounds(hole_range, h * w)
    rng = _numpy_rng(generator)
    return _to_tensor([_grow(h, w, hole_range, rng, make(rng)) for _ in range(b)], device)


def stroke_masks(
    b: int,
    h: int,
    w: int,
    *,
    width: StrokeWidth = "medium",
    hole_range: tuple[float, float] = (0.1, 0.5),
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """LaMa-style free-form strokes: random walks of thick line segments.

    Args:
        b, h, w: batch size and mask size.
        width: LaMa's ``thin`` / ``medium`` / ``thick`` brush and length presets (at 256 px,
            scaled with ``min(h, w) / 256``).
        hole_range: ``(lo, hi)``; every mask has ``lo <= mean <= hi``.
        generator: source of all randomness.
        device: where the result goes (default CPU).

    Returns:
        Masks, float32 in {0, 1}, 1 = hole.

    Shape:
        (b, 1, h, w).
    """
    if width not in _STROKE_PRESETS:
        raise ValueError(f"width must be one of {tuple(_STROKE_PRESETS)}, got {width!r}")
    return _batch(b, h, w, hole_range, generator, device, lambda _: _stroke_drawer(width, h, w))


def box_masks(
    b: int,
    h: int,
    w: int,
    *,
    hole_range: tuple[float, float] = (0.1, 0.5),
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Unions of axis-aligned rectangles (LaMa box sizes, 30-150 px at 256 px).

    Args and Returns as :func:`stroke_masks`. Shape: (b, 1, h, w), float32 in {0, 1}.
    """
    return _batch(b, h, w, hole_range, generator, device, lambda _: _box_drawer(h, w))


def blob_masks(
    b: int,
    h: int,
    w: int,
    *,
    hole_range: tuple[float, float] = (0.1, 0.5),
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Irregular blobs: smooth noise thresholded at the quantile that gives the target ratio.

    Args and Returns as :func:`stroke_masks`. Shape: (b, 1, h, w), float32 in {0, 1}.
    """
    _check_size(b, h, w)
    _count_bounds(hole_range, h * w)
    rng = _numpy_rng(generator)
    return _to_tensor([_blob(h, w, hole_range, rng) for _ in range(b)], device)


def scratch_masks(
    b: int,
    h: int,
    w: int,
    *,
    hole_range: tuple[float, float] = (0.002, 0.02),
    max_angle: float = 15.0,
    thickness: tuple[int, int] = (1, 3),
    bend: float = 0.02,
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Old-photo scratches: long, thin, nearly straight lines, mostly vertical.

    Args:
        b, h, w, hole_range, generator, device: as :func:`stroke_masks`.
        max_angle: largest deviation from vertical in degrees (angles are drawn from a normal
            of std ``max_angle / 2`` clipped to it); 90 gives any direction (creases).
        thickness: line width range in pixels, inclusive.
        bend: amplitude of the sinusoidal sway as a fraction of the scratch length.

    Returns:
        Masks, float32 in {0, 1}. Shape: (b, 1, h, w).
    """
    if not 1 <= thickness[0] <= thickness[1]:
        raise ValueError(f"thickness must be (lo, hi) with 1 <= lo <= hi, got {thickness}")
    return _batch(
        b,
        h,
        w,
        hole_range,
        generator,
        device,
        lambda _: _scratch_drawer(h, w, float(max_angle), thickness, float(bend)),
    )


def dust_masks(
    b: int,
    h: int,
    w: int,
    *,
    hole_range: tuple[float, float] = (0.001, 0.01),
    hair_prob: float = 0.15,
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Dust: many small specks (1-5 px ellipses) and a few short curved hairs.

    Args:
        b, h, w, hole_range, generator, device: as :func:`stroke_masks`.
        hair_prob: probability that an element is a hair rather than a speck.

    Returns:
        Masks, float32 in {0, 1}. Shape: (b, 1, h, w).
    """
    return _batch(b, h, w, hole_range, generator, device, lambda _: _dust_drawer(h, w, hair_prob))


def random_masks(
    b: int,
    h: int,
    w: int,
    *,
    kinds: Sequence[MaskKind] = ("stroke", "box", "blob"),
    hole_range: tuple[float, float] = (0.1, 0.5),
    generator: torch.Generator,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A batch mixing mask kinds: each mask picks a kind (and a stroke width) uniformly.

    Args:
        b, h, w, hole_range, generator, device: as :func:`stroke_masks`.
        kinds: the kinds to draw from, any of ``MASK_KINDS``.

    Returns:
        Masks, float32 in {0, 1}, every one with a hole ratio in ``hole_range``.

    Shape:
        (b, 1, h, w).
    """
    bad = [k for k in kinds if k not in MASK_KINDS]
    if not kinds or bad:
        raise ValueError(f"kinds must be a non-empty subset of {MASK_KINDS}, got {tuple(kinds)}")
    _check_size(b, h, w)
    _count_bounds(hole_range, h * w)
    rng = _numpy_rng(generator)
    makers: dict[str, Callable[[], _Drawer]] = {
        "stroke": lambda: _stroke_drawer(("thin", "medium", "thick")[rng.integers(3)], h, w),
        "box": lambda: _box_drawer(h, w),
        "scratch": lambda: _scratch_drawer(h, w, 15.0, (1, 3), 0.02),
        "dust": lambda: _dust_drawer(h, w, 0.15),
    }
    out = []
    for _ in range(b):
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind == "blob":
            out.append(_blob(h, w, hole_range, rng))
        else:
            out.append(_grow(h, w, hole_range, rng, makers[kind]()))
    return _to_tensor(out, device)


def regions_touching(region: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The 8-connected regions of ``region`` (H x W bool) that hold at least one pixel of
    ``seeds`` (H x W bool), as a bool array: hysteresis, as Canny's edges, where ``region`` is the
    weak response and ``seeds`` the sure one. A one-pixel diagonal line is one region.

    Example:
        >>> r = np.array([[1, 1, 0, 1], [0, 0, 0, 1]], bool)
        >>> regions_touching(r, np.array([[1, 0, 0, 0], [0, 0, 0, 0]], bool)).astype(int).tolist()
        [[1, 1, 0, 0], [0, 0, 0, 0]]
    """
    from scipy import ndimage

    labels, n = ndimage.label(region, structure=np.ones((3, 3), dtype=bool))
    sure = np.zeros(n + 1, dtype=bool)
    sure[np.unique(labels[seeds])] = True
    sure[0] = False
    return sure[labels]


def max_filter(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """The maximum over a ``kernel`` x ``kernel`` square around each pixel of ``x`` (B, C, H, W)
    (odd ``kernel``; outside the image counts as nothing): ``F.max_pool2d(x, kernel, 1,
    kernel // 2)``, the same values.

    On the CPU it is OpenCV's dilation, per plane, in float32: its rectangle is a row then a
    column pass in SIMD, far faster than torch's max pools with a wide square (the faces' opening
    on a 4608 x 3456 scan, ``restore.faces.protect``: ``python scripts/bench/photo.py --morph cv2
    torch --image PATH``). Elsewhere (CUDA) the same two passes as torch max pools.

    Example:
        >>> x = torch.zeros(1, 1, 5, 5); x[0, 0, 2, 2] = 1
        >>> max_filter(x, 3)[0, 0].sum().item(), max_filter(x, 5)[0, 0].sum().item()
        (9.0, 25.0)
    """
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"kernel must be odd and >= 1, got {kernel}")
    if kernel == 1:
        return x.clone()
    pad = kernel // 2
    if x.device.type != "cpu":
        y = torch.nn.functional.max_pool2d(x, (kernel, 1), stride=1, padding=(pad, 0))
        return torch.nn.functional.max_pool2d(y, (1, kernel), stride=1, padding=(0, pad))
    box = cv2.getStructuringElement(cv2.MORPH_RECT, (kernel, kernel))
    a = x.detach().to(torch.float32).numpy()
    out = np.empty_like(a)
    for b in range(a.shape[0]):
        for c in range(a.shape[1]):
            # cv2's default border for a dilation is the type's minimum: outside is nothing
            out[b, c] = cv2.dilate(a[b, c], box)
    return torch.from_numpy(out).to(x.dtype)


def ring_outside(region: np.ndarray) -> np.ndarray:
    """The pixels 2 px outside ``region`` (H x W, nonzero = inside): in its 5x5 dilation but not
    in its 3x3 one, as a bool array. Where a cut-out region meets the picture
    (:mod:`restore.photo.corners`) or flaked paper its surroundings
    (:func:`restore.faces.protect.paper_blobs`).

    Example:
        >>> r = np.zeros((7, 7), np.uint8); r[3, 3] = 1
        >>> int(ring_outside(r).sum())  # the 5x5 square's border
        16
    """
    r8 = (region > 0).astype(np.uint8)
    box3, box5 = np.ones((3, 3), np.uint8), np.ones((5, 5), np.uint8)
    return (cv2.dilate(r8, box5) > 0) & ~(cv2.dilate(r8, box3) > 0)
