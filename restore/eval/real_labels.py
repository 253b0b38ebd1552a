"""Hand-labelled damage masks of real scanned prints, and the scores of a mask against them.

There is no ground truth for a real damaged print, so a few of ``../shared/data/real_old`` are
labelled by hand in ``labels/real_old.json`` (the prints themselves stay out of the repository:
the labels are our annotations, kept as rules and strokes, not as images). A label is made the
way a person makes one with a magic wand and a brush, then checked by eye on an overlay
(``python scripts/eval_real_labels.py --sheet``):

- **rules** (one or more per print, their union; none given: one with :data:`RULE_DEFAULTS`):
  damage is where the print is much lighter (or darker) than its surroundings, lightness ``L`` (the mean of R, G, B in [0, 1]) at least
  ``min(level, local + above_local)``, ``local`` being the median of ``L`` over a ``median``-px
  window; closed with a ``close``-px square and with enclosed holes up to ``max_hole`` px filled
  (the mottled inside of a flaked patch). The level catches paper-white flakes on a light
  background, the local step thin white cracks over dark hair or clothes. A ``dark`` rule is the
  same on ``1 - L``: dark cracks (``level`` 1 leaves only the local step);
- **strokes**: polylines of a given width, for damage the rule misses (a hairline crack across
  a face, barely lighter than the skin);
- **ignore** boxes ``[x0, y0, x1, y1]`` (end exclusive) or strokes: areas the labeller could not
  decide (mottled wear that may or may not be emulsion loss) or picture content the rule picks up
  among damage (the white stripes of a sailor's collar crossed by cracks). They count neither way;
- **exclude** boxes or strokes: picture content the rule picks up, taken out of the label.

:func:`mask_scores` scores a predicted mask the way the issue states its real-print bar (recall
and precision against a reference mask within 2 px; :func:`mask_counts` gives the pixel counts,
which add up over prints, and :func:`scores` the ratios from them): a labelled pixel is found when the
prediction lies within ``tol`` px of it, a predicted pixel is right when a label lies within
``tol`` px of it; IoU is exact. Ignored pixels are left out of all three.

Example:
    >>> img = np.full((40, 40, 3), 60, np.uint8)
    >>> img[10:30, 20] = 230  # a thin white crack on a dark print
    >>> label, ignore = label_mask(img, {"rules": [{"level": 0.84, "above_local": 0.3}]})
    >>> int(label.sum()), int(ignore.sum())
    (20, 0)
    >>> pred = np.zeros((40, 40), bool); pred[10:30, 21] = True  # one pixel off
    >>> s = mask_scores(pred, label, ignore, tol=2)
    >>> s["recall"], s["precision"], s["iou"]
    (1.0, 1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

__all__ = ["RULE_DEFAULTS", "label_mask", "mask_counts", "mask_scores", "scores"]

#: The rule's settings where a print's label does not give them.
RULE_DEFAULTS: dict[str, Any] = {
    "polarity": "bright",
    "level": 0.84,
    "above_local": 0.3,
    "median": 31,
    "close": 3,
    "max_hole": 0,
}


def _areas(shape: tuple[int, ...], entries: Any) -> np.ndarray:
    """The union of boxes ``[x0, y0, x1, y1]`` (end exclusive) and strokes ``{"points",
    "width"}`` (polylines), as an H x W bool array."""
    out = np.zeros(shape, np.uint8)
    for e in entries or ():
        if isinstance(e, Mapping):
            pts = np.asarray(e.get("points", ()), np.int32).reshape(-1, 2)
            if len(pts) < 2 or int(e.get("width", 0)) < 1:
                raise ValueError(f"a stroke needs 2 or more points and a width >= 1, got {e}")
            cv2.polylines(out, [pts], False, 1, int(e["width"]))
            continue
        x0, y0, x1, y1 = (int(v) for v in e)
        if not (0 <= x0 < x1 and 0 <= y0 < y1):
            raise ValueError(f"a box is [x0, y0, x1, y1] with x0 < x1 and y0 < y1, got {e}")
        out[y0:y1, x0:x1] = 1
    return out > 0


def _fill_holes(mask: np.ndarray, max_hole: int) -> np.ndarray:
    """``mask`` with its enclosed holes of at most ``max_hole`` pixels filled."""
    if max_hole <= 0:
        return mask
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), 4)
    h, w = mask.shape
    x, y = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    bw, bh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    border = (x == 0) | (y == 0) | (x + bw == w) | (y + bh == h)
    hole = (stats[:, cv2.CC_STAT_AREA] <= max_hole) & ~border
    hole[0] = False  # label 0 is the mask itself
    return mask | hole[labels]


def _rule_mask(lum: np.ndarray, settings: Mapping[str, Any]) -> np.ndarray:
    """One rule's damage (module docstring) on lightness ``lum`` (H x W in [0, 1])."""
    unknown = set(settings) - set(RULE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown rule settings {sorted(unknown)}: use {sorted(RULE_DEFAULTS)}")
    rule = {**RULE_DEFAULTS, **settings}
    if rule["polarity"] not in ("bright", "dark"):
        raise ValueError(f"rule polarity must be 'bright' or 'dark', got {rule['polarity']!r}")
    if rule["polarity"] == "dark":
        lum = 1 - lum
    u8 = np.round(lum * 255).astype(np.uint8)
    local = cv2.medianBlur(u8, int(rule["median"])).astype(np.float32) / 255
    mask = lum >= np.minimum(float(rule["level"]), local + float(rule["above_local"]))
    k = int(rule["close"])
    if k > 1:
        mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
        mask = mask > 0
    return _fill_holes(mask, int(rule["max_hole"]))


def label_mask(image: np.ndarray, spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The damage label and the ignored area of one print.

    Args:
        image: the print, H x W x 3 uint8 (RGB or BGR: the rule uses the mean of the channels).
        spec: its entry in the labels file (module docstring): ``rules`` (a list; their union),
            ``strokes``, ``ignore``, ``exclude``.

    Returns:
        ``(label, ignore)``, H x W bool each; the label is empty inside ``ignore``.

    Raises:
        ValueError: an image that is not H x W x 3 uint8, an unknown rule setting, a bad box or
            stroke.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 image, got {image.shape} {image.dtype}")
    rules = spec.get("rules", [{}])
    lum = image.astype(np.float32).mean(2) / 255
    mask = np.zeros(lum.shape, bool)
    for r in rules:
        mask |= _rule_mask(lum, r)
    mask = (mask | _areas(mask.shape, spec.get("strokes"))) & ~_areas(
        mask.shape, spec.get("exclude")
    )
    ignore = _areas(mask.shape, spec.get("ignore"))
    return mask & ~ignore, ignore


def _near(mask: np.ndarray, tol: int) -> np.ndarray:
    """Pixels within ``tol`` px (chessboard distance) of ``mask``."""
    if tol <= 0:
        return mask
    k = np.ones((2 * tol + 1, 2 * tol + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), k) > 0


def mask_counts(
    pred: np.ndarray, label: np.ndarray, ignore: np.ndarray | None = None, tol: int = 2
) -> dict[str, int]:
    """Pixel counts behind :func:`mask_scores` (all H x W bool; ``ignore`` left out): ``label``,
    ``found`` (labelled, with a prediction within ``tol`` px), ``pred``, ``right`` (predicted,
    with a label within ``tol`` px), ``both`` and ``either`` (exact intersection and union), and
    ``scored`` (pixels outside ``ignore``). Counts add up over prints (pooled scores).

    Raises:
        ValueError: masks of different shapes.
    """
    if pred.shape != label.shape or (ignore is not None and ignore.shape != label.shape):
        raise ValueError(f"mask shapes differ: {pred.shape}, {label.shape}")
    keep = ~ignore if ignore is not None else np.ones(label.shape, bool)
    p, t = pred.astype(bool) & keep, label.astype(bool) & keep
    return {
        "label": int(t.sum()),
        "found": int((t & _near(p, tol)).sum()),
        "pred": int(p.sum()),
        "right": int((p & _near(t, tol)).sum()),
        "both": int((p & t).sum()),
        "either": int((p | t).sum()),
        "scored": int(keep.sum()),
    }


def scores(counts: Mapping[str, int]) -> dict[str, float]:
    """Recall, precision (0 when nothing is predicted), IoU and the two masks' shares of the
    scored pixels, from :func:`mask_counts` (of one print, or summed over several).

    Raises:
        ValueError: no labelled pixel.
    """
    if counts["label"] <= 0:
        raise ValueError("the label has no damage outside the ignored area")
    return {
        "recall": counts["found"] / counts["label"],
        "precision": counts["right"] / counts["pred"] if counts["pred"] else 0.0,
        "iou": counts["both"] / counts["either"],
        "label_share": counts["label"] / counts["scored"],
        "pred_share": counts["pred"] / counts["scored"],
    }


def mask_scores(
    pred: np.ndarray, label: np.ndarray, ignore: np.ndarray | None = None, tol: int = 2
) -> dict[str, float]:
    """Recall and precision of ``pred`` against ``label`` within ``tol`` px, exact IoU, and the
    two masks' shares of the scored pixels (all H x W bool; ``ignore`` left out of everything).

    Raises:
        ValueError: masks of different shapes, or a label with no pixels outside ``ignore``.
    """
    return scores(mask_counts(pred, label, ignore, tol))
