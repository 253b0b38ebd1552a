"""The photo pipeline's stages: their default models (loaded once per name and device) and the
damage-mask helpers (a classical inpainting stand-in, reading a mask)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from restore.data.io import Image, read_image
from restore.errors import RestoreError
from restore.photo.tone import TONE_MODES
from restore.tasks.specs import stage_models

#: The stages in the order they run, and the shipped model each uses by default (from the task
#: specs' ``stages``, :data:`restore.tasks.TASKS`; ``upscale2`` / ``upscale4`` per scale).
STAGES: tuple[str, ...] = ("detect", "inpaint", "enhance", "faces", "colorize", "upscale")
DEFAULT_MODELS: dict[str, str] = stage_models()
#: Stages that may be skipped with a warning when their model is not shipped.
OPTIONAL: frozenset[str] = frozenset({"faces", "colorize", "upscale"})
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


def clear_model_cache() -> None:
    """Forget the stage models loaded so far (e.g. after the shipped weights changed)."""
    _load_cached.cache_clear()


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


#: ``colorize=`` values: off, colour grey / single-toned photos only, or every photo.
Colorize = bool | Literal["force"]


def check_colour_options(colorize: Any, tone: Any) -> None:
    """Raise ``ValueError`` for a ``colorize`` or ``tone`` that :class:`PhotoRestorer` refuses."""
    if not (isinstance(colorize, bool) or (isinstance(colorize, str) and colorize == "force")):
        raise ValueError(f"colorize must be False, True or 'force', got {colorize!r}")
    if not (isinstance(tone, str) and tone in TONE_MODES):
        raise ValueError(f"tone must be one of {list(TONE_MODES)}, got {tone!r}")


def faces_stage(
    model: Any, y: Tensor, strength: float = 1.0
) -> tuple[Tensor, list[list[dict[str, Any]]]]:
    """The faces stage: ``model`` (a face model) on every face of photos y (B, 3, H, W) in
    [0, 1] (:func:`restore.faces.restore_faces`, keeping ``strength`` of the model's change);
    returns the photos and, per photo, the faces found (box, eyes)."""
    from restore.faces import restore_faces

    size = int(model.inference.get("size", 128))

    def crops(c: Tensor) -> Tensor:
        return model.run_tensor(c, aligned=True)

    outs, found = [], []
    for i in range(y.shape[0]):
        yi, faces = restore_faces(y[i : i + 1], crops, size=size, strength=strength)
        outs.append(yi)
        found.append([f.as_dict() for f in faces])
    return torch.cat(outs), found


def about_image(img: Image) -> dict[str, Any]:
    """What a report says of the input: path, grayscale, alpha, bit depth."""
    return {
        "path": str(img.path) if img.path else None,
        "grayscale": img.grayscale,
        "alpha": img.alpha is not None,
        "bit_depth": img.bit_depth,
    }


#: Mirror views of the grey look (``detect_damage(grey_flips=)``): half of the colour look's four
#: gave the same held-out gain and real-print recall at half the grey look's cost
#: (docs/BENCHMARKS.md, "The grey look in two views").
GREY_FLIPS = 2


#: restore photo's ``detect_grey``: photos whose colours stray less than this many 8-bit levels
#: from their tone (:func:`restore.photo.tone.colour_spread`) are also looked at in grey: two
#: just-noticeable differences; B&W, toned and most faded or tinted prints, not colour photos.
GREY_LOOK = 6.0


def detect_damage(
    model: Any,
    x: Tensor,
    threshold: float,
    dilate: int | Literal["like"],
    protect_faces: bool,
    half_size: bool = True,
    corners: bool = True,
    pyramid: bool = True,
    flips: int | None = None,
    grey_look: float = 0.0,
    lines: bool = False,
    coarse: Any = None,
    levels: Tensor | None = None,
    scan_flips: int | None = None,
    grey_flips: int = GREY_FLIPS,
) -> Tensor:
    """The damage mask (B, 1, H, W) in {0, 1} of photos x (B, 3, H, W) in [0, 1]: ``model``'s
    probability above ``threshold`` (with ``half_size``, large regions found at half size too,
    and with ``pyramid`` at smaller sizes on large scans:
    :func:`restore.photo.scales.damage_probability`; every map the mean over ``flips`` mirror
    views, default :data:`restore.photo.scales.FLIPS`; a large scan's full size ``scan_flips``,
    default :data:`restore.photo.scales.SCAN_FLIPS`), grown by ``dilate`` pixels everywhere
    (``"like"``: into the neighbours that look like the damage,
    :func:`restore.photo.growth.grow_like_damage`), without the
    bands along the edges (a print's margin: :func:`restore.photo.margins.drop_edge_bands`);
    with ``protect_faces``, only thin defects and bare paper inside the faces found
    (:func:`restore.faces.protect.keep_thin_in_faces`). With ``corners``, the missing corners
    (:func:`restore.photo.corners.missing_corners`), grown and without edge bands the same way,
    join the mask after the faces' protection. With ``grey_look`` > 0, a photo whose colours
    stray less than that many 8-bit levels from its tone (:func:`restore.photo.tone.colour_spread`:
    a B&W, toned, faded or lightly tinted print) is also looked at in grey (its BT.601 luma), and
    the larger of the two probabilities counts: the detector misses the cracks of some tinted
    prints that it finds in their grey (docs/BENCHMARKS.md, "Looking at a print in grey too");
    a photo already grey (R = G = B) is its own grey and is looked at once. The grey look's map is
    the mean over ``min(flips, grey_flips)`` views (:data:`GREY_FLIPS`).
    With ``lines``, the long light lines (folds, scratches) that the detector's probability
    follows, even under the threshold, join the mask before the faces' protection
    (:func:`restore.photo.lines.long_lines`). With a ``coarse`` model (the coarse detector,
    :mod:`restore.photo.coarse`), what it finds on a print (colour spread under
    :data:`restore.photo.coarse.COARSE_SPREAD`) shrunk to a print's scale (large flakes) and
    that looks like bare paper (fibrous: :func:`restore.photo.coarse.fibrous`), as far as the
    coarse map stays over :data:`restore.photo.coarse.COARSE_LOW` (:func:`restore.photo.coarse.reach`), joins the mask,
    grown the same way, after the faces' protection: a flake off a face is paper, not skin.
    With ``levels``, the (B,) gains of :func:`restore.photo.levels.paper_gain`, the detector (at
    every size, in colour and in grey) looks at each photo multiplied by its gain
    (:func:`restore.photo.levels.levelled`): a dim print's bare paper as white as a scan's."""
    from restore.photo.growth import grow_like_damage
    from restore.photo.margins import drop_edge_bands
    from restore.photo.scales import FLIPS, SCAN_FLIPS, damage_probability, flip_average
    from restore.tasks.damage import binarize

    def grown(p: Tensor, t: float) -> Tensor:  # thresholded, grown, without edge bands
        m = grow_like_damage(binarize(p, t), x) if dilate == "like" else binarize(p, t, dilate)
        return drop_edge_bands(m, image=x)

    flips = FLIPS if flips is None else flips
    scan_flips = SCAN_FLIPS if scan_flips is None else scan_flips

    def probability(v: Tensor, views: int = flips) -> Tensor:
        if half_size:
            return damage_probability(
                model, v, pyramid=pyramid, flips=views, threshold=threshold, scan_flips=scan_flips
            )
        return flip_average(model, v, views)[:, :1]  # the detector's map is on 3 channels

    from restore.photo.levels import levelled

    seen = x if levels is None else levelled(x, levels)
    prob = probability(seen)
    spread = None  # each photo's colour spread, measured once for the grey look and the coarse
    if grey_look > 0 or coarse is not None:
        from restore.photo.tone import colour_spread

        spread = colour_spread(x)
    if grey_look > 0:
        from restore.data.color import rgb_to_gray

        # a photo already grey (R = G = B: a B&W file) is its own grey: no second look
        grey_already = (x.amax(1) - x.amin(1)).flatten(1).amax(1) == 0
        few = (spread < grey_look) & ~grey_already.to(spread.device)
        if few.any():
            grey = probability(
                rgb_to_gray(seen[few], keep_channels=True),
                min(flips, grey_flips),
            )
            prob = prob.clone()
            prob[few] = torch.maximum(prob[few], grey.to(prob))
    mask = grown(prob, threshold)
    if lines:  # long light lines the detector sees under its threshold
        from restore.photo.lines import long_lines

        found = long_lines(x, prob)
        if found.any():
            mask = torch.maximum(mask, grown(found.to(prob), 0.5).to(mask))
    paper = None  # bare paper at a whole print's scale (large flakes), joined after the faces
    if coarse is not None:
        from restore.photo.coarse import (
            COARSE_SPREAD,
            COARSE_THRESHOLD,
            coarse_probability,
            fibrous,
            reach,
        )

        prints = spread < COARSE_SPREAD  # B&W, toned, faded or tinted prints only
        if prints.any():
            big = torch.zeros_like(prob)
            p = coarse_probability(coarse, x[prints], flips=flips)
            kept = fibrous(binarize(p, COARSE_THRESHOLD), x[prints])
            big[prints] = reach(kept, p).to(prob)
            if big.any():
                paper = grown(big, 0.5)
    if protect_faces and mask.any():  # face detection only when there is something to protect
        from restore.faces.detect import detect_faces
        from restore.faces.protect import keep_thin_in_faces

        boxes = [[f.box for f in detect_faces(x[i])] for i in range(x.shape[0])]
        mask = keep_thin_in_faces(mask, boxes, image=x)
    if paper is not None:  # bare paper is not skin: a flake off a face is filled
        mask = torch.maximum(mask, paper.to(mask))
    if corners:  # a missing corner is not a face, even where a face's box reaches into it
        from restore.photo.corners import missing_corners

        torn = missing_corners(x)
        if torn.any():
            mask = torch.maximum(mask, grown(torn.to(prob), 0.5).to(mask))
    return mask


__all__ = [
    "CV2_INPAINT",
    "DEFAULT_MODELS",
    "GREY_FLIPS",
    "GREY_LOOK",
    "OPTIONAL",
    "STAGES",
    "Colorize",
    "about_image",
    "check_colour_options",
    "detect_damage",
    "clear_model_cache",
    "faces_stage",
    "cv2_inpaint",
    "load_stage_model",
    "read_mask",
]
