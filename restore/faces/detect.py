"""Find frontal faces in old photos, offline: a small CNN of our own, scanned over a pyramid.

Two stages, both with the face verifier of :mod:`restore.faces.verify` (a four-layer CNN on
32-px grey crops, trained by ``scripts/train_face_verifier.py`` on UTKFace *train* faces aged
like old prints against face-free photos; its weights ship in the package):

1. **Luminance only** (BT.601 luma): a sepia or cyanotype tone is gone, grey and colour look alike.
2. **Scan** (:func:`restore.faces.verify.scan`): the photo is shrunk so that the smallest face
   asked for (``min_size``) fills the 32-px window, then by ``scale_step`` per level; each level
   is locally standardised (fading, stains and uneven exposure matter little) and the verifier
   runs fully convolutionally over it. Windows it finds face-like are merged (overlap, weighted
   by score) into candidates.
3. **Verify**: each candidate box is cut out, standardised as a whole and scored by the
   verifier, whose second head moves the box onto the face; a face needs ``threshold``.
   Overlapping faces keep the best-scored one.
4. **Eyes** (:mod:`restore.faces.align`): placed by the (regressed) box, :data:`BOX_EYES`;
   the darkest-blob eye search only says whether two plausible eyes are visible
   (``eyes_found``): on the benchmark the box places them better than the search does.

The multi-block LBP cascade that scikit-image ships (OpenCV's, :func:`raw_windows`) was the
detector before; it missed a quarter of the faces of the benchmark and is kept only as a source
of hard negatives for training. Measured: ``scripts/eval_faces.py detect``, ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from restore.faces.align import BOX_EYES, box_eyes
from restore.faces.align import find_eyes as search_eyes
from restore.faces.verify import load_verifier, refine_boxes, scan

log = logging.getLogger(__name__)

#: Side (pixels) of the cascade's detection window.
WINDOW = 24
#: Least verifier score of a face (calibrated on scenes 100-199 of ``eval_faces.py detect``).
THRESHOLD = 0.9
#: Bigger photos are searched on a copy shrunk (area) to this longer side, and the faces mapped
#: back: a 4608 x 3456 scan took 565 s to scan at full size, and its faces are far above the
#: smallest face the shrunk copy can hold (40 px there, 115 px in that scan).
MAX_SIDE = 1600


@dataclass(frozen=True)
class Face:
    """One face found in a photo, in the photo's pixel coordinates.

    Attributes:
        box: ``(x, y, w, h)`` of the face box, float pixels.
        votes: scan windows merged into it.
        eyes: ``((x, y) of the eye on the image's left, (x, y) of the other)``.
        eyes_found: whether the eye search saw two plausible eyes where the box puts them.
        score: the verifier's face probability of the box (0-1).
    """

    box: tuple[float, float, float, float]
    votes: int
    eyes: tuple[tuple[float, float], tuple[float, float]]
    eyes_found: bool
    score: float = 1.0

    def scaled(self, k: float) -> Face:
        """The same face in a photo ``k`` times bigger."""
        (lx, ly), (rx, ry) = self.eyes
        return Face(
            box=(self.box[0] * k, self.box[1] * k, self.box[2] * k, self.box[3] * k),
            votes=self.votes,
            eyes=((lx * k, ly * k), (rx * k, ry * k)),
            eyes_found=self.eyes_found,
            score=self.score,
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: box, eyes (rounded to 0.1 px), votes, eyes_found, score (0.001)."""
        return {
            "box": [round(v, 1) for v in self.box],
            "eyes": [[round(v, 1) for v in e] for e in self.eyes],
            "votes": self.votes,
            "eyes_found": self.eyes_found,
            "score": round(self.score, 3),
        }


@functools.lru_cache(maxsize=1)
def _cascade():
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


def luminance_u8(image: Tensor | np.ndarray) -> np.ndarray:
    """BT.601 luma of one image as uint8 (H, W).

    Args:
        image: float tensor (3, H, W) / (1, 3, H, W) in [0, 1], or uint8 array (H, W, 3) / (H, W).

    Raises:
        ValueError: any other shape or type, or an empty image.
    """
    if isinstance(image, Tensor):
        t = image[0] if image.dim() == 4 and image.shape[0] == 1 else image
        if t.dim() != 3 or t.shape[0] != 3 or not t.is_floating_point():
            raise ValueError(
                f"expected a float (3, H, W) or (1, 3, H, W) image, got {tuple(image.shape)}"
            )
        w = torch.tensor([0.299, 0.587, 0.114], dtype=t.dtype, device=t.device).view(3, 1, 1)
        y = (t.clamp(0, 1) * w).sum(0)
        a = (y * 255 + 0.5).to(torch.uint8).cpu().numpy()
    elif isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim in (2, 3):
        a = image
        if a.ndim == 3:
            if a.shape[2] < 3:
                raise ValueError(f"expected (H, W, 3) samples, got {a.shape}")
            f = a[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            a = (f + 0.5).astype(np.uint8)
    else:
        raise ValueError(
            f"expected a float tensor or a uint8 array, got {type(image).__name__} "
            f"{getattr(image, 'dtype', '')} {getattr(image, 'shape', '')}"
        )
    if a.size == 0:
        raise ValueError("empty image")
    return a


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def group_boxes(
    boxes: list[tuple[float, float, float, float]], min_votes: int, overlap: float = 0.3
) -> list[tuple[tuple[float, float, float, float], int]]:
    """Greedy grouping of raw windows: each group's mean box and its size (votes).

    Windows join the first group whose mean box they overlap by ``overlap`` IoU or more; groups
    with fewer than ``min_votes`` windows are dropped; a group mostly inside a bigger-voted one
    (a face part, an overlapping duplicate) is dropped too.

    Returns:
        ``[(box, votes)]``, most votes first.
    """
    groups: list[list[tuple[float, float, float, float]]] = []
    for b in sorted(boxes, key=lambda b: -b[2]):
        for g in groups:
            m = tuple(np.mean(g, 0))
            if iou(m, b) >= overlap:
                g.append(b)
                break
        else:
            groups.append([b])
    out = [(tuple(float(v) for v in np.mean(g, 0)), len(g)) for g in groups if len(g) >= min_votes]
    out.sort(key=lambda t: -t[1])
    kept: list[tuple[tuple[float, float, float, float], int]] = []
    for box, votes in out:
        if all(_inside(box, k[0]) < 0.5 for k in kept):
            kept.append((box, votes))  # type: ignore[arg-type]
    return kept


def _inside(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Share of box ``a``'s area inside box ``b``."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / max(a[2] * a[3], 1e-9)


def raw_windows(
    grey: np.ndarray,
    *,
    min_size: int,
    max_size: int | None,
    scale_factor: float,
    step_ratio: float = 1.5,
    min_neighbours: int = 2,
) -> tuple[list[tuple[float, float, float, float]], float]:
    """The cascade's detections on both contrast versions, in the input's pixels.

    Each version's windows are grouped by the cascade itself (a detection needs
    ``min_neighbours`` overlapping windows); the two lists are concatenated.

    Returns:
        ``(boxes, shrink)``: boxes ``(x, y, w, h)`` and the factor the photo was shrunk by.
    """
    import cv2

    h, w = grey.shape
    shrink = min(1.0, (WINDOW + 2) / float(min_size))
    if shrink < 1.0:
        small = cv2.resize(
            grey,
            (max(1, round(w * shrink)), max(1, round(h * shrink))),
            interpolation=cv2.INTER_AREA,
        )
    else:
        small = grey
    sh, sw = small.shape
    top = min(sh, sw) if max_size is None else min(sh, sw, max(WINDOW, round(max_size * shrink)))
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    det = _cascade()
    boxes: list[tuple[float, float, float, float]] = []
    for version in (cv2.equalizeHist(small), clahe.apply(small)):
        found = det.detect_multi_scale(
            img=version.astype(np.float32) / 255.0,
            scale_factor=scale_factor,
            step_ratio=step_ratio,
            min_size=(WINDOW, WINDOW),
            max_size=(top, top),
            min_neighbor_number=min_neighbours,
            intersection_score_threshold=0.5,
        )
        boxes += [
            (d["c"] / shrink, d["r"] / shrink, d["width"] / shrink, d["height"] / shrink)
            for d in found
        ]
    return boxes, shrink


def merge_windows(
    windows: list[tuple[tuple[float, float, float, float], float]],
    overlap: float = 0.5,
    limit: int = 64,
) -> list[tuple[tuple[float, float, float, float], int]]:
    """Non-maximum merging of scored windows: each kept window becomes the score-weighted mean
    of the windows overlapping it by ``overlap`` IoU or more; at most ``limit``, best first.

    Returns:
        ``[(box, votes)]``, votes = windows merged.
    """
    if not windows:
        return []
    boxes = np.array([w[0] for w in windows], np.float64)
    scores = np.array([w[1] for w in windows], np.float64)
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    area = boxes[:, 2] * boxes[:, 3]
    free = np.ones(len(boxes), bool)
    out = []
    for i in range(len(boxes)):
        if not free[i]:
            continue
        ix = np.clip(np.minimum(x1, x1[i]) - np.maximum(x0, x0[i]), 0, None)
        iy = np.clip(np.minimum(y1, y1[i]) - np.maximum(y0, y0[i]), 0, None)
        inter = ix * iy
        group = free & (inter >= overlap * (area + area[i] - inter))
        free &= ~group
        box = np.average(boxes[group], axis=0, weights=scores[group])
        out.append((tuple(float(v) for v in box), int(group.sum())))
        if len(out) == limit:
            break
    return out  # type: ignore[return-value]


def detect_faces(
    image: Tensor | np.ndarray,
    *,
    min_size: int | None = None,
    max_size: int | None = None,
    threshold: float = THRESHOLD,
    max_faces: int = 32,
    scale_step: float = 2 ** (1 / 3),
    find_eyes: bool = True,
) -> list[Face]:
    """Frontal faces in one photo: boxes and eye positions, best score first.

    Args:
        image: one photo: float tensor (3, H, W) or (1, 3, H, W) in [0, 1], or uint8 (H, W, 3).
        min_size: smallest face side to look for (pixels, >= 24); smaller is slower. ``None``:
            40. A photo longer than :data:`MAX_SIDE` is searched shrunk to it, so its smallest
            face is at least ``40 * longer side / MAX_SIDE`` pixels.
        max_size: largest face side (pixels); ``None``: the photo's shorter side.
        threshold: least verifier score (0-1) of a face; lower finds more faces and more
            false ones.
        max_faces: at most this many faces are returned.
        scale_step: ratio between the face sizes of two scan levels.
        find_eyes: look for the eyes in the image to set ``eyes_found`` (the eyes are always
            placed from the box, :data:`BOX_EYES`).

    Returns:
        A list of :class:`Face`, in the input's pixel coordinates.

    Raises:
        ValueError: a bad image or bad arguments.

    Example:
        >>> faces = detect_faces(torch.rand(3, 64, 64))   # noise: no face
        >>> faces
        []
    """
    grey = luminance_u8(image)
    k = max(grey.shape) / MAX_SIDE
    if k > 1.0:  # a big scan: search a shrunk copy, return the faces in the photo's pixels
        import cv2

        h, w = grey.shape
        small = cv2.resize(grey, (round(w / k), round(h / k)), interpolation=cv2.INTER_AREA)
        found = detect_faces(
            np.repeat(small[..., None], 3, 2),
            min_size=None if min_size is None else max(WINDOW, round(min_size / k)),
            max_size=None if max_size is None else max(WINDOW, round(max_size / k)),
            threshold=threshold,
            max_faces=max_faces,
            scale_step=scale_step,
            find_eyes=find_eyes,
        )
        return [f.scaled(k) for f in found]
    if min_size is None:
        min_size = 40
    if min_size < WINDOW:
        raise ValueError(f"min_size must be >= {WINDOW} pixels, got {min_size}")
    if not 0.0 < threshold < 1.0 or max_faces < 1 or scale_step <= 1.0:
        raise ValueError(
            f"need 0 < threshold < 1, max_faces >= 1, scale_step > 1; got {threshold}, "
            f"{max_faces}, {scale_step}"
        )
    if min(grey.shape) < min_size:
        return []
    model = load_verifier()
    windows = scan(grey, min_size=min_size, max_size=max_size, scale_step=scale_step, model=model)
    candidates = merge_windows(windows)
    scores, boxes = refine_boxes(grey, [b for b, _ in candidates], model)
    kept: list[tuple[tuple[float, float, float, float], int, float]] = []
    for k in np.argsort(-scores, kind="stable"):
        box, votes = boxes[k], candidates[k][1]
        if scores[k] < threshold:
            break
        if all(
            iou(box, b) < 0.3 and _inside(box, b) < 0.5 and _inside(b, box) < 0.5
            for b, _, _ in kept
        ):
            kept.append((box, votes, float(scores[k])))
    faces = []
    for box, votes, score in kept[:max_faces]:
        # the regressed box places the eyes better than the dark-blob search (eye error 0.036
        # against 0.067 of the eye distance on the calibration scenes); the search only tells
        # whether two plausible eyes are visible
        found = find_eyes and search_eyes(grey, box) is not None
        faces.append(Face(box=box, votes=votes, eyes=box_eyes(box), eyes_found=found, score=score))
    return faces


__all__ = [
    "BOX_EYES",
    "MAX_SIDE",
    "THRESHOLD",
    "WINDOW",
    "Face",
    "box_eyes",
    "detect_faces",
    "group_boxes",
    "iou",
    "luminance_u8",
    "merge_windows",
    "raw_windows",
]
