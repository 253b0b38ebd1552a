"""Damaged-photo restoration (``restore photo``): the pipeline and the tone rules.

- :mod:`restore.photo.pipeline`: :class:`PhotoRestorer` (detect damage,
  inpaint, enhance, colorize, upscale, tone).
- :mod:`restore.photo.stages`: the stages' default models, the classical inpainting stand-in,
  reading a damage mask.
- :mod:`restore.photo.tone`: a photo's tone (grey, toned, colour), measured on the input and
  re-applied to the restored luminance.

Example:
    >>> from restore.photo import restore_photo
    >>> out, report = restore_photo("old.jpg", tone="keep")   # doctest: +SKIP
"""

from __future__ import annotations

from restore.photo.pipeline import Colorize, PhotoRestorer
from restore.photo.single import restore_photo
from restore.photo.stages import (
    DEFAULT_MODELS,
    STAGES,
    clear_model_cache,
    cv2_inpaint,
    load_stage_model,
    read_mask,
)
from restore.photo.tone import (
    COLOUR_SKIP,
    TONE_MODES,
    Tone,
    ToneKind,
    ToneMode,
    apply_tone,
    measure_tone,
)

__all__ = [
    "COLOUR_SKIP",
    "DEFAULT_MODELS",
    "STAGES",
    "TONE_MODES",
    "Colorize",
    "PhotoRestorer",
    "Tone",
    "ToneKind",
    "ToneMode",
    "apply_tone",
    "clear_model_cache",
    "cv2_inpaint",
    "load_stage_model",
    "measure_tone",
    "read_mask",
    "restore_photo",
]
