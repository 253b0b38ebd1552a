"""Faithful image I/O, and the one place where numpy arrays become tensors and back.

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

import io
import logging
import os
import struct
import threading
import warnings
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import PIL
import PIL.Image
import torch

from restore.data.stream import PngRows, atomic_image_file
from restore.errors import ConfigError, ImageReadError, ImageWriteError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS_ENV",
    "Image",
    "ImageNotFoundError",
    "from_tensor",
    "read_image",
    "resolve_max_pixels",
    "same_file",
    "samples_view",
    "to_tensor",
    "write_image",
]

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
_WRITE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".ppm": "PPM",
    ".pgm": "PPM",
    ".pnm": "PPM",
}
_ORIENTATION_TAG = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_PILLOW_LIMIT_LOCK = threading.Lock()


class ImageNotFoundError(ImageReadError, FileNotFoundError):
    """The image file (or image folder) does not exist; both an ImageReadError and a
    FileNotFoundError, so either ``except`` catches it."""


@dataclass(frozen=True, eq=False)
class Image:
    """An image as read from disk, with what is needed to write it back faithfully.

    Args:
        pixels: RGB samples, grayscale replicated to three channels.
        alpha: Opacity, or ``None``; same dtype as ``pixels``.
        grayscale: The source had a single colour channel; :func:`write_image` writes one channel
            again when the three channels are still equal.
        exif: Raw EXIF block (``b"Exif\\0\\0"`` + TIFF structure), orientation reset to 1.
        icc_profile: Raw ICC profile bytes.
        format: Pillow format name of the source (``"PNG"``, ``"JPEG"``, ...), or ``None``.
        path: Where it was read from, or ``None``.
        n_frames: Frames in the source; only the first one is held.

    Shape:
        - pixels: (H, W, 3), uint8 or uint16.
        - alpha: (H, W), same dtype as pixels.
    """

    pixels: np.ndarray
    alpha: np.ndarray | None = None
    grayscale: bool = False
    exif: bytes | None = None
    icc_profile: bytes | None = None
    format: str | None = None
    path: Path | None = None
    n_frames: int = 1

    def __post_init__(self) -> None:
        p = self.pixels
        if not isinstance(p, np.ndarray) or p.ndim != 3 or p.shape[2] != 3:
            raise ValueError(f"pixels must be an (H, W, 3) array, got {getattr(p, 'shape', p)!r}")
        if p.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"pixels must be uint8 or uint16, got {p.dtype}")
        if self.alpha is not None and (
            self.alpha.shape != p.shape[:2] or self.alpha.dtype != p.dtype
        ):
            raise ValueError(
                f"alpha must be {p.shape[:2]} {p.dtype}, got {self.alpha.shape} {self.alpha.dtype}"
            )

    @property
    def bit_depth(self) -> Literal[8, 16]:
        """Bits per sample: 8 (uint8) or 16 (uint16)."""
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return self.pixels.shape[0], self.pixels.shape[1]

    @classmethod
    def from_array(cls, array: np.ndarray) -> Image:
        """Wrap a plain array: (H, W) or (H, W, 1) gray, (H, W, 2) gray + alpha, (H, W, 3) RGB,
        (H, W, 4) RGBA.

        Args:
            array: uint8 or uint16 samples.

        Returns:
            An Image with no metadata; ``grayscale`` is set for one-channel input.
        """
        a = np.asarray(array)
        if a.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"image arrays must be uint8 or uint16, got {a.dtype}")
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[..., 0]
        if a.ndim == 2:
            return cls(pixels=_gray3(a), grayscale=True)
        if a.ndim == 3 and a.shape[2] == 2:
            return cls(pixels=_gray3(a[..., 0]), alpha=a[..., 1].copy(), grayscale=True)
        if a.ndim == 3 and a.shape[2] in (3, 4):
            alpha = np.ascontiguousarray(a[..., 3]) if a.shape[2] == 4 else None
            return cls(pixels=np.ascontiguousarray(a[..., :3]), alpha=alpha)
        raise ValueError(f"expected (H, W) or (H, W, C) with C in 1..4, got {a.shape}")

    def with_pixels(self, pixels: np.ndarray, *, grayscale: bool | None = None) -> Image:
        """A copy holding new pixels (e.g. a restored or upscaled result), metadata kept.

        The alpha channel follows: resized to the new size when it changed (``INTER_AREA`` when
        shrinking, ``INTER_CUBIC`` otherwise) and rescaled when the bit depth changed.

        Args:
            pixels: New (H', W', 3) uint8 or uint16 RGB samples.
            grayscale: New grayscale flag; ``None`` keeps the current one.

        Returns:
            A new Image.
        """
        alpha = self.alpha
        if alpha is not None:
            h, w = pixels.shape[:2]
            if alpha.shape != (h, w):
                shrink = h * w < alpha.size
                interp = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
                alpha = cv2.resize(alpha, (w, h), interpolation=interp)
            alpha = _convert_depth(alpha, pixels.dtype)
        flag = self.grayscale if grayscale is None else grayscale
        return replace(self, pixels=pixels, alpha=alpha, grayscale=flag)


# --------------------------------------------------------------------------------------- reading


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
        return _gray3(arr), None, True
    if arr.shape[2] == 2:
        return _gray3(arr[..., 0]), np.ascontiguousarray(arr[..., 1]), True
    alpha = np.ascontiguousarray(arr[..., 3]) if arr.shape[2] == 4 else None
    return np.ascontiguousarray(arr[..., 2::-1]), alpha, gray


def _arrays_from_mode(im: PIL.Image.Image, name: str) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(pixels (H,W,3), alpha (H,W) or None, grayscale) from any Pillow mode."""
    mode = im.mode
    if mode in ("1", "L"):
        return _gray3(_strips(im, "L")), None, True
    if mode in ("LA", "La"):
        la = _strips(im, "LA")
        return _gray3(la[..., 0]), np.ascontiguousarray(la[..., 1]), True
    if mode.startswith("I;16"):
        return _gray3(np.asarray(im).astype(np.uint16)), None, True
    if mode == "I":
        return _gray3(_to_uint16(np.asarray(im), name, unit=None)), None, True
    if mode == "F":
        return _gray3(_to_uint16(np.asarray(im), name, unit=1.0)), None, True
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


def _gray3(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2)


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


# --------------------------------------------------------------------------------------- writing


def write_image(
    path: str | os.PathLike[str],
    image: Image | np.ndarray,
    *,
    quality: int | None = None,
    format: str | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """Write an image atomically: the file is either fully written or not touched.

    Lossless unless asked: PNG, TIFF (deflate), WebP (lossless) and PPM keep every sample; JPEG
    uses ``quality`` (default 95, 4:4:4), WebP turns lossy when ``quality`` is given. 16-bit is
    kept by PNG, TIFF and PPM (other formats get 8 bits); alpha by PNG, TIFF and WebP; EXIF and
    ICC by PNG, JPEG, WebP and (8-bit or gray) TIFF. A ``grayscale`` image whose three channels
    are still equal is written with one channel.

    Args:
        path: Destination; its suffix picks the format unless ``format`` is given.
        image: An :class:`Image`, or a uint8/uint16 array (H, W) or (H, W, C), C in 1..4.
        quality: 1-100 for JPEG / lossy WebP; ignored by lossless formats.
        format: Format name or suffix (``"png"``, ``".jpg"``, ``"TIFF"``) overriding the suffix.
        protect: Paths that must not be overwritten (the inputs).
        overwrite: If False, an existing ``path`` is an error.

    Returns:
        ``path``.

    Raises:
        ImageWriteError: Unknown format, protected or existing path, or the write failed.
    """
    path = Path(path)
    img = image if isinstance(image, Image) else Image.from_array(image)
    fmt = _write_format(path, format)
    if quality is not None and not (isinstance(quality, int) and 1 <= quality <= 100):
        raise ValueError(f"quality must be an int in [1, 100], got {quality!r}")
    for p in protect:
        if same_file(path, Path(p)):
            raise ImageWriteError(f"{path}: refusing to overwrite the input {p}")
    if not overwrite and path.exists():
        raise ImageWriteError(f"{path}: already exists (overwrite=False)")
    try:
        data = _encode(img, fmt, quality, name=str(path))
    except ImageWriteError:
        raise
    except Exception as e:
        raise ImageWriteError(f"{path}: cannot encode as {fmt} ({type(e).__name__}: {e})") from e
    _atomic_write(path, data, overwrite=overwrite)
    return path


def _write_format(path: Path, format: str | None) -> str:
    key = (format if format is not None else path.suffix).lower()
    key = key if key.startswith(".") else "." + key
    fmt = _WRITE_FORMATS.get(key)
    if fmt is None:
        known = ", ".join(sorted(_WRITE_FORMATS))
        raise ImageWriteError(f"{path}: unknown image format {key!r}; known: {known}")
    return fmt


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are the same file (hard links, symlinks, ``..``), existing or not."""
    with suppress(OSError):
        if os.path.samefile(a, b):
            return True
    return os.path.realpath(a) == os.path.realpath(b)


def _encode(img: Image, fmt: str, quality: int | None, *, name: str) -> bytes:
    pixels, alpha = img.pixels, img.alpha
    gray = img.grayscale and bool(
        (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 0] == pixels[..., 2]).all()
    )
    if alpha is not None and fmt in ("JPEG", "PPM", "BMP"):
        logger.warning("%s: %s cannot hold alpha; alpha dropped", name, fmt)
        alpha = None
    chans = [pixels[..., :1] if gray else pixels] + (
        [alpha[..., None]] if alpha is not None else []
    )
    arr = np.concatenate(chans, axis=2)  # (H, W, C) with C in 1..4
    if arr.dtype == np.uint16:
        if fmt == "PNG":
            return _encode_png16(arr, img.icc_profile, img.exif)
        if fmt in ("TIFF", "PPM") and arr.shape[2] > 1:
            if img.icc_profile or img.exif:
                logger.warning("%s: 16-bit colour %s written without EXIF/ICC", name, fmt)
            ext = ".tiff" if fmt == "TIFF" else ".ppm"
            # OpenCV wants 1, 3 or 4 channels: gray + alpha goes as RGBA (read back as colour).
            order = {2: [0, 0, 0, 1], 3: [2, 1, 0], 4: [2, 1, 0, 3]}[arr.shape[2]]
            bgr = arr[..., order]
            ok, buf = cv2.imencode(ext, np.ascontiguousarray(bgr))
            if not ok:
                raise ImageWriteError(f"{name}: OpenCV could not encode {fmt}")
            return buf.tobytes()
        if fmt not in ("TIFF", "PPM"):
            logger.info("%s: %s holds 8 bits; 16-bit samples reduced", name, fmt)
            arr = _convert_depth(arr, np.uint8)
    # Pillow infers the mode: I;16 (uint16 2-D), L, LA, RGB, RGBA.
    pim = PIL.Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    if fmt == "BMP" and pim.mode == "LA":
        pim = pim.convert("L")
    kw: dict[str, object] = {}
    if fmt in ("PNG", "JPEG", "WEBP", "TIFF"):
        kw = {k: v for k, v in (("icc_profile", img.icc_profile), ("exif", img.exif)) if v}
    if fmt == "JPEG":
        if pim.mode == "LA":
            pim = pim.convert("L")
        kw.update(quality=95 if quality is None else quality, subsampling=0)
    elif fmt == "WEBP":
        lossy = quality is not None
        kw.update(lossless=not lossy, quality=quality if lossy else 100, exact=True)
    elif fmt == "TIFF":
        kw.update(compression="tiff_adobe_deflate")
    buf = io.BytesIO()
    pim.save(buf, fmt, **kw)
    return buf.getvalue()


def _encode_png16(arr: np.ndarray, icc: bytes | None, exif: bytes | None) -> bytes:
    """16-bit PNG of (H, W, C) uint16 with C = 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA).

    Pillow cannot write 16-bit colour PNG and OpenCV drops ICC / EXIF, hence our own encoder.
    """
    h, w, c = arr.shape
    png = PngRows(w, h, c, 16, icc=icc, exif=exif)
    return png.header + png.encode(arr) + png.finish()


def _atomic_write(path: Path, data: bytes, *, overwrite: bool) -> None:
    with atomic_image_file(path, overwrite=overwrite) as f:
        f.write(data)


# ----------------------------------------------------------------------------------- conversions


def _convert_depth(a: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """uint8 <-> uint16 by scaling with 257 (255 <-> 65535), rounding to nearest."""
    dtype = np.dtype(dtype)
    if a.dtype == dtype:
        return a
    if dtype == np.uint16:
        return a.astype(np.uint16) * 257
    return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)


def samples_view(pixels: np.ndarray) -> torch.Tensor:
    """(H, W, C) integer samples as a (1, C, H, W) tensor sharing their memory (no conversion).

    Read-only arrays are accepted (the view is then only to be read).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]


def to_tensor(array: np.ndarray | Image) -> torch.Tensor:
    """Image samples to the library's convention.

    Args:
        array: uint8 (/255), uint16 (/65535) or float (taken as [0, 1], clipped) samples, or an
            :class:`Image` (its ``pixels``).

    Returns:
        float32 RGB tensor in [0, 1], on the CPU.

    Shape:
        - array: (H, W), (H, W, 1) or (H, W, 3); gray is replicated to three channels.
        - output: (1, 3, H, W).

    Example:
        >>> to_tensor(np.full((2, 4), 255, np.uint8)).shape
        torch.Size([1, 3, 2, 4])
    """
    a = array.pixels if isinstance(array, Image) else np.asarray(array)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise ValueError(f"expected (H, W), (H, W, 1) or (H, W, 3), got {a.shape}")
    if a.dtype == np.uint8:
        scale = 255.0
    elif a.dtype == np.uint16:
        scale = 65535.0
    elif np.issubdtype(a.dtype, np.floating):
        scale = None
    else:
        raise ValueError(f"expected uint8, uint16 or float samples, got {a.dtype}")
    t = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).to(torch.float32)
    t = t.clamp(0.0, 1.0) if scale is None else t / scale
    return t.expand(3, -1, -1).unsqueeze(0).contiguous()


def from_tensor(t: torch.Tensor, bit_depth: Literal[8, 16] = 8) -> np.ndarray:
    """The inverse of :func:`to_tensor`: clip to [0, 1], scale, round.

    Args:
        t: Float tensor in [0, 1], on any device.
        bit_depth: 8 (uint8 output) or 16 (uint16 output).

    Returns:
        (H, W, 3) array, or (H, W) for a one-channel tensor.

    Shape:
        - t: (1, C, H, W) or (C, H, W) with C = 1 or 3.
    """
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth!r}")
    if t.dim() == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected one image, got a batch of {t.shape[0]}")
        t = t[0]
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(
            f"expected (1, C, H, W) or (C, H, W) with C in (1, 3), got {tuple(t.shape)}"
        )
    top = 255.0 if bit_depth == 8 else 65535.0
    q = (t.detach().float().clamp(0.0, 1.0) * top).round()
    a = q.numpy(force=True).transpose(1, 2, 0)
    a = a.astype(np.uint8 if bit_depth == 8 else np.uint16)
    return np.ascontiguousarray(a[..., 0] if a.shape[2] == 1 else a)
