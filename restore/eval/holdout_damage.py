"""A second, independent old-print damage generator, for evaluation only.

It measures whether a restoration model generalises beyond the damage it was trained on
(:mod:`restore.data.old_print`). It shares no code, shapes or parameters with that generator:
it runs in NumPy and OpenCV on the CPU, draws cracks as branching random-walk polylines (not
Voronoi edges), folds as straight ridges with a blurred offset shadow, a torn corner as a
polygon with a midpoint-displaced edge, stains as elliptical tide rings and dust as discs and
random-walk hairs, on B&W (BT.709 luma) or sepia (a three-point colour ramp) bases. Training must
never import it: ``tests/eval/test_holdout_damage.py`` checks that no module reachable from
``restore.data``, ``restore.tasks`` or ``restore.train`` does.

Every image gets all five kinds (cracks, one or two folds, one torn corner, stains, dust), then
a mild scan (grain, JPEG). The mask marks the pixels the cracks, folds, tear and dust painted;
stains, grain and JPEG change tone only and are not in it.

Deterministic: image ``i`` of a batch is damaged by ``numpy.random.default_rng([seed, i])``, so
its result does not depend on the other images in the batch.

Example:
    >>> damaged, mask, target = holdout_damage(torch.rand(2, 3, 96, 96), seed=0)
    >>> damaged.shape, mask.shape, bool(mask.amax() == 1)
    (torch.Size([2, 3, 96, 96]), torch.Size([2, 1, 96, 96]), True)
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import torch

__all__ = ["HOLDOUT_BASES", "HOLDOUT_KINDS", "holdout_damage", "holdout_image", "holdout_stains"]

log = logging.getLogger(__name__)

HOLDOUT_BASES = ("bw", "sepia")
#: The kinds of damage that go into the mask, in the order they are painted.
HOLDOUT_KINDS = ("cracks", "folds", "dust", "torn corner")
_LUMA_709 = np.array([0.2126, 0.7152, 0.0722], np.float32)
# sepia ramp: luma 0 -> dark umber, 0.5 -> warm brown, 1 -> cream (RGB)
_SEPIA_RAMP = np.array([[0.10, 0.06, 0.03], [0.56, 0.44, 0.30], [0.98, 0.94, 0.84]], np.float32)


def _base(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """B&W or sepia print of an (H, W, 3) float32 RGB image in [0, 1]."""
    y = np.clip(rgb @ _LUMA_709, 0, 1)
    if rng.random() < 0.5:
        return np.repeat(y[..., None], 3, axis=2)
    xs = np.array([0.0, 0.5, 1.0], np.float32)
    return np.stack([np.interp(y, xs, _SEPIA_RAMP[:, c]) for c in range(3)], 2).astype(np.float32)


def _paint(img: np.ndarray, mask: np.ndarray, layer: np.ndarray, colour: np.ndarray) -> None:
    """Paint ``colour`` where ``layer`` (uint8 0/1) is set, and add it to ``mask``, in place."""
    on = layer > 0
    img[on] = colour
    mask[on] = 1


def _walk(
    layer: np.ndarray,
    rng: np.random.Generator,
    start: np.ndarray,
    heading: float,
    steps: int,
    depth: int,
    thick: int,
) -> None:
    """A crack: a random walk of short segments that may fork (up to ``depth`` more times)."""
    h, w = layer.shape
    p = start.astype(np.float64)
    for _ in range(steps):
        heading += rng.normal(0, 0.3)
        q = p + rng.uniform(2.5, 6.0) * np.array([np.cos(heading), np.sin(heading)])
        t = int(np.clip(thick + rng.integers(-1, 2), 1, 4))
        cv2.line(layer, tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int)), 1, t)
        p = q
        if not (-10 < p[0] < w + 10 and -10 < p[1] < h + 10):
            return
        if depth > 0 and rng.random() < 0.06:
            turn = rng.choice([-1, 1]) * rng.uniform(0.5, 1.3)
            _walk(layer, rng, p, heading + turn, int(steps * 0.5), depth - 1, max(1, thick - 1))


def _cracks(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    h, w = mask.shape
    layer = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        start = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        steps = int(rng.uniform(0.15, 0.5) * (h + w) / 4)
        _walk(layer, rng, start, rng.uniform(0, 2 * np.pi), steps, 3, int(rng.integers(1, 3)))
    light = rng.random() < 0.7
    colour = np.array([0.93, 0.91, 0.86] if light else [0.12, 0.1, 0.08], np.float32)
    _paint(img, mask, layer, colour * rng.uniform(0.9, 1.05))


def _folds(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    h, w = mask.shape
    for _ in range(int(rng.integers(1, 3))):
        # a straight line through a random point, at any angle within 25 degrees of an axis
        angle = rng.choice([0.0, np.pi / 2]) + rng.uniform(-0.45, 0.45)
        c = np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h])
        d = np.array([np.cos(angle), np.sin(angle)]) * 2 * (h + w)
        nrm = np.array([-np.sin(angle), np.cos(angle)])
        ridge_t = int(rng.integers(2, 5))
        offset = nrm * (ridge_t / 2 + rng.uniform(2, 4)) * rng.choice([-1, 1])
        shade = np.zeros((h, w), np.float32)
        a, b = c - d + offset, c + d + offset
        cv2.line(
            shade,
            tuple(np.round(a).astype(int)),
            tuple(np.round(b).astype(int)),
            1.0,
            int(rng.integers(3, 7)),
        )
        shade = cv2.GaussianBlur(shade, (0, 0), rng.uniform(1.0, 2.5)) * rng.uniform(0.25, 0.5)
        img *= 1 - shade[..., None]
        mask[shade > 0.15] = 1
        ridge = np.zeros((h, w), np.uint8)
        cv2.line(
            ridge,
            tuple(np.round(c - d).astype(int)),
            tuple(np.round(c + d).astype(int)),
            1,
            ridge_t,
        )
        _paint(img, mask, ridge, np.array([0.9, 0.89, 0.85], np.float32) * rng.uniform(0.9, 1.08))


def _torn_corner(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    h, w = mask.shape
    s = min(h, w)
    cx, cy = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)][int(rng.integers(4))]
    a, b = rng.uniform(0.1, 0.3) * s, rng.uniform(0.1, 0.3) * s
    p0 = np.array([abs(cx - a), cy], np.float64)
    p1 = np.array([cx, abs(cy - b)], np.float64)
    edge = [p0, p1]
    for _ in range(5):  # midpoint displacement: a ragged tear between the two edge points
        out = [edge[0]]
        for u, v in zip(edge[:-1], edge[1:]):
            mid = (u + v) / 2 + rng.normal(0, 0.12 * np.linalg.norm(v - u) + 0.3, 2)
            out += [mid, v]
        edge = out
    poly = np.round(np.array([[cx, cy], *edge])).astype(np.int32)
    layer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(layer, [poly], 1)
    bed = rng.choice([0.96, 0.05, 0.55])
    _paint(img, mask, layer, np.full(3, bed, np.float32))


def _stains(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    s = min(h, w)
    for _ in range(int(rng.integers(1, 4))):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(0.08, 0.3) * s) + 2, int(rng.uniform(0.08, 0.3) * s) + 2)
        tilt = float(rng.uniform(0, 180))
        blot, ring = np.zeros((h, w), np.float32), np.zeros((h, w), np.float32)
        cv2.ellipse(blot, centre, axes, tilt, 0, 360, 1.0, -1)
        cv2.ellipse(ring, centre, axes, tilt, 0, 360, 1.0, int(rng.integers(2, 5)))
        blot = cv2.GaussianBlur(blot, (0, 0), 3.0) * rng.uniform(0.05, 0.2)
        ring = cv2.GaussianBlur(ring, (0, 0), 1.5) * rng.uniform(0.15, 0.35)
        tint = np.array([0.1, 0.3, 0.6], np.float32)  # stains lose blue first
        img *= 1 - blot[..., None] * tint - ring[..., None] * (0.6 + tint)


def _dust(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> None:
    h, w = mask.shape
    layer = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(10, 40) * h * w / 256**2) + 3):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        cv2.circle(layer, centre, int(rng.choice([0, 0, 1, 1, 2])), 1, -1)
    for _ in range(int(rng.integers(0, 3))):  # hairs
        p = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        heading = rng.uniform(0, 2 * np.pi)
        pts = [p]
        for _ in range(int(rng.integers(6, 16))):
            heading += rng.normal(0, 0.5)
            pts.append(pts[-1] + 2.0 * np.array([np.cos(heading), np.sin(heading)]))
        cv2.polylines(layer, [np.round(np.array(pts)).astype(np.int32)], False, 1, 1)
    dark = rng.random() < 0.6
    _paint(img, mask, layer, np.full(3, 0.08 if dark else 0.95, np.float32))


def holdout_image(
    rgb: np.ndarray,
    seed: int | tuple[int, ...],
    kinds: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damage one image; the per-image core of :func:`holdout_damage`.

    Args:
        rgb: (H, W, 3) float32 RGB in [0, 1], H and W >= 16.
        seed: NumPy seed (an int or a sequence of ints).
        kinds: if given, receives per kind of masked damage (:data:`HOLDOUT_KINDS`) the (H, W)
            bool pixels of the mask that it painted last (dust over a crack is dust, a tear
            over both is the tear): their union is the mask. The draws are the same either way.

    Returns:
        ``(damaged, mask, target)``: (H, W, 3) float32 in [0, 1], (H, W) float32 in {0, 1},
        and the clean B&W or sepia base (H, W, 3).
    """
    rng = np.random.default_rng(seed)
    target = _base(_checked(rgb), rng)
    img, mask = target.copy(), np.zeros(rgb.shape[:2], np.float32)
    _stains(img, rng)
    painters = (_cracks, _folds, _dust, _torn_corner)
    for name, paint in zip(HOLDOUT_KINDS, painters, strict=True):
        own = np.zeros_like(mask)  # the painters only write their footprint into the mask
        paint(img, own, rng)
        np.maximum(mask, own, out=mask)
        if kinds is not None:
            for other in kinds.values():
                other &= own == 0
            kinds[name] = own > 0
    return _scan(img, rng), mask, target


def _checked(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as float32 in [0, 1], or ValueError when it is no (H, W, 3) image of H, W >= 16."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 16:
        raise ValueError(f"image must be (H, W, 3) with H, W >= 16, got {rgb.shape}")
    return np.clip(rgb.astype(np.float32), 0, 1)


def _scan(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A mild scan: grain, then JPEG q70-95."""
    img += rng.normal(0, rng.uniform(0.005, 0.02), img.shape[:2])[..., None].astype(np.float32)
    img = np.clip(img, 0, 1)
    quality = int(rng.integers(70, 96))
    ok, buf = cv2.imencode(
        ".jpg", (img[..., ::-1] * 255 + 0.5).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].astype(np.float32) / 255


def holdout_stains(rgb: np.ndarray, seed: int | tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Only the tone damage of :func:`holdout_image`: its B&W or sepia base, its stains (tinted
    blots that lose blue first, darker tide rings) and its scan (grain, JPEG), from the same draws.

    Args:
        rgb: (H, W, 3) float32 RGB in [0, 1], H and W >= 16.
        seed: NumPy seed (an int or a sequence of ints).

    Returns:
        ``(stained, target)``: (H, W, 3) float32 in [0, 1], and the clean base.
    """
    rng = np.random.default_rng(seed)
    target = _base(_checked(rgb), rng)
    img = target.copy()
    _stains(img, rng)
    return _scan(img, rng), target


def holdout_damage(img: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Damage a batch with the held-out generator: cracks, folds, a torn corner, stains, dust.

    Args:
        img: clean photos in [0, 1], any float dtype and device (the work is done on the CPU).
        seed: base seed; image ``i`` uses ``numpy.random.default_rng([seed, i])``.

    Returns:
        ``(damaged, mask, target)``: damaged images in [0, 1]; the true mask, 1 where cracks,
        folds, the tear or dust destroyed the pixel; and the clean B&W or sepia print that a
        restoration should recover. All in the input's dtype and on its device.

    Shape:
        (B, 3, H, W) -> ((B, 3, H, W), (B, 1, H, W), (B, 3, H, W)); H, W >= 16.
    """
    if not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[1] != 3:
        shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
        raise ValueError(f"img must be a (B, 3, H, W) tensor, got {shape}")
    if not img.is_floating_point():
        raise ValueError(f"img must be floating point in [0, 1], got {img.dtype}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    arrays = img.detach().float().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy()
    out = [holdout_image(a, (seed, i)) for i, a in enumerate(arrays)]
    log.debug("holdout damage: %d images, seed %d", len(out), seed)

    def stack(k: int) -> torch.Tensor:
        t = torch.from_numpy(np.stack([o[k] for o in out]))
        t = t.permute(0, 3, 1, 2) if t.ndim == 4 else t[:, None]
        return t.to(device=img.device, dtype=img.dtype)

    return stack(0), stack(1), stack(2)
