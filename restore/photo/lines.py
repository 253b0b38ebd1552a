"""Long light lines: the folds and scratches that run straight across a print.

A fold's ridge and a scratch through the emulsion are long, thin and straight (or nearly), and
lighter than the picture on both sides of them: they show the paper. The damage detector sees the
print through 256-px crops, one small piece at a time, and on many real prints it marks such a
line only in pieces, or at a probability under its threshold all the way along (the scratches
down the coat of ``bzz12366/9`` in ``../shared/data/real_old`` average 0.2-0.6). What it cannot
see, a line detector can: a straight line keeps its direction across the whole print, through
faces and backgrounds alike.

:func:`long_lines` finds them and returns their pixels:

1. the light-ridge response of the photo's luma: at every pixel, how much lighter it is than
   both of its neighbours d px away (d = 2, 3, 5; across rows and across columns, the larger of
   the two), after a slight blur. A step edge is lighter than one side only, so it scores nothing.
2. the pixels whose response is over :data:`CONTRAST` times the median response of the photo
   (its texture and grain), and at least :data:`MIN_RIDGE`, are the candidates;
   ``cv2.HoughLinesP`` finds the straight segments through them at least :data:`MIN_LENGTH` of
   the photo's shorter side long.
3. a segment is kept when it is
   - inside the picture: not within the edge band (:data:`restore.photo.margins.BAND` of the
     shorter side) of one edge all along, where a print's light border or mount runs;
   - solid: at least :data:`ON_LINE` of its length lies on candidates;
   - alone: no parallel line 4-20 px to either side has more than :data:`ALONE` of its density
     (blinds, stripes, book spines and a fabric's weave come in parallel rows; a fold does not);
   - no more colourful than the print around it (:data:`NEUTRAL`): bare paper is not;
   - seen by the detector too: its probability along the line is at least :data:`EVIDENCE` on
     average, half the pipeline's threshold. The photo's own light lines (a railing, a book's
     spine, a light band between a wing's dark veins) get 0-0.2 there, the real scratches and
     folds that the detector leaves under its threshold 0.2-0.8;
   - or seen where it goes on: its light line, followed beyond its ends as in step 5, runs
     into at least :data:`MEET` px that the detector marks at the pipeline's threshold. The
     diagonal crack over the wicker chair of ``dip2025/scanned2`` gets 0.01 from the detector
     along Hough's piece (the weave hides it) and 0.97 where it leaves the chair;
   - or, seen or not, on one straight line with a kept segment (directions within
     :data:`SAME_ANGLE` degrees, ends within :data:`SAME_LINE` px of its line): a crease keeps
     its direction across the print, and the detector that sees it over the background may not
     see it over a face (the fold across the brows of ``civi0411/real_0014``: about 0.3 along
     Hough's piece beside the hair, 0.0 along its pieces over the forehead). Evidence along any
     long enough stretch of a segment instead would take the light band between two veins of
     the grey butterfly (Set5) too.
4. its pixels are those within 2 px of a kept segment that are lighter than the picture around
   them (its median over 15 px) by :data:`HALF` of the line's own contrast: the line as wide as
   it is at half its contrast. The pipeline grows them as it grows the detector's mask.
5. a kept segment goes on beyond its ends, on its own straight line, as far as the photo still
   shows a light line there (:func:`_extended`): the lightest of the 3 px at the line's centre
   at least :data:`EXTEND_RIDGE` lighter than the lighter of its two sides (4-6 px away), with
   gaps of at most :data:`EXTEND_GAP` px. Hough finds a scratch where it is bright and solid;
   where it crosses busy picture (the blinds of ``dip2025/scanned2``, light and dark slats in
   turn) the ridge candidates are too sparse for it, but across the line the scratch is still
   lighter than both of its sides on every slat (a column beside it almost never is). The
   extension's pixels are those within 2 px of its line lighter than its sides by :data:`HALF`
   of the line's contrast there.

Photos larger than :data:`WORK_SIDE` on their longer side are looked at shrunk to it (a scan's
wide cracks become as wide as the ridge test sees), and the mask is brought back to full size.

Measured by ``python scripts/eval_photo.py [--no-lines]`` and ``python scripts/eval_real_labels.py
[--no-lines]`` (docs/BENCHMARKS.md, "Long light lines").

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> x = 0.4 + 0.05 * torch.rand(1, 3, 200, 160, generator=g)
    >>> x[..., :, 80:82] = 0.9  # a light vertical line, 2 px wide, top to bottom
    >>> prob = torch.zeros(1, 1, 200, 160)
    >>> prob[..., :, 79:83] = 0.3  # the detector saw it, under its threshold
    >>> m = long_lines(x, prob)
    >>> float(m[..., 10:190, 80:82].mean()) > 0.9, int(m[..., :, :70].sum() + m[..., :, 92:].sum())
    (True, 0)
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

from restore.photo.margins import BAND

__all__ = [
    "ALONE",
    "CONTRAST",
    "EVIDENCE",
    "EXTEND_GAP",
    "EXTEND_RIDGE",
    "HALF",
    "MEET",
    "MIN_LENGTH",
    "MIN_RIDGE",
    "NEUTRAL",
    "ON_LINE",
    "SAME_ANGLE",
    "SAME_LINE",
    "WORK_SIDE",
    "long_lines",
    "ridge_response",
]

#: Candidates: ridge response over this many times the photo's median response ...
CONTRAST = 4.0
#: ... and at least this much lighter (in [0, 1]) than both neighbours.
MIN_RIDGE = 0.03
#: A segment is at least this share of the photo's shorter side long.
MIN_LENGTH = 0.25
#: Share of a kept segment's length that lies on candidates (within 1 px).
ON_LINE = 0.5
#: A parallel line 4-20 px away may have at most this share of the segment's own density.
ALONE = 1 / 3
#: Largest colourfulness (max - min channel, in [0, 1]) of the line over that of the print 5-7 px
#: beside it.
NEUTRAL = 0.05
#: Smallest mean detector probability along a kept segment: half the pipeline's threshold
#: (:data:`restore.photo.scales.FLIP_THRESHOLD`).
EVIDENCE = 0.2
#: A kept segment's pixels: within 2 px of it and lighter than the picture around them by this
#: share of the line's own median contrast (and by :data:`MIN_RIDGE`): the line as wide as it is
#: at half its contrast (the pipeline then grows the mask by its ``dilate``).
HALF = 0.5
#: Segments on one straight line (:func:`_collinear`): directions within this many degrees ...
SAME_ANGLE = 3.0
#: ... and the ends of one within this many pixels of the other's line.
SAME_LINE = 4.0
#: A kept line goes on beyond its segment where it is still this much lighter than both of its
#: sides (:func:`_extended`) ...
EXTEND_RIDGE = 0.02
#: ... with gaps of at most this many pixels.
EXTEND_GAP = 6
#: A segment the detector does not see along its length is seen where its line, followed beyond
#: its ends, has at least this many pixels marked by the detector (:func:`_runs_into`).
MEET = 5
#: Photos are looked at with their longer side at most this.
WORK_SIDE = 1024
_DISTANCES = (2, 3, 5)
_BORDER = 6  # px at the photo's edges where the ridge test has no neighbours
_OFFSETS_ALONE = [o for o in range(-20, 21) if abs(o) >= 4]
_BESIDE = (-7, -6, -5, 5, 6, 7)
_CROSS = (-6, -5, -4, -1, 0, 1, 4, 5, 6)  # across a line: one side, its centre, the other side


def _smoothed(lum: np.ndarray) -> np.ndarray:
    """The photo's luma slightly blurred: what the ridge tests look at."""
    return cv2.GaussianBlur(lum, (0, 0), 0.8)


def ridge_response(lum: np.ndarray) -> np.ndarray:
    """How much lighter each pixel of ``lum`` (H x W float32 in [0, 1]) is than both of its
    neighbours d px away across rows or across columns (the larger, over d = 2, 3, 5); 0 near the
    edges. A light line scores its contrast, a step edge nothing."""
    return _ridges(_smoothed(lum))


def _ridges(s: np.ndarray) -> np.ndarray:
    """:func:`ridge_response` of the already smoothed luma ``s``."""
    best = np.zeros_like(s)
    for axis in (0, 1):
        for d in _DISTANCES:
            lo, hi = np.roll(s, d, axis), np.roll(s, -d, axis)
            np.maximum(best, np.minimum(s - lo, s - hi), out=best)
    best[:_BORDER] = best[-_BORDER:] = 0
    best[:, :_BORDER] = best[:, -_BORDER:] = 0
    return best


def _coords(
    seg: np.ndarray, offsets: tuple[int, ...] | list[int], shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs), each (len(offsets), n): the pixels along segment ``seg`` (x1, y1, x2, y2),
    shifted by each offset (px) across it, clipped to an image of ``shape``; n is the segment's
    length in pixels."""
    x1, y1, x2, y2 = seg
    n = max(2, int(np.hypot(x2 - x1, y2 - y1)))
    t = np.linspace(0.0, 1.0, n)
    px, py = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
    nx, ny = -(y2 - y1) / n, (x2 - x1) / n
    h, w = shape[:2]
    o = np.asarray(offsets, np.float64)[:, None]
    xs = np.clip(np.round(px + nx * o).astype(np.intp), 0, w - 1)
    ys = np.clip(np.round(py + ny * o).astype(np.intp), 0, h - 1)
    return ys, xs


def _along(img: np.ndarray, seg: np.ndarray, offsets: tuple[int, ...] | list[int]) -> np.ndarray:
    """(len(offsets), n) samples of ``img`` (H x W [x C]) along segment ``seg`` (x1, y1, x2, y2),
    shifted by each offset (px) across it; n is the segment's length in pixels."""
    ys, xs = _coords(seg, offsets, img.shape)
    return img[ys, xs]


def _chroma(rgb: np.ndarray) -> np.ndarray:
    """Colourfulness (max - min channel) of RGB samples (..., 3)."""
    return rgb.max(-1) - rgb.min(-1)


def _shaped(seg: np.ndarray, cand: np.ndarray, img: np.ndarray) -> bool:
    """Whether segment ``seg`` looks like a fold or scratch: solid, alone and neutral (the
    module's tests 3 but the detector's evidence)."""
    on = float(_along(cand, seg, (-1, 0, 1)).max(0).mean())
    if on < ON_LINE:
        return False
    if float(_along(cand, seg, _OFFSETS_ALONE).mean(1).max()) > ALONE * on:
        return False
    line_c = _chroma(_along(img, seg, (-1, 0, 1))).max(0)
    beside_c = np.median(_chroma(_along(img, seg, _BESIDE)), 0)
    return float((line_c - beside_c).mean()) <= NEUTRAL


def _seen_by(seg: np.ndarray, prob: np.ndarray) -> bool:
    """Whether the detector sees segment ``seg``: :data:`EVIDENCE` along it on average."""
    return float(_along(prob, seg, (-2, -1, 0, 1, 2)).max(0).mean()) >= EVIDENCE


def _collinear(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether segments ``a`` and ``b`` (x1, y1, x2, y2) lie on one straight line: directions
    within :data:`SAME_ANGLE` degrees, and both ends of ``b`` within :data:`SAME_LINE` px of
    ``a``'s line."""
    da, db = a[2:] - a[:2], b[2:] - b[:2]
    la, lb = float(np.hypot(*da)), float(np.hypot(*db))
    if la < 1 or lb < 1:
        return False
    if abs(float(da @ db)) / (la * lb) < np.cos(np.radians(SAME_ANGLE)):
        return False
    normal = np.array([-da[1], da[0]]) / la
    return all(abs(float((end - a[:2]) @ normal)) <= SAME_LINE for end in (b[:2], b[2:]))


def _runs_into(seg: np.ndarray, prob: np.ndarray, smooth: np.ndarray) -> bool:
    """Whether segment ``seg``'s light line, followed beyond its ends (:func:`_extended`), runs
    into damage the detector marks: at least :data:`MEET` px of it where the probability
    reaches the pipeline's threshold (twice :data:`EVIDENCE`)."""
    for piece in _extended(seg, smooth):
        if int((_along(prob, piece, (-2, -1, 0, 1, 2)).max(0) >= 2 * EVIDENCE).sum()) >= MEET:
            return True
    return False


def _kept_segments(
    segs: list[np.ndarray],
    cand: np.ndarray,
    img: np.ndarray,
    prob: np.ndarray,
    smooth: np.ndarray,
) -> list[np.ndarray]:
    """The segments that are folds or scratches: shaped as one (:func:`_shaped`) and either seen
    by the detector, along them or where their line runs on (:func:`_runs_into`), or on one
    straight line with a segment that is kept (a crease keeps its direction across the print:
    the detector may see it over the background and not over a face)."""
    kept, rest = [], []
    for s in segs:
        if _shaped(s, cand, img):
            seen = _seen_by(s, prob) or _runs_into(s, prob, smooth)
            (kept if seen else rest).append(s)
    while True:
        joins = [any(_collinear(k, s) for k in kept) for s in rest]
        if not any(joins):
            return kept
        kept += [s for s, j in zip(rest, joins, strict=True) if j]
        rest = [s for s, j in zip(rest, joins, strict=True) if not j]


def _cross_ridge(smooth: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Across segment ``seg``, at each of its pixels: how much lighter the line (the lightest of
    the 3 px at its centre) is than the lighter of its two sides (the means of the 3 px 4-6 px
    away on either side), and the side level itself: ``(ridge (n,), sides (n,))``."""
    v = _along(smooth, seg, _CROSS)
    sides = np.maximum(v[:3].mean(0), v[-3:].mean(0))
    return v[3:6].max(0) - sides, sides


def _extended(seg: np.ndarray, smooth: np.ndarray) -> list[np.ndarray]:
    """The pieces by which kept segment ``seg`` goes on beyond its ends, on its own straight
    line, as far as the photo ``smooth`` (its slightly blurred luma) still shows a light line
    there: lighter than both sides by :data:`EXTEND_RIDGE` (:func:`_cross_ridge`), with gaps of
    at most :data:`EXTEND_GAP` px. Each piece runs from the end outwards."""
    h, w = smooth.shape
    a, b = seg[:2], seg[2:]
    length = float(np.hypot(*(b - a)))
    if length < 1:
        return []
    unit = (b - a) / length
    pieces = []
    for end, step in ((b, unit), (a, -unit)):
        # as far as the photo goes, _BORDER px inside its edges
        reach = []
        for c, d, size in ((end[0], step[0], w), (end[1], step[1], h)):
            if d > 1e-9:
                reach.append((size - 1 - _BORDER - c) / d)
            elif d < -1e-9:
                reach.append((_BORDER - c) / d)
        far = int(min(reach)) if reach else 0
        if far < 2:
            continue
        ray = np.concatenate([end, end + step * far])
        ridge, _ = _cross_ridge(smooth, ray)
        last, misses = 0, 0
        for i in range(1, ridge.size):
            if ridge[i] >= EXTEND_RIDGE:
                last, misses = i, 0
            else:
                misses += 1
                if misses > EXTEND_GAP:
                    break
        if last >= 2:
            pieces.append(np.concatenate([end, end + step * far * last / (ridge.size - 1)]))
    return pieces


def _mark_piece(found: np.ndarray, piece: np.ndarray, smooth: np.ndarray) -> None:
    """Mark in ``found`` the pixels of an extension ``piece`` within 2 px of its line that are
    lighter than the line's sides by :data:`HALF` of its contrast there (and by
    :data:`EXTEND_RIDGE`), in place."""
    ridge, sides = _cross_ridge(smooth, piece)
    near = (-2, -1, 0, 1, 2)
    ys, xs = _coords(piece, near, smooth.shape)
    lifted = smooth[ys, xs] - sides
    on = lifted >= np.maximum(EXTEND_RIDGE, HALF * ridge)
    found[ys[on], xs[on]] = True


def _one(img: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """The line mask (H x W bool) of one photo ``img`` (H x W x 3 float32) with the detector's
    probability ``prob`` (H x W), both at the working size."""
    lum = img @ np.array([0.299, 0.587, 0.114], np.float32)  # BT.601, as rgb_to_gray
    smooth = _smoothed(lum)
    r = _ridges(smooth)
    pos = r[r > 0]
    t = max(MIN_RIDGE, CONTRAST * float(np.median(pos))) if pos.size else MIN_RIDGE
    cand = (r > t).astype(np.uint8)
    side = min(img.shape[:2])
    segs = cv2.HoughLinesP(
        cand,
        1,
        np.pi / 180,
        threshold=max(8, int(0.6 * MIN_LENGTH * side)),
        minLineLength=int(MIN_LENGTH * side),
        maxLineGap=int(0.02 * side) + 3,
    )
    if segs is None:
        return np.zeros(img.shape[:2], bool)
    h, w = img.shape[:2]
    edge = BAND * side
    inside = []
    for seg in segs.reshape(-1, 4).astype(np.float64):
        xs, ys = seg[0::2], seg[1::2]
        along_edge = (
            (xs < edge).all()
            or (xs > w - 1 - edge).all()
            or (ys < edge).all()
            or (ys > h - 1 - edge).all()
        )
        if not along_edge:
            inside.append(seg)
    kept = _kept_segments(inside, cand, img, prob, smooth)
    found = np.zeros((h, w), bool)
    if not kept:
        return found
    # how much lighter than the picture around it (its median over 15 px: a line up to 7 px
    # wide is not in it) each pixel is
    u8 = np.round(np.clip(lum, 0, 1) * 255).astype(np.uint8)
    lift = lum - cv2.medianBlur(u8, 15).astype(np.float32) / 255
    for seg in kept:
        peak = float(np.median(_along(lift, seg, (-1, 0, 1)).max(0)))  # the line's own contrast
        x0, y0 = (max(0, int(min(seg[i], seg[i + 2])) - 3) for i in (0, 1))
        x1, y1 = int(max(seg[0], seg[2])) + 4, int(max(seg[1], seg[3])) + 4
        band = np.zeros((min(h, y1) - y0, min(w, x1) - x0), np.uint8)  # the segment's box
        p1 = (int(seg[0]) - x0, int(seg[1]) - y0)
        p2 = (int(seg[2]) - x0, int(seg[3]) - y0)
        cv2.line(band, p1, p2, 1, 5)
        box = (slice(y0, y0 + band.shape[0]), slice(x0, x0 + band.shape[1]))
        found[box] |= (band > 0) & (lift[box] >= max(MIN_RIDGE, HALF * peak))
        for piece in _extended(seg, smooth):
            _mark_piece(found, piece, smooth)
    return found


def long_lines(x: Tensor, prob: Tensor) -> Tensor:
    """(B, 1, H, W) {0, 1}: the long light lines (folds, scratches) of photos ``x`` (B, 3, H, W)
    in [0, 1] that the detector's probability ``prob`` (B, 1, H, W) also sees, as the module
    describes; zeros where there are none."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) photos, got {tuple(x.shape)}")
    if prob.shape != (x.shape[0], 1, *x.shape[-2:]):
        raise ValueError(f"prob {tuple(prob.shape)} does not match photos {tuple(x.shape)}")
    h, w = x.shape[-2:]
    out = torch.zeros(x.shape[0], 1, h, w, dtype=torch.float32)
    if min(h, w) < 32:
        return out.to(x.device)
    f = min(1.0, WORK_SIDE / max(h, w))
    size = (max(1, round(w * f)), max(1, round(h * f)))  # cv2's (width, height)
    for i in range(x.shape[0]):
        img = x[i].detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        p = prob[i, 0].detach().float().cpu().numpy()
        if f < 1.0:
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            p = cv2.resize(p, size, interpolation=cv2.INTER_AREA)
        found = _one(np.ascontiguousarray(img, np.float32), p).astype(np.uint8)
        if f < 1.0:
            found = cv2.resize(found, (w, h), interpolation=cv2.INTER_NEAREST)
        out[i, 0] = torch.from_numpy(found > 0)
    return out.to(x.device)
