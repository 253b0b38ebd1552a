"""Evaluation protocols that reproduce the numbers papers publish, as plain JSON-ready dicts.

- :func:`sr_protocol`: MATLAB-bicubic LR from ``LR/``, HR from ``HR/`` (a plain folder of images:
  HR cropped to a multiple of ``scale``, LR made from it by MATLAB's uint8 ``imresize``); the
  output is rounded to uint8 (as when saved), then scored on the BT.601 studio-range Y channel
  rounded to integer levels (MATLAB ``rgb2ycbcr`` on uint8), ``scale`` pixels shaved; grey images
  are scored on their grey channel as they are. With the bicubic baseline this gives Set5 x4
  28.42 dB / 0.8101, Set14 x4 25.99 dB (published: 28.42 / 0.8104, 26.00). Each row also has the
  sharpness ``grad_ratio`` (:mod:`restore.eval.sharpness`; 1 = as sharp as HR).
- :func:`inpaint_protocol`: whole-image PSNR / SSIM and hole-only PSNR / L1, bucketed by hole
  ratio, beside the classical baselines (Telea, Navier-Stokes, biharmonic).
- :func:`colorize_protocol`: RGB PSNR / SSIM and colourfulness against the ground truth's, beside
  the grayscale baseline.
- :func:`evaluate_folders`: score a folder of outputs against a folder of targets.

:func:`restore.eval.report.format_table` prints a result.

Every result has ``rows`` (one per image and method), ``mean`` (method -> metric -> mean) and
``count``; NaN / inf become ``None`` so ``json.dumps`` writes standard JSON.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor

from restore.data.color import rgb_to_gray, rgb_to_y_studio
from restore.data.io import read_image, to_tensor
from restore.data.resize import imresize_uint8, round_half_away, to_uint8
from restore.eval.baselines import INPAINT_BASELINES, grayscale_baseline
from restore.eval.metrics import (
    DEFAULT_HOLE_EDGES,
    colorfulness,
    hole_ratio,
    hole_ratio_buckets,
    masked_l1,
    masked_psnr,
    psnr,
    ssim,
    summarize,
)

__all__ = [
    "colorize_protocol",
    "evaluate_folders",
    "inpaint_protocol",
    "sr_protocol",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")

ImageFn = Callable[[Tensor], Tensor]
InpaintFn = Callable[[Tensor, Tensor], Tensor]
MaskFn = Callable[[str, Tensor], Tensor]


# --- files ----------------------------------------------------------------------------------


def _load(path: Path) -> tuple[Tensor, bool]:
    """Read an image as (1, 3, H, W) float32 in [0, 1]; also say whether it is grey."""
    image = read_image(path)
    return to_tensor(image), image.grayscale


def _images(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Image files of a folder by stem, sorted."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {str(root)!r} does not exist")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {str(root)!r}")
    return {p.stem: p for p in files}


# --- scoring helpers -------------------------------------------------------------------------


def _luma(x: Tensor, gray: bool, quantize: bool) -> Tensor:
    """The channel SR papers score: studio Y for colour images, the grey value for grey ones."""
    y = rgb_to_gray(x) if gray else rgb_to_y_studio(x)
    if quantize:
        y = round_half_away(y * 255.0) / 255.0
    return y


def _score_y(
    pred: Tensor, target: Tensor, gray: bool, shave: int, quantize: bool
) -> dict[str, float]:
    if quantize:
        pred = to_uint8(pred).float() / 255.0
    yp, yt = _luma(pred, gray, quantize), _luma(target, gray, quantize)
    return {
        "psnr": float(psnr(yp, yt, shave=shave)[0]),
        "ssim": float(ssim(yp, yt, shave=shave)[0]),
    }


def _score_rgb(pred: Tensor, target: Tensor, shave: int = 0) -> dict[str, float]:
    return {
        "psnr": float(psnr(pred, target, shave=shave)[0]),
        "ssim": float(ssim(pred, target, shave=shave)[0]),
    }


def _clean(value: object) -> object:
    """NaN / inf -> None, recursively, so the result is standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _means_by_method(
    rows: Sequence[Mapping[str, object]], methods: Sequence[str]
) -> dict[str, object]:
    out: dict[str, object] = {}
    for method in methods:
        picked = [
            {k: v for k, v in r.items() if k != "method"} for r in rows if r["method"] == method
        ]
        out[method] = summarize(picked)["mean"]
    return out


def _result(
    task: str,
    settings: dict[str, object],
    rows: list[dict[str, object]],
    methods: Sequence[str],
    **extra: object,
) -> dict[str, object]:
    result: dict[str, object] = {
        "task": task,
        "settings": settings,
        "methods": list(methods),
        "mean": _means_by_method(rows, methods),
        "count": len({r["name"] for r in rows}),
        "rows": rows,
    }
    result.update(extra)
    return _clean(result)  # type: ignore[return-value]


def _check_output(name: str, out: Tensor, expected: torch.Size) -> Tensor:
    if not torch.is_tensor(out) or out.shape != expected:
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        raise ValueError(f"{name}: the model returned {shape}, expected {tuple(expected)}")
    return out.detach().float().clamp(0.0, 1.0)


# --- protocols -------------------------------------------------------------------------------


def evaluate_folders(
    pred_dir: str | os.PathLike[str],
    target_dir: str | os.PathLike[str],
    *,
    y_channel: bool = False,
    shave: int = 0,
    quantize: bool = True,
) -> dict[str, object]:
    """Score every image of ``pred_dir`` against the image of the same name in ``target_dir``.

    Files are matched by name without extension (``001.png`` against ``001.png`` or ``001.jpg``).

    Args:
        pred_dir: folder of restored images.
        target_dir: folder of ground-truth images.
        y_channel: score the studio-range Y channel (grey images: their grey value), as SR papers.
        shave: pixels dropped from each border.
        quantize: with ``y_channel``, round Y to integer levels (MATLAB ``rgb2ycbcr`` on uint8).

    Returns:
        ``{"task": "folders", "rows": [{"name", "method", "psnr", "ssim"}], "mean": ...,
        "missing": [names without a prediction], ...}``.

    Raises:
        FileNotFoundError: a folder is missing or no names match.
        ValueError: a matched pair differs in size.
    """
    preds, targets = _images(pred_dir), _images(target_dir)
    names = [n for n in targets if n in preds]
    if not names:
        raise FileNotFoundError(
            f"no image names in {str(pred_dir)!r} match those in {str(target_dir)!r}"
        )
    rows: list[dict[str, object]] = []
    for name in names:
        target, gray = _load(targets[name])
        pred, _ = _load(preds[name])
        if pred.shape != target.shape:
            raise ValueError(
                f"{name}: prediction {tuple(pred.shape[-2:])} vs target {tuple(target.shape[-2:])}"
            )
        if y_channel:
            scores = _score_y(pred, target, gray, shave, quantize)
        else:
            scores = _score_rgb(pred, target, shave)
        rows.append({"name": targets[name].name, "method": "pred", **scores})
    settings = {
        "pred_dir": str(pred_dir),
        "target_dir": str(target_dir),
        "y_channel": y_channel,
        "shave": shave,
        "quantize": quantize,
    }
    missing = [targets[n].name for n in targets if n not in preds]
    return _result("folders", settings, rows, ["pred"], missing=missing)


def _sr_pairs(root: Path, scale: int) -> list[tuple[str, Path, Path | None]]:
    """(name, HR file, LR file or None to make it) for ``root/HR`` + ``root/LR`` or a plain folder."""
    if not (root / "HR").is_dir():
        return [(p.name, p, None) for p in _images(root).values()]
    hr_files, lr_files = _images(root / "HR"), _images(root / "LR")
    pairs = []
    for name, hr_path in hr_files.items():
        if name not in lr_files:
            raise FileNotFoundError(f"{hr_path.name} has no LR image in {str(root / 'LR')!r}")
        pairs.append((hr_path.name, hr_path, lr_files[name]))
    return pairs


def sr_protocol(
    upscale_fn: ImageFn,
    data_dir: str | os.PathLike[str],
    scale: int,
    *,
    quantize: bool = True,
    method: str = "model",
) -> dict[str, object]:
    """Super-resolution protocol of the literature on a ``data_dir`` with ``HR/`` and ``LR/``.

    Each LR image (grey ones repeated to RGB) goes through ``upscale_fn``; the output is scored
    against HR on the Y channel with ``scale`` pixels shaved (see the module docstring). A
    ``data_dir`` without ``HR/`` is a plain folder of ground-truth images: each is cropped to a
    multiple of ``scale`` (top-left, as MATLAB's ``modcrop``) and its LR image is made with
    MATLAB's bicubic ``imresize`` on uint8, so any photos can be scored the same way.

    Args:
        upscale_fn: ``(1, 3, h, w) -> (1, 3, h * scale, w * scale)``, images in [0, 1]; e.g.
            ``lambda lr: bicubic_upscale(lr, 4)`` for the bicubic baseline.
        data_dir: e.g. ``../shared/data/val/Set5/x4``, or a folder of images.
        scale: the upscaling factor (also the shave).
        quantize: round outputs to uint8 and Y to integer levels, as the MATLAB scripts behind
            published tables do (about 0.01 dB).
        method: the name the rows carry.

    Returns:
        ``{"task": "sr", "rows": [{"name", "method", "psnr", "ssim", "grad_ratio"}],
        "mean": {method: {...}}, ...}``; ``grad_ratio`` is the sharpness against HR.

    Raises:
        FileNotFoundError: no images, or an HR image without its LR one.

    Example:
        >>> from restore.eval.baselines import bicubic_upscale
        >>> r = sr_protocol(lambda lr: bicubic_upscale(lr, 4), "../shared/data/val/Set5/x4", 4)  # doctest: +SKIP
        >>> round(r["mean"]["model"]["psnr"], 2)  # doctest: +SKIP
        28.42
    """
    from restore.eval.sharpness import gradient_ratio

    root = Path(data_dir)
    pairs = _sr_pairs(root, scale)
    rows: list[dict[str, object]] = []
    for name, hr_path, lr_path in pairs:
        hr, gray = _load(hr_path)
        if lr_path is None:
            h, w = (d - d % scale for d in hr.shape[-2:])
            if min(h, w) < 2 * scale + 3:
                raise ValueError(f"{name}: {tuple(hr.shape[-2:])} is too small for x{scale}")
            hr = hr[..., :h, :w]
            lr = imresize_uint8(to_uint8(hr), 1.0 / scale).float() / 255.0
        else:
            lr, _ = _load(lr_path)
        with torch.no_grad():
            sr = _check_output(name, upscale_fn(lr), hr.shape).cpu()
        saved = to_uint8(sr).float() / 255.0 if quantize else sr
        rows.append(
            {
                "name": name,
                "method": method,
                **_score_y(sr, hr, gray, scale, quantize),
                "grad_ratio": gradient_ratio(saved, hr, shave=scale),
            }
        )
    settings = {
        "data_dir": str(data_dir),
        "scale": scale,
        "quantize": quantize,
        "channel": "Y (BT.601 studio)",
        "shave": scale,
        "lr": "LR/" if (root / "HR").is_dir() else "MATLAB bicubic imresize of HR (uint8)",
    }
    return _result("sr", settings, rows, [method])


def inpaint_protocol(
    inpaint_fn: InpaintFn | None,
    image_dir: str | os.PathLike[str],
    masks_fn: MaskFn,
    *,
    baselines: bool = True,
    edges: Sequence[float] = DEFAULT_HOLE_EDGES,
    limit: int | None = None,
) -> dict[str, object]:
    """Inpainting protocol: whole-image and hole-only scores per hole-ratio bucket, beside baselines.

    Each image gets the mask ``masks_fn(name, image)``; its holes are zeroed and every method fills
    them; known pixels are then pasted back from the input (so scores measure the hole's filling).

    Args:
        inpaint_fn: ``(images (1, 3, H, W), masks (1, 1, H, W)) -> (1, 3, H, W)``; ``None`` scores
            the baselines only.
        image_dir: folder of ground-truth images.
        masks_fn: ``(file name, image (1, 3, H, W)) -> mask (1, 1, H, W)``, 1 marking a hole.
        baselines: also run Telea, Navier-Stokes and biharmonic inpainting.
        edges: hole-ratio bucket edges.
        limit: score only the first ``limit`` images (sorted by name).

    Returns:
        ``rows`` (name, method, hole_ratio, bucket, psnr, ssim, hole_psnr, hole_l1), ``mean`` per
        method and ``buckets``: bucket -> method -> mean metrics (with ``count``).
    """
    methods: dict[str, InpaintFn] = {}
    if inpaint_fn is not None:
        methods["model"] = inpaint_fn
    if baselines:
        methods.update(INPAINT_BASELINES)
    if not methods:
        raise ValueError("nothing to evaluate: inpaint_fn is None and baselines=False")
    files = list(_images(image_dir).values())[:limit]
    rows: list[dict[str, object]] = []
    for path in files:
        image, _ = _load(path)
        mask = masks_fn(path.name, image)
        if not torch.is_tensor(mask) or mask.shape != (1, 1, *image.shape[-2:]):
            raise ValueError(
                f"{path.name}: masks_fn returned {getattr(mask, 'shape', mask)}, expected (1, 1, H, W)"
            )
        mask = (mask.detach().cpu() > 0.5).float()
        masked = image * (1.0 - mask)
        ratio = float(hole_ratio(mask)[0])
        bucket = hole_ratio_buckets(mask, edges)[0]
        for method, fn in methods.items():
            with torch.no_grad():
                out = _check_output(path.name, fn(masked, mask), image.shape).cpu()
            out = out * mask + image * (1.0 - mask)
            rows.append(
                {
                    "name": path.name,
                    "method": method,
                    "hole_ratio": ratio,
                    "bucket": bucket,
                    **_score_rgb(out, image),
                    "hole_psnr": float(masked_psnr(out, image, mask)[0]),
                    "hole_l1": float(masked_l1(out, image, mask)[0]),
                }
            )
    buckets: dict[str, dict[str, object]] = {}
    labels = [lbl for lbl in dict.fromkeys(r["bucket"] for r in rows)]
    for label in sorted(
        labels, key=lambda s: (s is None, float(str(s).split("-")[0]) if s else 0.0)
    ):
        picked = [r for r in rows if r["bucket"] == label]
        per_method = _means_by_method(
            picked, [m for m in methods if any(r["method"] == m for r in picked)]
        )
        for method, means in per_method.items():
            means["count"] = sum(1 for r in picked if r["method"] == method)  # type: ignore[index]
        buckets[str(label)] = per_method
    settings = {
        "image_dir": str(image_dir),
        "edges": list(edges),
        "limit": limit,
        "composite": True,
    }
    return _result("inpaint", settings, rows, list(methods), buckets=buckets)


def colorize_protocol(
    colorize_fn: ImageFn | None,
    image_dir: str | os.PathLike[str],
    *,
    baseline: bool = True,
    limit: int | None = None,
) -> dict[str, object]:
    """Colorization protocol: RGB PSNR / SSIM and colourfulness, beside the grayscale baseline.

    Each colour image is turned grey (BT.601 luma, repeated over RGB) and given to
    ``colorize_fn``. Grey ground-truth images are skipped.

    Args:
        colorize_fn: ``(1, 3, H, W) grey RGB -> (1, 3, H, W)`` colour; ``None`` scores the
            baseline only.
        image_dir: folder of colour ground-truth images.
        baseline: also score the grey image itself.
        limit: score only the first ``limit`` images.

    Returns:
        ``rows`` (name, method, psnr, ssim, colorfulness, colorfulness_gt, colorfulness_ratio,
        colorfulness_gap = gt - output) and ``mean`` per method.
    """
    methods: dict[str, ImageFn] = {}
    if colorize_fn is not None:
        methods["model"] = colorize_fn
    if baseline:
        methods["grayscale"] = grayscale_baseline
    if not methods:
        raise ValueError("nothing to evaluate: colorize_fn is None and baseline=False")
    rows: list[dict[str, object]] = []
    skipped: list[str] = []
    for path in list(_images(image_dir).values())[:limit]:
        image, gray = _load(path)
        if gray:
            skipped.append(path.name)
            continue
        grey = grayscale_baseline(image)
        cf_gt = float(colorfulness(image)[0])
        for method, fn in methods.items():
            with torch.no_grad():
                out = _check_output(path.name, fn(grey), image.shape).cpu()
            cf = float(colorfulness(out)[0])
            rows.append(
                {
                    "name": path.name,
                    "method": method,
                    **_score_rgb(out, image),
                    "colorfulness": cf,
                    "colorfulness_gt": cf_gt,
                    "colorfulness_ratio": cf / cf_gt if cf_gt > 0 else math.nan,
                    "colorfulness_gap": cf_gt - cf,
                }
            )
    settings = {"image_dir": str(image_dir), "limit": limit, "gray": "BT.601 luma"}
    return _result("colorize", settings, rows, list(methods), skipped=skipped)
