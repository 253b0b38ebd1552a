"""Reading images faithfully: whole files or bytes in memory, bad bytes only ever an ImageReadError.

Reading keeps what the file holds: 16-bit samples stay 16-bit, alpha is kept apart from the RGB
pixels, grayscale is remembered, EXIF orientation is applied (and then reset to 1 in the stored
EXIF), ICC and EXIF bytes travel with the image. Bad bytes only ever raise
:class:`~restore.errors.ImageReadError`, which names the file; the pixel limit is checked from the
header, before decoding.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import threading
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path

import cv2
import numpy as np
import PIL
import PIL.Image

from restore.data.io.image import Image, gray3
from restore.errors import ConfigError, ImageReadError

logger = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 178_956_970
"""Largest width * height read by default: Pillow's own error threshold (2 * MAX_IMAGE_PIXELS)."""
MAX_PIXELS_ENV = "RESTORE_MAX_PIXELS"
"""Environment variable that sets the default pixel limit of :func:`read_image`."""

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".pnm"}
    | {".gif"}
)
"""Suffixes (lower case) that :func:`read_image` reads and that folder listings pick up."""

# Pillow plugins allowed to open a file: only the formats we support (no EPS / ghostscript etc.).
_READ_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP", "PPM", "GIF")
_ORIENTATION_TAG = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_PILLOW_LIMIT_LOCK = threading.Lock()


class ImageNotFoundError(ImageReadError, FileNotFoundError):
    """The image file (or image folder) does not exist; both an ImageReadError and a
    FileNotFoundError, so either ``except`` catches it."""


def read_image(path: str | os.PathLike[str], *, max_pixels: int | None = None) -> Image:
    """Read an image file faithfully (first frame of an animation).

    Args:
        path: PNG, JPEG, BMP, TIFF, WebP, PGM/PPM/PBM or GIF file.
        max_pixels: Refuse images with more than this many pixels (checked from the header,
            before decoding). ``None``: ``$RESTORE_MAX_PIXELS`` if set, else
            :data:`DEFAULT_MAX_PIXELS`.

    Returns:
        The :class:`Image`, upright (EXIF orientation applied).

    Raises:
        ImageNotFoundError: The file does not exist.
        ImageReadError: A folder, empty, truncated, not an image, too large, or unreadable.
    """
    path = Path(path)
    limit = resolve_max_pixels(max_pixels)
    if not path.exists():
        raise ImageNotFoundError(f"{path}: no such image file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageReadError(f"{path}: cannot read the file ({e.strerror or e})") from e
    return decode_image(data, name=str(path), max_pixels=limit, path=path)


def decode_image(
    data: bytes,
    *,
    name: str = "<bytes>",
    max_pixels: int | None = None,
    path: Path | None = None,
) -> Image:
    """Decode an encoded image held in memory; :func:`read_image` without the file.

    Args:
        data: The file's bytes.
        name: How error messages name the source.
        max_pixels: As in :func:`read_image`.
        path: Stored in the returned Image.

    Returns:
        The :class:`Image`.

    Raises:
        ImageReadError: Empty, truncated, not an image, too large, or otherwise undecodable.
    """
    limit = resolve_max_pixels(max_pixels)
    if not data:
        raise ImageReadError(f"{name}: the file is empty")
    with warnings.catch_warnings(record=True) as caught, _pillow_limit_at_least(limit):
        warnings.simplefilter("always")
        try:
            return _decode(data, name, limit, path)
        finally:
            for w in caught:
                if not issubclass(w.category, PIL.Image.DecompressionBombWarning):
                    logger.warning("%s: %s", name, w.message)


def _decode(data: bytes, name: str, limit: int, path: Path | None) -> Image:
    try:
        im = PIL.Image.open(io.BytesIO(data), formats=_READ_FORMATS)
    except PIL.Image.DecompressionBombError as e:
        raise ImageReadError(
            f"{name}: over the pixel limit of {limit} ({e}); pass max_pixels= or set "
            f"${MAX_PIXELS_ENV} to read larger images"
        ) from e
    except PIL.UnidentifiedImageError as e:
        formats = ", ".join(_READ_FORMATS)
        raise ImageReadError(f"{name}: not an image in a supported format ({formats})") from e
    except Exception as e:  # any other failure to parse untrusted bytes
        raise ImageReadError(f"{name}: not a readable image ({type(e).__name__}: {e})") from e
    with im:
        w, h = im.size
        if w * h > limit:
            raise ImageReadError(
                f"{name}: {w}x{h} = {w * h} pixels is over the limit of {limit}; pass "
                f"max_pixels= or set ${MAX_PIXELS_ENV} to read larger images"
            )
        try:
            return _image_from_pillow(im, data, name=name, path=path)
        except ImageReadError:
            raise
        except Exception as e:  # truncated / corrupt data found while decoding
            raise ImageReadError(
                f"{name}: damaged or truncated image data ({type(e).__name__}: {e})"
            ) from e


def resolve_max_pixels(max_pixels: int | None) -> int:
    """``max_pixels``, or ``$RESTORE_MAX_PIXELS`` if set, or :data:`DEFAULT_MAX_PIXELS`."""
    if max_pixels is None:
        env = os.environ.get(MAX_PIXELS_ENV)
        if env is None:
            return DEFAULT_MAX_PIXELS
        try:
            max_pixels = int(env)
        except ValueError:
            raise ConfigError(f"${MAX_PIXELS_ENV}={env!r} is not an integer") from None
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    return max_pixels


@contextmanager
def _pillow_limit_at_least(limit: int):
    """Lift Pillow's own bomb check when our limit is higher (ours is checked instead)."""
    pil_max = PIL.Image.MAX_IMAGE_PIXELS
    if pil_max is None or limit <= 2 * pil_max:
        yield
        return
    with _PILLOW_LIMIT_LOCK:
        PIL.Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            PIL.Image.MAX_IMAGE_PIXELS = pil_max


def _image_from_pillow(im: PIL.Image.Image, data: bytes, *, name: str, path: Path | None) -> Image:
    n_frames = 1
    with suppress(Exception):  # counting frames scans the file; later damage is not fatal
        n_frames = int(getattr(im, "n_frames", 1))
        im.seek(0)
    if n_frames > 1:
        logger.warning("%s: %d frames, only the first one is used", name, n_frames)
    im.load()  # OSError on truncated data (LOAD_TRUNCATED_IMAGES stays False)
    icc = im.info.get("icc_profile") or None
    if _is_deep_color(im, data):
        gray = im.mode == "LA" or (im.format == "PNG" and data[25] in (0, 4))
        pixels, alpha, gray = _decode_with_cv2(data, im.size, name, gray=gray)
    else:
        pixels, alpha, gray = _arrays_from_mode(im, name)
        if im.mode == "CMYK" and icc is not None:
            logger.warning("%s: CMYK converted to RGB; its CMYK ICC profile is dropped", name)
            icc = None
    orientation = 1
    with suppress(Exception):
        orientation = int(im.getexif().get(_ORIENTATION_TAG, 1))
    pixels = _orient(pixels, orientation)
    alpha = None if alpha is None else _orient(alpha, orientation)
    return Image(
        pixels=pixels,
        alpha=alpha,
        grayscale=gray,
        exif=_exif_upright(im.info.get("exif"), name),
        icc_profile=icc,
        format=im.format,
        path=path,
        n_frames=n_frames,
    )


def _is_deep_color(im: PIL.Image.Image, data: bytes) -> bool:
    """True for 16-bit colour / gray+alpha files that Pillow would cut down to 8 bits."""
    if im.format == "PNG":
        return data[12:16] == b"IHDR" and data[24] == 16 and data[25] in (2, 4, 6)
    if im.format == "TIFF" and im.mode in ("RGB", "RGBA", "RGBX", "LA"):
        bits = im.tag_v2.get(258, (8,))
        return max(bits if isinstance(bits, tuple) else (bits,)) > 8
    return im.format == "PPM" and im.mode == "RGB"  # cv2 keeps maxval > 255 as 16-bit


def _decode_with_cv2(
    data: bytes, size: tuple[int, int], name: str, *, gray: bool
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if arr is None or arr.shape[1::-1] != size:
        raise ImageReadError(f"{name}: damaged or truncated image data")
    if arr.dtype not in (np.uint8, np.uint16):
        raise ImageReadError(f"{name}: unsupported sample type {arr.dtype}")
    if arr.ndim == 2:
        return gray3(arr), None, True
    if arr.shape[2] == 2:
        return gray3(arr[..., 0]), np.ascontiguousarray(arr[..., 1]), True
    alpha = np.ascontiguousarray(arr[..., 3]) if arr.shape[2] == 4 else None
    return np.ascontiguousarray(arr[..., 2::-1]), alpha, gray


def _arrays_from_mode(im: PIL.Image.Image, name: str) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(pixels (H,W,3), alpha (H,W) or None, grayscale) from any Pillow mode."""
    mode = im.mode
    if mode in ("1", "L"):
        return gray3(_strips(im, "L")), None, True
    if mode in ("LA", "La"):
        la = _strips(im, "LA")
        return gray3(la[..., 0]), np.ascontiguousarray(la[..., 1]), True
    if mode.startswith("I;16"):
        return gray3(np.asarray(im).astype(np.uint16)), None, True
    if mode == "I":
        return gray3(_to_uint16(np.asarray(im), name, unit=None)), None, True
    if mode == "F":
        return gray3(_to_uint16(np.asarray(im), name, unit=1.0)), None, True
    has_alpha = mode in ("RGBA", "RGBa", "PA") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = _strips(im, "RGBA")
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3]), False
    return _strips(im, "RGB"), None, False


_STRIP_BYTES = 16 * 1024**2


def _strips(im: PIL.Image.Image, mode: str) -> np.ndarray:
    """``np.asarray(im.convert(mode))``, converted and copied a strip of rows at a time.

    The whole-image route holds Pillow's image, its converted copy, the ``tobytes`` buffer and
    a writable copy at once: about 5x the pixels at peak. Strip by strip, only Pillow's image
    and the result are ever full size (scripts/bench/big_io.py, 64 MP PNG: 855 -> 527 MiB).
    All the conversions used here are per pixel, so the samples are the same.
    """
    w, h = im.size
    c = len(mode)
    out = np.empty((h, w, c) if c > 1 else (h, w), np.uint8)
    step = max(1, _STRIP_BYTES // max(1, w * c))
    for y in range(0, h, step):
        strip = im.crop((0, y, w, min(h, y + step)))
        out[y : y + step] = np.asarray(strip if strip.mode == mode else strip.convert(mode))
    return out


def _to_uint16(a: np.ndarray, name: str, *, unit: float | None) -> np.ndarray:
    """32-bit int or float samples to uint16: kept when in [0, 65535] (ints) or [0, 1] (floats),
    otherwise stretched from [min, max] with a warning."""
    a = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    top = 65535.0 if unit is None else unit
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, top)
    if lo < 0 or hi > top:
        logger.warning("%s: samples span [%g, %g]; stretched to 16 bits", name, lo, hi)
        a, top = a - lo, max(hi - lo, 1e-12)
    return np.rint(a * (65535.0 / top)).clip(0, 65535).astype(np.uint16)


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to (H, W) or (H, W, C) so the result is upright."""
    ops = {
        2: lambda x: x[:, ::-1],
        3: lambda x: x[::-1, ::-1],
        4: lambda x: x[::-1],
        5: lambda x: x.swapaxes(0, 1),
        6: lambda x: np.rot90(x, -1),
        7: lambda x: x[::-1, ::-1].swapaxes(0, 1),
        8: lambda x: np.rot90(x, 1),
    }
    op = ops.get(orientation)
    return a if op is None else np.ascontiguousarray(op(a))


def _exif_upright(exif: bytes | None, name: str) -> bytes | None:
    """The EXIF block with its orientation set to 1, patched in place (maker notes etc. kept)."""
    if not exif:
        return None
    block = exif if exif.startswith(_EXIF_HEADER) else _EXIF_HEADER + exif
    try:
        return _patch_orientation(block)
    except (struct.error, ValueError):
        logger.warning("%s: unreadable EXIF block dropped", name)
        return None


def _patch_orientation(block: bytes) -> bytes:
    tiff = bytearray(block[len(_EXIF_HEADER) :])
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None:
        raise ValueError("bad TIFF byte order")
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for i in range(count):
        entry = ifd + 2 + 12 * i
        tag, typ = struct.unpack_from(order + "HH", tiff, entry)
        if tag == _ORIENTATION_TAG and typ == 3:  # SHORT
            struct.pack_into(order + "H", tiff, entry + 8, 1)
    return _EXIF_HEADER + bytes(tiff)
