"""Uploads: limited in bytes while they arrive, then decoded with the CLI's own checks.

The bytes stay in memory (never written outside the job queue's temporary folder); the pixel
limit is :func:`restore.data.io.decode_image`'s, the one ``restore photo`` applies to a file
(``$RESTORE_MAX_PIXELS`` or :data:`~restore.data.io.DEFAULT_MAX_PIXELS` unless ``--max-pixels``),
checked from the header before anything is decoded, so a decompression bomb costs nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterable

import numpy as np

from restore.data.io import MAX_PIXELS_ENV, Image, decode_image, resolve_max_pixels
from restore.errors import RestoreError

#: Default upload size limit of ``restore serve`` (``--max-mb``).
DEFAULT_MAX_MB = 50.0


class UploadError(RestoreError):
    """An upload is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_length(header: str | None, max_bytes: int, name: str) -> None:
    """Refuse early when the declared Content-Length is over the limit."""
    if header is None:
        return
    try:
        n = int(header)
    except ValueError:
        raise UploadError(f"{name}: bad Content-Length {header!r}") from None
    if n > max_bytes:
        raise UploadError(f"{name}: {_mb(n)} is over the upload limit of {_mb(max_bytes)}", 413)


async def read_limited(chunks: AsyncIterable[bytes], max_bytes: int, name: str) -> bytes:
    """The request body, refused (413) as soon as it passes ``max_bytes``."""
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > max_bytes:
            raise UploadError(f"{name}: over the upload limit of {_mb(max_bytes)}", 413)
    if not buf:
        raise UploadError(f"{name}: the file is empty")
    return bytes(buf)


def decode_upload(data: bytes, name: str, max_pixels: int | None = None) -> Image:
    """Decode uploaded bytes as ``restore photo`` reads a file (same formats, same pixel limit).

    Raises:
        UploadError: not an image, damaged, or over the pixel limit (the message says which).
    """
    try:
        return decode_image(data, name=name, max_pixels=resolve_max_pixels(max_pixels))
    except RestoreError as e:
        msg = str(e)
        if MAX_PIXELS_ENV in msg:  # the CLI's advice; here the limit is the server's
            msg = msg.split("; pass max_pixels=")[0] + " (restore serve --max-pixels sets it)"
        raise UploadError(msg) from e


def decode_mask(data: bytes, size: tuple[int, int], max_pixels: int | None = None) -> np.ndarray:
    """A painted mask (PNG, white = damaged / hole) -> (H, W) bool of the image's ``size``."""
    img = decode_upload(data, "mask", max_pixels)
    if img.size != tuple(size):
        raise UploadError(f"mask size {img.size} (H, W) does not match the photo's {tuple(size)}")
    px = img.pixels.max(axis=2)
    return px >= (32768 if px.dtype == np.uint16 else 128)


def safe_name(name: str | None) -> str:
    """A file name fit for messages: its last path part, printable, at most 80 characters."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable())[:80] or "upload"


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.1f} KiB"


__all__ = [
    "DEFAULT_MAX_MB",
    "UploadError",
    "check_length",
    "decode_mask",
    "decode_upload",
    "read_limited",
    "safe_name",
]
