"""Writing images: atomic, lossless by default, never over the inputs.

Writing is atomic (temporary file in the same folder, ``fsync``, ``os.replace``), lossless by
default, refuses to overwrite the inputs given in ``protect``, and puts back alpha, 16-bit samples,
grayscale, ICC and EXIF where the format can hold them.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

import cv2
import numpy as np
import PIL
import PIL.Image

from restore.data.io.image import Image, convert_depth
from restore.data.stream import PngRows, atomic_image_file
from restore.errors import ImageWriteError

logger = logging.getLogger(__name__)

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
            arr = convert_depth(arr, np.uint8)
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
