"""Images too big to hold: read and write them a band of rows at a time.

Binary PPM / PGM files keep their samples raw, row after row, so :class:`PnmRows` reads any band
of rows straight from the file with no decoder and no full-size buffer. :class:`RowWriter` encodes
PNG (8 or 16 bits, with EXIF / ICC) or PPM / PGM as rows arrive, into a temporary file that
replaces the destination only when the last row is in (atomic, like
:func:`~restore.data.io.write_image`); an error or an early exit leaves nothing behind.

With both, :meth:`restore.api.Restorer.run_file` keeps its memory flat in the image size: the
tiler pulls input bands from one and pushes finished output rows into the other.

Example:
    >>> src = PnmRows("scan.ppm")                                  # doctest: +SKIP
    >>> with RowWriter("out.png", src.height, src.width, 3, np.uint8) as dst:  # doctest: +SKIP
    ...     for y in range(0, src.height, 256):
    ...         dst.write(src.read(y, min(src.height, y + 256)))
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from restore.core.atomic import atomic_file
from restore.errors import ImageReadError, ImageWriteError

__all__ = ["PNM_SUFFIXES", "STREAM_WRITE_SUFFIXES", "PnmRows", "RowWriter", "atomic_image_file"]

PNM_SUFFIXES = frozenset({".ppm", ".pgm", ".pnm"})
"""Suffixes whose binary (P5 / P6) files :class:`PnmRows` reads band by band."""
STREAM_WRITE_SUFFIXES = frozenset({".png"}) | PNM_SUFFIXES
"""Suffixes :class:`RowWriter` encodes row by row."""

_EXIF_HEADER = b"Exif\x00\x00"


@contextmanager
def atomic_image_file(path: Path, *, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """:func:`restore.core.atomic.atomic_file` for images: its errors become ``ImageWriteError``.

    The file appears at ``path`` only when the ``with`` block ends without error (mode from the
    umask, fsynced with its folder); on any exception ``path`` is untouched and no temporary file
    is left.

    Raises:
        ImageWriteError: the folder is missing or unwritable, ``path`` exists with
            ``overwrite=False``, or the write failed.
    """
    try:
        with atomic_file(path, overwrite=overwrite) as f:
            yield f
    except ImageWriteError:
        raise
    except (FileNotFoundError, FileExistsError) as e:
        if e.strerror is None:  # the writer's own message: the folder, or overwrite=False
            raise ImageWriteError(str(e)) from e
        raise ImageWriteError(f"{path}: write failed ({e.strerror})") from e
    except OSError as e:
        raise ImageWriteError(f"{path}: write failed ({e.strerror or e})") from e


# --------------------------------------------------------------------------------------- reading


class PnmRows:
    """A binary PPM (P6) or PGM (P5) file whose rows are read on demand.

    Only the header is parsed on opening. Samples with maxval 255 come back as uint8, with maxval
    65535 as uint16 (big-endian in the file); other maxvals are refused (:func:`read_image`
    handles them). Gray files come back with one channel.

    Args:
        path: the file.

    Raises:
        ImageReadError: not a binary PPM / PGM, an unsupported maxval, or a truncated file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                head = f.read(512)
                size = os.fstat(f.fileno()).st_size
        except OSError as e:
            raise ImageReadError(f"{self.path}: cannot read ({e.strerror or e})") from e
        magic, fields, offset = _pnm_header(head, self.path)
        self.width, self.height, maxval = fields
        self.channels = 3 if magic == b"P6" else 1
        if maxval not in (255, 65535):
            raise ImageReadError(f"{self.path}: maxval {maxval}; rows stream only for 255 / 65535")
        self.dtype = np.dtype(np.uint8 if maxval == 255 else ">u2")
        self.offset = offset
        self.row_bytes = self.width * self.channels * self.dtype.itemsize
        if size < offset + self.height * self.row_bytes:
            raise ImageReadError(f"{self.path}: truncated ({size} bytes for {self.shape})")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(height, width, channels)."""
        return self.height, self.width, self.channels

    @property
    def sample_type(self) -> np.dtype:
        """The samples' type in memory: uint8 or (native) uint16."""
        return np.dtype(np.uint8 if self.dtype.itemsize == 1 else np.uint16)

    def read(self, y0: int, y1: int) -> np.ndarray:
        """Rows ``y0:y1``.

        Shape:
            (y1 - y0, W, C), uint8 or uint16.
        """
        if not 0 <= y0 <= y1 <= self.height:
            raise IndexError(f"rows {y0}:{y1} outside 0:{self.height}")
        n = (y1 - y0) * self.row_bytes
        with open(self.path, "rb") as f:
            data = os.pread(f.fileno(), n, self.offset + y0 * self.row_bytes)
        if len(data) != n:
            raise ImageReadError(f"{self.path}: truncated at row {y0}")
        rows = np.frombuffer(data, self.dtype).reshape(y1 - y0, self.width, self.channels)
        return rows.astype(self.sample_type)  # a private, writable, native-order copy


def _pnm_header(head: bytes, path: Path) -> tuple[bytes, tuple[int, int, int], int]:
    """(magic, (width, height, maxval), offset of the first sample) of a binary PNM header."""
    magic = head[:2]
    if magic not in (b"P5", b"P6"):
        raise ImageReadError(f"{path}: not a binary PPM / PGM (starts with {magic!r})")
    fields: list[int] = []
    i = 2
    while len(fields) < 3:
        while i < len(head) and head[i : i + 1].isspace():
            i += 1
        if head[i : i + 1] == b"#":  # comment to the end of the line
            while i < len(head) and head[i : i + 1] not in (b"\n", b"\r"):
                i += 1
            continue
        j = i
        while j < len(head) and head[j : j + 1].isdigit():
            j += 1
        if j == i or j >= len(head):
            raise ImageReadError(f"{path}: malformed PPM / PGM header")
        fields.append(int(head[i:j]))
        i = j
    if not head[i : i + 1].isspace() or min(fields) < 1 or fields[2] > 65535:
        raise ImageReadError(f"{path}: malformed PPM / PGM header {fields}")
    return magic, (fields[0], fields[1], fields[2]), i + 1


# --------------------------------------------------------------------------------------- writing


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


class PngRows:
    """A PNG encoder fed with rows: each row gets the Sub or Up filter, whichever leaves the
    smaller sum of absolute differences (the libpng heuristic restricted to two filters that
    vectorise), and the filtered rows go through one zlib stream.

    Args:
        width, height: image size.
        channels: 1 (gray), 2 (gray + alpha), 3 (RGB), 4 (RGBA).
        depth: 8 or 16 bits per sample.
        icc, exif: optional ICC profile and EXIF block (``b"Exif\\0\\0"`` prefix allowed).
        level: zlib level.
    """

    def __init__(
        self,
        width: int,
        height: int,
        channels: int,
        depth: int,
        *,
        icc: bytes | None = None,
        exif: bytes | None = None,
        level: int = 6,
    ) -> None:
        self.bpp = channels * depth // 8  # bytes per pixel, the Sub filter's distance
        self._z = zlib.compressobj(level)
        self._prev: np.ndarray | None = None
        self._dtype = np.dtype(np.uint8 if depth == 8 else ">u2")
        color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
        head = [
            b"\x89PNG\r\n\x1a\n",
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)),
        ]
        if icc:
            head.append(png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc)))
        if exif:
            head.append(png_chunk(b"eXIf", exif.removeprefix(_EXIF_HEADER)))
        self.header = b"".join(head)

    def encode(self, rows: np.ndarray) -> bytes:
        """Compressed bytes (an IDAT chunk, possibly empty) for the next (n, W, C) rows."""
        n = rows.shape[0]
        raw = np.ascontiguousarray(rows, dtype=self._dtype).view(np.uint8).reshape(n, -1)
        prev = self._prev if self._prev is not None else np.zeros_like(raw[:1])
        above = np.concatenate([prev, raw[:-1]])
        up = raw - above  # uint8 arithmetic wraps modulo 256, as PNG wants
        sub = raw.copy()
        sub[:, self.bpp :] -= raw[:, : -self.bpp]
        cost_up = np.abs(up.view(np.int8).astype(np.int32)).sum(1)
        cost_sub = np.abs(sub.view(np.int8).astype(np.int32)).sum(1)
        pick_up = cost_up <= cost_sub
        body = np.where(pick_up[:, None], up, sub)
        kinds = np.where(pick_up, 2, 1).astype(np.uint8)[:, None]
        self._prev = raw[-1:].copy()
        data = self._z.compress(np.concatenate([kinds, body], 1).tobytes())
        return png_chunk(b"IDAT", data) if data else b""

    def finish(self) -> bytes:
        """The last IDAT chunk and IEND."""
        return png_chunk(b"IDAT", self._z.flush()) + png_chunk(b"IEND", b"")


class RowWriter:
    """Write an image row band by row band, atomically: PNG (8 / 16 bit) or binary PPM / PGM.

    Use as a context manager: the file appears at ``path`` when the block ends with every row
    written; an exception, or missing rows, leave ``path`` as it was.

    Args:
        path: destination; its suffix picks the format (``.png``, ``.ppm``, ``.pgm``, ``.pnm``).
        height, width: image size.
        channels: 3 (RGB) or 1 (gray; PNG also takes 2 and 4, with alpha).
        dtype: uint8 or uint16 samples.
        icc, exif: kept by PNG.
        overwrite: if False, an existing ``path`` is an error.

    Raises:
        ImageWriteError: an unsupported suffix or channel count, or the write failed.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        height: int,
        width: int,
        channels: int,
        dtype: np.dtype | type,
        *,
        icc: bytes | None = None,
        exif: bytes | None = None,
        overwrite: bool = True,
    ) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in STREAM_WRITE_SUFFIXES:
            known = ", ".join(sorted(STREAM_WRITE_SUFFIXES))
            raise ImageWriteError(f"{self.path}: rows stream only to {known}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.uint8, np.uint16):
            raise ImageWriteError(f"{self.path}: samples must be uint8 or uint16, not {dtype}")
        ok = (1, 2, 3, 4) if suffix == ".png" else (1, 3)
        if channels not in ok:
            raise ImageWriteError(f"{self.path}: {channels} channels cannot go to {suffix}")
        self.height, self.width, self.channels = height, width, channels
        self._meta = {"icc": icc, "exif": exif}
        self._png: PngRows | None = None
        self._is_png = suffix == ".png"
        self._overwrite = overwrite
        self._ctx: Any = None
        self._f: IO[bytes] | None = None
        self.rows_written = 0

    def __enter__(self) -> RowWriter:
        self._ctx = atomic_image_file(self.path, overwrite=self._overwrite)
        self._f = self._ctx.__enter__()
        self._start()
        return self

    def restart(self) -> None:
        """Drop every row written so far and start the file again (same size and format)."""
        if self._f is None:
            raise ImageWriteError(f"{self.path}: restart() outside the with block")
        self._f.seek(0)
        self._f.truncate()
        self.rows_written = 0
        self._start()

    def _start(self) -> None:
        assert self._f is not None
        if self._is_png:
            self._png = PngRows(
                self.width, self.height, self.channels, 8 * self.dtype.itemsize, **self._meta
            )
            self._f.write(self._png.header)
        else:
            magic = b"P6" if self.channels == 3 else b"P5"
            top = 255 if self.dtype == np.uint8 else 65535
            self._f.write(b"%s\n%d %d\n%d\n" % (magic, self.width, self.height, top))

    def write(self, rows: np.ndarray) -> None:
        """Append the next rows, (n, W, C) (or (n, W) for one channel) of the writer's dtype."""
        if self._f is None:
            raise ImageWriteError(f"{self.path}: write() outside the with block")
        rows = rows.reshape(rows.shape[0], self.width, self.channels)
        if rows.dtype != self.dtype:
            raise ImageWriteError(f"{self.path}: rows are {rows.dtype}, the file {self.dtype}")
        if self.rows_written + rows.shape[0] > self.height:
            raise ImageWriteError(f"{self.path}: more than {self.height} rows")
        if self._png is not None:
            self._f.write(self._png.encode(rows))
        else:
            self._f.write(np.ascontiguousarray(rows, dtype=self.dtype.newbyteorder(">")).data)
        self.rows_written += rows.shape[0]

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ctx, self._ctx, f, self._f = self._ctx, None, self._f, None
        if ctx is None:
            return
        if exc is None:
            try:
                if self.rows_written != self.height:
                    raise ImageWriteError(
                        f"{self.path}: only {self.rows_written} of {self.height} rows were written"
                    )
                if self._png is not None and f is not None:
                    f.write(self._png.finish())
            except BaseException as e:
                ctx.__exit__(type(e), e, e.__traceback__)
                raise
        ctx.__exit__(kind, exc, tb)
