"""Faces in old photos: find them, align them, restore them with the face model, paste them back.

- :mod:`restore.faces.detect`: offline frontal-face detection for grey, sepia, faded and damaged
  prints: a small CNN of our own (:mod:`restore.faces.verify`, weights shipped in this package)
  scans a luminance pyramid, then scores and corrects each box; boxes and eyes (:class:`Face`).
- :mod:`restore.faces.align`: eyes -> similarity transform onto the canonical crop, warps.
- :mod:`restore.faces.paste`: the face stage (:func:`restore_faces`): align, restore, colour
  match, paste back with a feathered mask; grey stays grey.
"""

from __future__ import annotations

from restore.faces.align import align_face, similarity_from_eyes, template_eyes
from restore.faces.detect import Face, detect_faces
from restore.faces.paste import feather_mask, is_grey, keep_grey, paste_face, restore_faces

__all__ = [
    "Face",
    "align_face",
    "detect_faces",
    "feather_mask",
    "is_grey",
    "keep_grey",
    "paste_face",
    "restore_faces",
    "similarity_from_eyes",
    "template_eyes",
]
