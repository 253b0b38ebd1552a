"""Find frontal faces in old photos, offline: a shipped LBP cascade, made robust to old prints.

The detector is the multi-block LBP frontal-face cascade that scikit-image ships
(``skimage.data.lbp_frontal_face_cascade_filename()``, trained by OpenCV), run through
``skimage.feature.Cascade``. Nothing is downloaded. OpenCV's Haar cascades are not used: the
``opencv-python-headless`` 5 wheels this project installs ship neither ``cv2.data.haarcascades``
files nor ``cv2.CascadeClassifier``.

What makes it work on grey, sepia, faded and damaged prints (:func:`detect_faces`):

1. **Luminance only** (BT.601 luma): a sepia or cyanotype tone is gone, grey and colour look alike.
2. **Working size**: the photo is shrunk (area) so that the smallest face asked for
   (``min_size``) fills the cascade's 24-px window; a bigger photo costs no more than needed.
3. **Contrast restored** twice: a global histogram equalisation (a faded print's few grey levels
   spread out) and CLAHE (uneven exposure, stains); the cascade runs on both.
4. **Votes**: the detections of both runs are grouped by overlap (IoU); a face needs
   ``min_votes`` of them, or eyes found in it, so a stray detection on a crack or a texture
   does not count.
5. **Eyes** (:mod:`restore.faces.align`): each face's eyes are looked for as the darkest blobs
   near where the box puts them; a face whose eye search finds nothing plausible keeps the
   box's eyes (``eyes_found`` False).

Measured (``scripts/eval_faces.py detect``, ``docs/BENCHMARKS.md``): the settings here trade
recall for few false faces, since a false face would be "restored" into a face-like texture.
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

log = logging.getLogger(__name__)

#: Side (pixels) of the cascade's detection window.
WINDOW = 24


@dataclass(frozen=True)
class Face:
    """One face found in a photo, in the photo's pixel coordinates.

    Attributes:
        box: ``(x, y, w, h)`` of the face box, float pixels.
        votes: raw cascade windows merged into it (a confidence).
        eyes: ``((x, y) of the eye on the image's left, (x, y) of the other)``.
        eyes_found: whether the eyes were found in the image (else placed from the box).
    """

    box: tuple[float, float, float, float]
    votes: int
    eyes: tuple[tuple[float, float], tuple[float, float]]
    eyes_found: bool

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: box, eyes (rounded to 0.1 px), votes, eyes_found."""
        return {
            "box": [round(v, 1) for v in self.box],
            "eyes": [[round(v, 1) for v in e] for e in self.eyes],
            "votes": self.votes,
            "eyes_found": self.eyes_found,
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


def detect_faces(
    image: Tensor | np.ndarray,
    *,
    min_size: int = 40,
    max_size: int | None = None,
    min_votes: int = 2,
    max_faces: int = 32,
    scale_factor: float = 1.2,
    step_ratio: float = 1.5,
    min_neighbours: int = 2,
    find_eyes: bool = True,
) -> list[Face]:
    """Frontal faces in one photo: boxes and eye positions, biggest votes first.

    Args:
        image: one photo: float tensor (3, H, W) or (1, 3, H, W) in [0, 1], or uint8 (H, W, 3).
        min_size: smallest face side to look for (pixels, >= 24); smaller is slower.
        max_size: largest face side (pixels); ``None``: the photo's shorter side.
        min_votes: detections (of the two contrast versions and nearby scales) a face needs,
            unless its eyes are found (:func:`restore.faces.align.find_eyes`).
        max_faces: at most this many faces are returned.
        scale_factor: step between the cascade's window sizes.
        step_ratio: the cascade's window step (1: every pixel; 1.5: about 3x faster).
        min_neighbours: overlapping windows the cascade needs for one detection.
        find_eyes: look for the eyes in the image (else placed from the box, :data:`BOX_EYES`);
            without it every face needs ``min_votes``.

    Returns:
        A list of :class:`Face`, in the input's pixel coordinates.

    Raises:
        ValueError: a bad image or bad arguments.

    Example:
        >>> faces = detect_faces(torch.rand(3, 64, 64))   # noise: no face
        >>> faces
        []
    """
    if min_size < WINDOW:
        raise ValueError(f"min_size must be >= {WINDOW} pixels, got {min_size}")
    if min_votes < 1 or max_faces < 1 or scale_factor <= 1.0:
        raise ValueError(
            f"need min_votes >= 1, max_faces >= 1, scale_factor > 1; got {min_votes}, "
            f"{max_faces}, {scale_factor}"
        )
    grey = luminance_u8(image)
    if min(grey.shape) < min_size:
        return []
    boxes, _ = raw_windows(
        grey,
        min_size=min_size,
        max_size=max_size,
        scale_factor=scale_factor,
        step_ratio=step_ratio,
        min_neighbours=min_neighbours,
    )
    faces = []
    for box, votes in group_boxes(boxes, 1):
        eyes = search_eyes(grey, box) if find_eyes else None
        if votes < min_votes and eyes is None:
            continue  # one stray detection without eyes: most false faces are these
        found = eyes is not None
        faces.append(Face(box=box, votes=votes, eyes=eyes or box_eyes(box), eyes_found=found))
    return faces[:max_faces]


__all__ = [
    "BOX_EYES",
    "WINDOW",
    "Face",
    "box_eyes",
    "detect_faces",
    "group_boxes",
    "iou",
    "luminance_u8",
    "raw_windows",
]
