"""Damaged-photo restoration: find the damage, inpaint it, enhance, optionally colorize and upscale.

The stages, in order (each can be switched off):

1. ``detect``   the ``damage`` model predicts where scratches, dust and creases destroyed the
   picture (probability > threshold, grown by a few pixels); a given ``mask`` replaces it.
2. ``inpaint``  the ``inpaint`` model fills the masked pixels (``cv2.inpaint`` Telea stands in,
   with a note in the report, when no inpaint model is shipped in this installation).
3. ``enhance``  the ``enhance`` model undoes fading, colour cast, grain, mild blur and JPEG.
4. ``colorize`` (optional) the ``colorize`` model colours a black-and-white photo.
5. ``upscale``  (optional) ``sr-x2`` / ``sr-x4``.

Optional stages whose model is not shipped yet are skipped with a warning in the report; the
required ones (detect, enhance) raise :class:`~restore.errors.ModelNotFoundError`. Every model
tiles large images itself, so any size works; grayscale, alpha and 16-bit inputs keep their kind.

Example:
    >>> from restore.photo import restore_photo
    >>> out, report = restore_photo("assets/old_photo.jpg")          # doctest: +SKIP
    >>> [s["stage"] for s in report["stages"] if s["ran"]]          # doctest: +SKIP
    ['detect', 'inpaint', 'enhance']
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from restore.data.io import Image, from_tensor, read_image, to_tensor
from restore.errors import ModelNotFoundError, RestoreError
from restore.runtime import pick_device

log = logging.getLogger(__name__)

#: The stages in the order they run, and the shipped model each uses by default.
STAGES: tuple[str, ...] = ("detect", "inpaint", "enhance", "colorize", "upscale")
DEFAULT_MODELS: dict[str, str] = {
    "detect": "damage",
    "inpaint": "inpaint",
    "enhance": "enhance",
    "colorize": "colorize",
    "upscale2": "sr-x2",
    "upscale4": "sr-x4",
}
#: Stages that may be skipped with a warning when their model is not shipped.
OPTIONAL: frozenset[str] = frozenset({"colorize", "upscale"})
CV2_INPAINT = "cv2.inpaint (Telea, radius 3)"


@functools.lru_cache(maxsize=16)
def _load_cached(name: str, device: str, tile: int | None) -> Any:
    from restore.api import Restorer

    return Restorer.from_pretrained(name, device=device, tile=tile)


def load_stage_model(
    name_or_path: str | os.PathLike[str] | Any, device: torch.device, tile: int | None = None
) -> Any:
    """A :class:`~restore.api.Restorer` for a stage: loaded (cached per name and device) or as given."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        return name_or_path  # already a Restorer (or anything with run_tensor)
    return _load_cached(str(name_or_path), str(device), tile)


def cv2_inpaint(x: Tensor, mask: Tensor, radius: int = 3) -> Tensor:
    """Classical inpainting (OpenCV Telea) of each image; known pixels are kept exactly.

    Args:
        x: (B, 3, H, W) images in [0, 1].
        mask: (B, 1, H, W), 1 = hole.
        radius: Telea's neighbourhood radius in pixels.

    Returns:
        (B, 3, H, W) images in [0, 1], on x's device.
    """
    import cv2

    out = []
    for i in range(x.shape[0]):
        img = (x[i].permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
        m = (mask[i, 0].cpu().numpy() > 0.5).astype(np.uint8)
        filled = cv2.inpaint(img, m, radius, cv2.INPAINT_TELEA)
        out.append(torch.from_numpy(filled).permute(2, 0, 1).float() / 255.0)
    y = torch.stack(out).to(x.device)
    return torch.where(mask > 0.5, y, x)


def read_mask(mask: Any, size: tuple[int, int]) -> Tensor:
    """A mask (file path, array (H, W[, C]) nonzero = hole, or tensor) -> (1, 1, H, W) float {0, 1}.

    A mask file is white (>= half scale) where there is damage.

    Raises:
        RestoreError: the mask cannot be read or its size differs from the image's.
    """
    if isinstance(mask, Tensor):
        m = mask.float()
        while m.dim() < 4:
            m = m[None]
        m = (m[:, :1] > 0.5).float()
    else:
        if isinstance(mask, (str, os.PathLike)):
            px = read_image(Path(mask)).pixels.max(axis=2)
            hole = px >= (32768 if px.dtype == np.uint16 else 128)
        else:
            arr = np.asarray(mask)
            hole = (arr.max(axis=2) if arr.ndim == 3 else arr) != 0
        m = torch.from_numpy(hole.astype(np.float32))[None, None]
    if tuple(m.shape[-2:]) != tuple(size):
        raise RestoreError(
            f"mask size {tuple(m.shape[-2:])} (H, W) does not match the image size {tuple(size)}"
        )
    return m


class PhotoRestorer:
    """The photo pipeline with its models loaded once; call :meth:`restore_tensor` per photo.

    Args:
        detect, inpaint, enhance, colorize: run the stage.
        upscale: ``None``, 2 or 4.
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available).
        models: per stage (``detect``, ``inpaint``, ``enhance``, ``colorize``, ``upscale``), a
            shipped name, weights path, run folder or loaded Restorer replacing the default model.
        threshold: damage probability threshold (default: the damage model's card, 0.5).
        dilate: pixels the detected mask grows by (default: the damage model's card, 1).
        tile: tile side passed to the models (``None``: automatic).

    Raises:
        ModelNotFoundError: a required model (damage, enhance) is not available.
        ValueError: a bad ``upscale`` or an unknown stage in ``models``.
    """

    def __init__(
        self,
        *,
        detect: bool = True,
        inpaint: bool = True,
        enhance: bool = True,
        colorize: bool = False,
        upscale: int | None = None,
        device: str | torch.device | None = None,
        models: Mapping[str, Any] | None = None,
        threshold: float | None = None,
        dilate: int | None = None,
        tile: int | None = None,
    ) -> None:
        if upscale not in (None, 1, 2, 4):
            raise ValueError(f"upscale must be 2 or 4 (or None), got {upscale!r}")
        models = dict(models or {})
        unknown = sorted(set(models) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown} in models; stages: {list(STAGES)}")
        self.device = pick_device(device)
        self.enabled = {
            "detect": detect,
            "inpaint": inpaint,
            "enhance": enhance,
            "colorize": colorize,
            "upscale": upscale not in (None, 1),
        }
        self.upscale = upscale if upscale not in (None, 1) else None
        self.warnings: list[str] = []
        self.models: dict[str, Any] = {}
        self.model_names: dict[str, str] = {}
        for stage in STAGES:
            if not self.enabled[stage]:
                continue
            key = f"upscale{self.upscale}" if stage == "upscale" else stage
            spec = models.get(stage, DEFAULT_MODELS[key])
            try:
                self.models[stage] = load_stage_model(spec, self.device, tile)
                self.model_names[stage] = (
                    str(spec) if isinstance(spec, (str, os.PathLike)) else repr(spec)
                )
            except ModelNotFoundError as e:
                if stage == "inpaint" and "inpaint" not in models:
                    self.model_names[stage] = CV2_INPAINT
                    self.warnings.append(
                        f"inpaint: model {spec!r} not available ({e}); using {CV2_INPAINT} instead"
                    )
                elif stage in OPTIONAL and stage not in models:
                    self.warnings.append(f"{stage}: skipped, model {spec!r} not available ({e})")
                else:
                    raise ModelNotFoundError(f"{stage} stage: {e}") from e
        for w in self.warnings:
            log.warning("%s", w)
        card = getattr(self.models.get("detect"), "card", {}) or {}
        inf = card.get("inference", {})
        self.threshold = float(threshold if threshold is not None else inf.get("threshold", 0.5))
        self.dilate = int(dilate if dilate is not None else inf.get("dilate", 1))

    @property
    def output_rgb(self) -> bool:
        """True when a colorize stage will run (a grayscale input gives a colour output)."""
        return "colorize" in self.models

    @property
    def scale(self) -> int:
        """Output size / input size."""
        return self.upscale if "upscale" in self.models and self.upscale else 1

    # What a pipeline stage answers (the same as a Restorer's), so batch and pipeline code can
    # treat the whole photo restoration as one model.
    name: str = "photo"
    task: str = "photo"
    uses_mask: bool = True  # an optional damage mask
    needs_mask: bool = False

    @property
    def card(self) -> dict[str, Any]:
        """A summary card: the stages and the model each uses."""
        return {"name": self.name, "task": self.task, "stages": dict(self.model_names)}

    def accepts(self, keyword: str) -> bool:
        """Whether ``run_tensor`` takes ``keyword`` (only ``mask``)."""
        return keyword == "mask"

    def __call__(self, image: Any, **kwargs: Any) -> Any:
        """Restore a path, PIL image, array, tensor or a list of them; returns the same kind."""
        from restore.api import call_model

        return call_model(self, image, **kwargs)

    # -- the tensor path ------------------------------------------------------------------------
    def detect_mask(self, x: Tensor) -> Tensor:
        """The damage mask (B, 1, H, W) in {0, 1} of photos x (B, 3, H, W) in [0, 1]."""
        from restore.tasks.damage import binarize

        prob = self.models["detect"].run_tensor(x)
        return binarize(prob, self.threshold, self.dilate)

    def restore_tensor(
        self,
        x: Tensor,
        mask: Tensor | None = None,
        steps: MutableMapping[str, Tensor] | None = None,
    ) -> tuple[Tensor, dict[str, Any]]:
        """Run the stages on float images.

        Args:
            x: (B, 3, H, W) photos in [0, 1].
            mask: (B, 1, H, W) damage mask (1 = damaged) replacing the detected one.
            steps: if given, receives every intermediate result by stage name (``mask`` is
                (B, 1, H, W); the others (B, 3, H', W')).

        Returns:
            (restored (B, 3, H*scale, W*scale) in [0, 1], report dict: stages, seconds, device).
        """
        if x.dim() != 4 or x.shape[1] != 3 or not x.is_floating_point():
            raise ValueError(f"expected float (B, 3, H, W) images, got {tuple(x.shape)} {x.dtype}")
        report: dict[str, Any] = {
            "device": str(self.device),
            "input_size": [int(x.shape[-2]), int(x.shape[-1])],
            "stages": [],
            "warnings": list(self.warnings),
        }
        t_all = time.perf_counter()
        y = x
        if steps is not None:
            steps["input"] = x

        def record(stage: str, ran: bool, t0: float | None = None, **extra: Any) -> None:
            entry: dict[str, Any] = {"stage": stage, "ran": ran}
            if ran:
                entry["model"] = self.model_names.get(stage)
                entry["seconds"] = round(time.perf_counter() - (t0 or 0.0), 4)
            entry.update(extra)
            report["stages"].append(entry)

        # 1. the damage mask
        if mask is not None:
            m = mask.to(x.device).float()
            if m.shape[0] == 1 and x.shape[0] > 1:
                m = m.expand(x.shape[0], -1, -1, -1)
            if m.shape != (x.shape[0], 1, *x.shape[-2:]):
                raise RestoreError(
                    f"mask shape {tuple(m.shape)} does not match images {tuple(x.shape)}"
                )
            record("detect", False, reason="mask given")
        elif "detect" in self.models:
            t0 = time.perf_counter()
            m = self.detect_mask(x)
            record("detect", True, t0)
        else:
            m = None
            record("detect", False, reason="switched off")
        if m is not None:
            report["damaged_fraction"] = round(float(m.mean()), 6)
            if steps is not None:
                steps["mask"] = m

        # 2. inpaint the damage
        if not self.enabled["inpaint"]:
            record("inpaint", False, reason="switched off")
        elif m is None:
            record("inpaint", False, reason="no mask (detection off and none given)")
        elif not bool(m.any()):
            record("inpaint", False, reason="no damage found")
        else:
            t0 = time.perf_counter()
            if "inpaint" in self.models:
                filled = self.models["inpaint"].run_tensor(y, mask=m)
                y = torch.where(m > 0.5, filled.to(y), y)
            else:
                y = cv2_inpaint(y, m)
            record("inpaint", True, t0)
            if steps is not None:
                steps["inpaint"] = y

        # 3.-5. whole-image models
        for stage in ("enhance", "colorize", "upscale"):
            if stage not in self.models:
                reason = "switched off" if not self.enabled[stage] else "model not available"
                record(stage, False, reason=reason)
                continue
            t0 = time.perf_counter()
            y = self.models[stage].run_tensor(y).clamp(0, 1)
            record(stage, True, t0)
            if steps is not None:
                steps[stage] = y
        report["output_size"] = [int(y.shape[-2]), int(y.shape[-1])]
        report["total_seconds"] = round(time.perf_counter() - t_all, 4)
        return y, report

    def run_tensor(self, x: Tensor, *, mask: Tensor | None = None) -> Tensor:
        """:meth:`restore_tensor` without the report (the :class:`~restore.api.ImageModel` protocol)."""
        return self.restore_tensor(x, mask)[0]

    # -- images ---------------------------------------------------------------------------------
    def restore_image(
        self,
        img: Image,
        mask: Any = None,
        steps: MutableMapping[str, Tensor] | None = None,
    ) -> tuple[Image, dict[str, Any]]:
        """Restore an :class:`~restore.data.io.Image`; alpha, bit depth and grayscale are kept.

        A grayscale photo stays grayscale unless it is colorized.
        """
        x = to_tensor(img)
        m = read_mask(mask, img.size) if mask is not None else None
        y, report = self.restore_tensor(x, m, steps)
        out_gray = img.grayscale and "colorize" not in self.models
        if out_gray:
            y = y.mean(1, keepdim=True)
            if steps is not None:
                for k in ("inpaint", "enhance", "upscale"):
                    if k in steps:
                        steps[k] = steps[k].mean(1, keepdim=True).expand(-1, 3, -1, -1)
        pixels = from_tensor(y, bit_depth=img.bit_depth)
        if pixels.ndim == 2:
            pixels = np.repeat(pixels[..., None], 3, axis=2)
        out = img.with_pixels(pixels, grayscale=out_gray)
        report["input"] = {
            "path": str(img.path) if img.path else None,
            "grayscale": img.grayscale,
            "alpha": img.alpha is not None,
            "bit_depth": img.bit_depth,
        }
        return out, report


def restore_photo(
    image: Any,
    *,
    detect: bool = True,
    inpaint: bool = True,
    enhance: bool = True,
    colorize: bool = False,
    upscale: int | None = None,
    mask: Any = None,
    device: str | torch.device | None = None,
    models: Mapping[str, Any] | None = None,
    threshold: float | None = None,
    dilate: int | None = None,
    tile: int | None = None,
    steps: MutableMapping[str, Tensor] | None = None,
) -> tuple[Image, dict[str, Any]]:
    """Restore one damaged photo: detect damage, inpaint, enhance (+ colorize, upscale).

    Args:
        image: a path, an :class:`~restore.data.io.Image` or a uint8 / uint16 array (H, W[, C]).
        detect, inpaint, enhance, colorize, upscale, device, models, threshold, dilate, tile:
            see :class:`PhotoRestorer`.
        mask: damage mask replacing the detected one (path, array nonzero = damage, or tensor).
        steps: receives the intermediate tensors by stage name (see :meth:`PhotoRestorer.restore_tensor`).

    Returns:
        (restored Image, report dict): the report says which stages ran, with which model, on
        which device, how long each took, and the damaged fraction of the picture.

    Raises:
        ImageReadError: unreadable input. ModelNotFoundError: a required model is missing.
        RestoreError: a mask of the wrong size.

    Example:
        >>> out, report = restore_photo("old.jpg", upscale=2)   # doctest: +SKIP
    """
    if isinstance(image, Image):
        img = image
    elif isinstance(image, (str, os.PathLike)):
        img = read_image(Path(image))
    else:
        img = Image.from_array(np.asarray(image))
    pr = PhotoRestorer(
        detect=detect,
        inpaint=inpaint,
        enhance=enhance,
        colorize=colorize,
        upscale=upscale,
        device=device,
        models=models,
        threshold=threshold,
        dilate=dilate,
        tile=tile,
    )
    return pr.restore_image(img, mask, steps)


__all__ = [
    "DEFAULT_MODELS",
    "STAGES",
    "PhotoRestorer",
    "cv2_inpaint",
    "read_mask",
    "restore_photo",
]
