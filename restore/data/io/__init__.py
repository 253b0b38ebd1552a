"""Faithful image I/O, and the one place where numpy arrays become tensors and back.

Import from here; the pieces live in :mod:`~restore.data.io.image` (the :class:`Image` type),
:mod:`~restore.data.io.read`, :mod:`~restore.data.io.write` and :mod:`~restore.data.io.tensor`.

Reading keeps what the file holds: 16-bit samples stay 16-bit, alpha is kept apart from the RGB
pixels, grayscale is remembered, EXIF orientation is applied (and then reset to 1 in the stored
EXIF), ICC and EXIF bytes travel with the image. Bad bytes only ever raise
:class:`~restore.errors.ImageReadError`, which names the file.

Writing is atomic (temporary file in the same folder, ``fsync``, ``os.replace``), lossless by
default, refuses to overwrite the inputs given in ``protect``, and puts back alpha, 16-bit samples,
grayscale, ICC and EXIF where the format can hold them.

Example:
    >>> img = read_image("photo.jpg")                      # doctest: +SKIP
    >>> x = to_tensor(img.pixels)                          # (1, 3, H, W) float32 in [0, 1]
    >>> out = img.with_pixels(from_tensor(model(x), img.bit_depth))  # doctest: +SKIP
    >>> write_image("photo_restored.png", out, protect=[img.path])  # doctest: +SKIP
"""

from __future__ import annotations

from restore.data.io.image import Image
from restore.data.io.read import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    MAX_PIXELS_ENV,
    ImageNotFoundError,
    decode_image,
    read_image,
    resolve_max_pixels,
)
from restore.data.io.tensor import from_tensor, samples_view, to_tensor
from restore.data.io.write import same_file, write_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS_ENV",
    "Image",
    "ImageNotFoundError",
    "decode_image",
    "from_tensor",
    "read_image",
    "resolve_max_pixels",
    "same_file",
    "samples_view",
    "to_tensor",
    "write_image",
]
