"""A small CNN of our own that finds faces in old photos: both stages of the detector.

A box is cut from the photo's luminance, resized (area) to :data:`SIZE` x :data:`SIZE`,
standardised (zero mean, unit deviation, so fading and exposure do not matter) and passed through
four small convolutions (:class:`FaceVerifier`, 89 k parameters): a face logit, and a box head
that says where the face's box is (:func:`refine_boxes`); about a quarter of a millisecond per box
on one CPU core. The same network runs fully convolutionally over a locally standardised image
pyramid (:func:`scan`) to propose the boxes (:func:`restore.faces.detect.detect_faces`).

The weights ship inside the package (``restore/faces/face_verifier.safetensors``, trained by
``scripts/train_face_verifier.py`` on UTKFace *train* faces aged like old prints, against crops
of face-free training photos; the safetensors header holds the recipe). They are a detector
part, not a restoration model, so they have no model card and ``restore.load`` does not list
them.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

#: Side (pixels) of the verifier's input crop.
SIZE = 32
#: The shipped weights.
WEIGHTS = Path(__file__).resolve().with_name("face_verifier.safetensors")

Box = tuple[float, float, float, float]


class FaceVerifier(nn.Module):
    """Face / non-face logit of standardised grey crops.

    Fully convolutional: on a ``SIZE`` x ``SIZE`` crop it gives one logit; on a bigger image, a
    map of logits with stride 8 (one per ``SIZE``-px window). With ``outputs`` 4 it also
    regresses where the face's box is (:meth:`regress`).

    Args:
        width: channels of the first convolution (then x2, x4).
        outputs: 1 (the face logit) or 4 (and the box offset ``dx, dy, log scale``).

    Shape:
        (B, 1, 32, 32) -> (B,) logits (positive: a face).
    """

    def __init__(self, width: int = 16, outputs: int = 1) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(4 * w, 4 * w, SIZE // 8),
            nn.ReLU(inplace=True),
            nn.Conv2d(4 * w, outputs, 1),
        )
        self.outputs = outputs

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"expected (B, 1, H, W) crops, got {tuple(x.shape)}")
        out = self.features(x)[:, :1]
        return out.flatten(1).squeeze(1) if out.shape[-2:] == (1, 1) else out

    def regress(self, x: Tensor) -> Tensor:
        """Where the face is, relative to each crop: ``(dx, dy, ds)``, the box centre's shift in
        crop sides and the log of its side over the crop's (zeros without a box head).

        Shape:
            (B, 1, 32, 32) -> (B, 3).
        """
        if self.outputs < 4:
            return torch.zeros(x.shape[0], 3, dtype=x.dtype, device=x.device)
        return self.features(x)[:, 1:4].flatten(1)


def crop_box(grey: np.ndarray, box: Box, size: int = SIZE) -> np.ndarray:
    """The square ``box`` of a luminance image resampled to ``size`` x ``size`` (float32).

    Outside the image the border is repeated. Shrinking is an area average (blur before
    sampling), as the training crops were made.

    Args:
        grey: uint8 (H, W).
        box: ``(x, y, w, h)`` in pixels (a non-square box is squared on its mean side).

    Returns:
        float32 (size, size), values 0-255.
    """
    import cv2

    x, y, w, h = box
    side = max(1.0, (w + h) / 2)
    cx, cy = x + w / 2, y + h / 2
    scale = size / side
    sigma = 0.45 / scale if scale < 0.8 else 0.0  # area-like: blur before sampling
    margin = side / 2 + 4 * sigma + 2
    x0, y0 = max(0, int(cx - margin)), max(0, int(cy - margin))
    x1 = min(grey.shape[1], max(x0 + 1, int(cx + margin) + 1))
    y1 = min(grey.shape[0], max(y0 + 1, int(cy + margin) + 1))
    src = grey[y0:y1, x0:x1].astype(np.float32)
    if src.size == 0:  # the box lies wholly outside the image
        return np.zeros((size, size), np.float32)
    if sigma > 0:
        src = cv2.GaussianBlur(src, (0, 0), sigma)
    cx, cy = cx - x0, cy - y0
    # pixel centres: crop (j + 0.5) <- photo cx - side / 2 + (j + 0.5) / scale
    tx = size / 2 - scale * cx + 0.5 * scale - 0.5
    ty = size / 2 - scale * cy + 0.5 * scale - 0.5
    M = np.array([[scale, 0.0, tx], [0.0, scale, ty]])
    return cv2.warpAffine(
        src, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def standardise(crops: np.ndarray) -> Tensor:
    """(N, S, S) crops -> (N, 1, S, S) float tensor, each crop at zero mean and unit deviation."""
    t = torch.from_numpy(np.ascontiguousarray(crops, dtype=np.float32)).unsqueeze(1)
    mean = t.mean((2, 3), keepdim=True)
    std = t.std((2, 3), keepdim=True).clamp_min(4.0)  # a flat crop stays near zero
    return (t - mean) / std


@functools.lru_cache(maxsize=2)
def load_verifier(path: str | None = None) -> FaceVerifier:
    """The verifier with the shipped weights (or those at ``path``), in eval mode, cached.

    Raises:
        FileNotFoundError: no weights file.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    p = Path(path) if path else WEIGHTS
    if not p.is_file():
        raise FileNotFoundError(f"face verifier weights not found: {p}")
    with safe_open(str(p), "pt") as f:
        meta = f.metadata() or {}
    config = json.loads(meta.get("config", "{}"))
    model = FaceVerifier(int(config.get("width", 16)), int(config.get("outputs", 1)))
    model.load_state_dict(load_file(str(p)), strict=True)
    return model.eval()


def face_scores(
    grey: np.ndarray, boxes: list[Box], model: FaceVerifier | None = None
) -> np.ndarray:
    """Face probability (0-1) of each box of a luminance image.

    Args:
        grey: uint8 (H, W).
        boxes: ``[(x, y, w, h)]``.
        model: a verifier; ``None``: the shipped one.

    Returns:
        float32 (len(boxes),).

    Example:
        >>> face_scores(np.zeros((64, 64), np.uint8), []).shape
        (0,)
    """
    if not boxes:
        return np.zeros(0, np.float32)
    model = model or load_verifier()
    x = standardise(np.stack([crop_box(grey, b) for b in boxes]))
    with torch.no_grad():
        return torch.sigmoid(model(x)).numpy().astype(np.float32)


def refine_boxes(
    grey: np.ndarray, boxes: list[Box], model: FaceVerifier | None = None
) -> tuple[np.ndarray, list[Box]]:
    """Face probability of each box and the box moved to where the verifier puts the face.

    Returns:
        ``(probabilities (N,), boxes)``: square boxes centred and sized by :meth:`regress`.
    """
    if not boxes:
        return np.zeros(0, np.float32), []
    model = model or load_verifier()
    x = standardise(np.stack([crop_box(grey, b) for b in boxes]))
    with torch.no_grad():
        out = model.features(x).flatten(1)
    prob = torch.sigmoid(out[:, 0]).numpy().astype(np.float32)
    if out.shape[1] < 4:
        return prob, list(boxes)
    moved = []
    for (bx, by, bw, bh), (dx, dy, ds) in zip(boxes, out[:, 1:4].tolist()):
        side = (bw + bh) / 2
        cx, cy, new = bx + bw / 2 + dx * side, by + bh / 2 + dy * side, side * float(np.exp(ds))
        moved.append((cx - new / 2, cy - new / 2, new, new))
    return prob, moved


def local_standardise(grey: np.ndarray, k: int = SIZE) -> np.ndarray:
    """Each pixel less the mean of its ``k`` x ``k`` neighbourhood, over that neighbourhood's
    deviation (floor 4 levels): :func:`standardise` made convolutional, for :func:`scan`.

    Returns:
        float32, the shape of ``grey``.
    """
    import cv2

    a = grey.astype(np.float32)
    mean = cv2.boxFilter(a, -1, (k, k), borderType=cv2.BORDER_REFLECT)
    var = cv2.boxFilter(a * a, -1, (k, k), borderType=cv2.BORDER_REFLECT) - mean * mean
    return (a - mean) / np.sqrt(np.maximum(var, 16.0))


def scan(
    grey: np.ndarray,
    *,
    min_size: int,
    max_size: int | None = None,
    scale_step: float = 2**0.25,
    threshold: float = 0.2,
    model: FaceVerifier | None = None,
) -> list[tuple[Box, float]]:
    """Every window of an image pyramid the verifier finds face-like: the candidate stage.

    The photo is shrunk so that a face of ``min_size`` px (then ``scale_step`` times bigger, up
    to ``max_size``) fills the verifier's :data:`SIZE`-px window; on each level, locally
    standardised (:func:`local_standardise`), the verifier runs fully convolutionally (one window
    per 8 px of the level, a quarter of a face). Cheap and close to the crop-wise score, not equal
    to it: keep its windows as candidates and score them with :func:`face_scores`.

    Args:
        grey: uint8 (H, W) luminance.
        min_size: smallest face side (pixels).
        max_size: largest face side; ``None``: the shorter side of the image.
        scale_step: ratio between the window sides of two levels.
        threshold: least (approximate) face probability of a window kept.

    Returns:
        ``[((x, y, w, h), probability)]`` in the photo's pixels, unsorted.
    """
    import cv2

    model = model or load_verifier()
    h, w = grey.shape
    top = min(h, w) if max_size is None else min(h, w, max_size)
    out: list[tuple[Box, float]] = []
    side = float(min_size)
    while side <= top:
        lw, lh = max(SIZE, round(w * SIZE / side)), max(SIZE, round(h * SIZE / side))
        level = cv2.resize(grey, (lw, lh), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(local_standardise(level))[None, None]
        with torch.no_grad():
            prob = torch.sigmoid(model.features(x)[0, 0]).numpy()
        sx, sy = w / lw, h / lh
        for i, j in zip(*np.nonzero(prob >= threshold)):
            box = (8 * j * sx, 8 * i * sy, SIZE * sx, SIZE * sy)
            out.append((box, float(prob[i, j])))
        side *= scale_step
    return out


__all__ = [
    "SIZE",
    "WEIGHTS",
    "FaceVerifier",
    "crop_box",
    "face_scores",
    "load_verifier",
    "standardise",
]
