"""One photo in, one restored photo and its report out: :func:`restore_photo`."""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from restore.data.io import Image, read_image
from restore.photo.pipeline import PhotoRestorer
from restore.photo.stages import Colorize, check_colour_options
from restore.photo.tone import ToneMode


def restore_photo(
    image: Any,
    *,
    detect: bool = True,
    descreen: bool = True,
    inpaint: bool = True,
    enhance: bool = True,
    faces: bool = False,
    colorize: Colorize = False,
    tone: ToneMode = "keep",
    upscale: int | None = None,
    mask: Any = None,
    device: str | torch.device | None = None,
    models: Mapping[str, Any] | None = None,
    threshold: float | None = None,
    dilate: int | None = None,
    tile: int | None = None,
    steps: MutableMapping[str, Tensor] | None = None,
    face_strength: float = 1.0,
    fix_casts: bool = False,
) -> tuple[Image, dict[str, Any]]:
    """Restore one damaged photo: detect damage, inpaint, enhance (+ colorize, upscale).

    Args:
        image: a path, an :class:`~restore.data.io.Image` or a uint8 / uint16 array (H, W[, C]).
        detect, descreen, inpaint, enhance, faces, upscale, device, models, threshold, dilate,
        tile, face_strength, fix_casts: see :class:`PhotoRestorer`.
        colorize: ``False``, ``True`` (grey and single-toned photos only: a photo that already
            has colour is skipped, with a warning in the report) or ``"force"``.
        tone: ``"keep"`` (a toned print keeps its tone) or ``"neutral"`` (made neutral grey).
            Grey photos always come back grey (R = G = B), colour photos as the models made them.
        mask: damage mask replacing the detected one (path, array nonzero = damage, or tensor).
        steps: receives the intermediate tensors by stage name (see :meth:`PhotoRestorer.restore_tensor`).

    Returns:
        (restored Image, report dict): the report says which stages ran, with which model, on
        which device, how long each took, the damaged fraction of the picture, and under
        ``tone`` the photo's tone (``kind``: ``grey`` / ``toned`` / ``colour``, ``chroma_levels``,
        ``hue_deg``) and what was done (``action``, ``colorize``).

    Raises:
        ValueError: a bad ``colorize``, ``tone`` or ``upscale``.
        ImageReadError: unreadable input. ModelNotFoundError: a required model is missing.
        RestoreError: a mask of the wrong size.

    Example:
        >>> out, report = restore_photo("old.jpg", upscale=2)   # doctest: +SKIP
        >>> out, report = restore_photo("sepia.jpg", tone="neutral", colorize=True)  # doctest: +SKIP
        >>> report["tone"]["kind"], report["tone"]["action"]   # doctest: +SKIP
        ('toned', 'colorized')
    """
    check_colour_options(colorize, tone)
    if isinstance(image, Image):
        img = image
    elif isinstance(image, (str, os.PathLike)):
        img = read_image(Path(image))
    else:
        img = Image.from_array(np.asarray(image))
    pr = PhotoRestorer(
        detect=detect,
        descreen=descreen,
        inpaint=inpaint,
        enhance=enhance,
        faces=faces,
        face_strength=face_strength,
        colorize=colorize,
        tone=tone,
        fix_casts=fix_casts,
        upscale=upscale,
        device=device,
        models=models,
        threshold=threshold,
        dilate=dilate,
        tile=tile,
    )
    return pr.restore_image(img, mask, steps)


__all__ = ["restore_photo"]
