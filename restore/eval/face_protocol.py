"""The held-out face protocol: degrade held-out faces by code the training never used, and score.

The held-out faces are the last 400 files by name of ``faces/utkface_200`` (never trained on:
:func:`restore.tasks.face.face_split`). At 128 px, face ``i`` is made grey (``i % 3 == 1``),
sepia (``== 2``, a warm tint curve unlike the training prints') or left in colour, then degraded
with numpy / OpenCV and this module's own seeds: Gaussian blur (sigma 0.6-1.6), x4 down (MATLAB
bicubic) to 32 px, luminance noise (sigma 2-10 levels), 0-3 thin scratches (OpenCV lines, bright
or dark) and a JPEG scan (quality 35-85).

:func:`face_scores` scores methods side by side on those faces: PSNR / SSIM (torchmetrics, RGB,
per image, outputs rounded to uint8 as saved). ``scripts/eval_faces.py restore`` adds the
whole-image ``enhance`` + ``sr-x4`` path; the relay's ``face`` scorer uses the face model's gain
over bicubic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import cv2
import numpy as np
import torch
from torch import Tensor

from restore.data.resize import imresize
from restore.eval.metrics import psnr, ssim

SEED = 20_261_129  # this protocol's own seeds: training never used them
KINDS = ("colour", "grey", "sepia")

#: A method: degraded 32-px faces (B, 3, 32, 32) in [0, 1] -> restored (B, 3, 128, 128).
Method = Callable[[Tensor], Tensor]


def to_t(a: np.ndarray) -> Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None].float() / 255.0


def tint(rgb: np.ndarray, kind: str) -> np.ndarray:
    """Grey (BT.601, R = G = B) or sepia (a warm curve: R = y^0.85, G = y^1.0, B = y^1.35)."""
    y = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255.0
    if kind == "grey":
        out = np.repeat(y[..., None], 3, 2)
    elif kind == "sepia":
        out = np.stack([y**0.85, y, y**1.35], -1)
    else:
        return rgb
    return (out * 255 + 0.5).clip(0, 255).astype(np.uint8)


def scratch(img: np.ndarray, rng: np.random.Generator, count: int, width: int = 1) -> None:
    """Draw ``count`` straight anti-aliased lines, bright (60%) or dark, across ``img`` in place."""
    h, w = img.shape[:2]
    for _ in range(count):
        p0 = (int(rng.integers(w)), int(rng.integers(h)))
        ang = rng.uniform(0, math.pi)
        length = rng.uniform(0.5, 1.2) * max(h, w)
        p1 = (int(p0[0] + length * math.cos(ang)), int(p0[1] + length * math.sin(ang)))
        v = int(rng.integers(215, 256)) if rng.random() < 0.6 else int(rng.integers(0, 40))
        cv2.line(img, p0, p1, (v, v, v), width, cv2.LINE_AA)


def jpeg_u8(img: np.ndarray, q: int) -> np.ndarray:
    """A JPEG round trip at quality ``q`` (a grey image as one channel, as a scanner saves it)."""
    grey = bool((img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all())
    src = img[..., 0] if grey else cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, q])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    dec = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return np.repeat(dec[..., None], 3, 2) if grey else cv2.cvtColor(dec, cv2.COLOR_BGR2RGB)


def degrade_holdout(hr: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(target 128 px, degraded 32 px, kind): the protocol for held-out face ``i``."""
    rng = np.random.default_rng([SEED, i])
    kind = KINDS[i % 3]
    target = tint(hr, kind)
    x = cv2.GaussianBlur(target, (0, 0), rng.uniform(0.6, 1.6))
    lr = imresize(to_t(x), scale=0.25)
    lr = np.ascontiguousarray(lr[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255, np.float32)
    noise = rng.normal(0, rng.uniform(2, 10), lr.shape[:2])[..., None]
    lr = (lr + noise + 0.5).clip(0, 255).astype(np.uint8)
    scratch(lr, rng, int(rng.integers(0, 4)))
    lr = jpeg_u8(lr, int(rng.integers(35, 86)))
    return target, lr, kind


def face_scores(
    methods: Mapping[str, Method], faces: Sequence[tuple[str, np.ndarray]], chunk: int = 25
) -> dict:
    """Every method on the degraded ``faces`` (``(name, 128x128x3 uint8)`` in order: face ``i``
    gets protocol ``i``; :func:`restore.tasks.face.read_face` reads them).

    ``bicubic`` (MATLAB x4) is always scored. Returns ``{"summary": {kind: {method_psnr,
    method_ssim, n}}, "rows": [per face]}``; ``summary`` also has ``<method>_gain_over_bicubic_db``
    for every other method.
    """
    names = ["bicubic", *[m for m in methods if m != "bicubic"]]
    fns = {"bicubic": lambda x: imresize(x, scale=4).clamp(0, 1), **methods}
    rows = []
    for c0 in range(0, len(faces), chunk):  # one call per method and chunk
        items = [degrade_holdout(a, c0 + j) for j, (_, a) in enumerate(faces[c0 : c0 + chunk])]
        t = torch.cat([to_t(a) for a, _, _ in items])
        x = torch.cat([to_t(b) for _, b, _ in items])
        scores = {}
        for k in names:
            y = (fns[k](x).clamp(0, 1) * 255).round() / 255  # scored as saved (uint8)
            scores[k] = (psnr(y, t), ssim(y, t))
        for j, (_, _, kind) in enumerate(items):
            row = {"image": faces[c0 + j][0], "kind": kind}
            for k in names:
                row[f"{k}_psnr"] = float(scores[k][0][j])
                row[f"{k}_ssim"] = float(scores[k][1][j])
            rows.append(row)
    summary: dict = {}
    for kind in ("all", *KINDS):
        sel = [r for r in rows if kind == "all" or r["kind"] == kind]
        if not sel:
            continue
        summary[kind] = {
            f"{m}_{k}": round(float(np.mean([r[f"{m}_{k}"] for r in sel])), 4)
            for m in names
            for k in ("psnr", "ssim")
        }
        summary[kind]["n"] = len(sel)
    a = summary["all"]
    for m in names[1:]:
        summary[f"{m}_gain_over_bicubic_db"] = round(a[f"{m}_psnr"] - a["bicubic_psnr"], 3)
    return {"protocol": __doc__.split("\n\n")[1], "summary": summary, "rows": rows}


def aligned_method(crops_fn: Callable[[Tensor], Tensor]) -> Method:
    """A face model on the crop the photo pipeline would cut: the 32-px face enlarged x4 by the
    aligner's bicubic warp, restored as an aligned 128-px crop by ``crops_fn``."""
    from restore.faces.align import warp

    up4 = np.array([[4.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
    return lambda x: crops_fn(warp(x, up4, (128, 128)))


__all__ = [
    "KINDS",
    "SEED",
    "degrade_holdout",
    "aligned_method",
    "face_scores",
    "jpeg_u8",
    "scratch",
    "tint",
    "to_t",
]
