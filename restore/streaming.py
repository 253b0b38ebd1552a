"""File to file for images of any size: rows stream from the input, through the tiler, into the
output encoder.

:func:`run_file` is what :meth:`Restorer.run_file <restore.api.Restorer.run_file>` and
``restore enhance`` use for big images. Its peak memory is the model, one band of input rows and
one band of output accumulators (``tile * scale`` rows), whatever the image size, when

- the input is a binary PPM / PGM (read band by band; other formats are decoded into memory once,
  8 or 16 bits per sample), and
- the output is PNG, PPM or PGM (encoded as rows are finished; other formats are assembled in
  memory and written by :func:`~restore.data.io.write_image`), and
- the model works on plain colour images: tileable, no mask, no alpha channel to carry.

Anything else goes through the in-memory path, with the same result. The output is written
atomically and never replaces ``src``.

Example:
    >>> import restore                                                  # doctest: +SKIP
    >>> restore.load("enhance").run_file("scan_64mp.ppm", "scan_restored.png")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from restore.core.tiling import RowSink, RowSource
from restore.data.io import (
    Image,
    read_image,
    resolve_max_pixels,
    same_file,
    samples_view,
    write_image,
)
from restore.data.stream import PNM_SUFFIXES, STREAM_WRITE_SUFFIXES, PnmRows, RowWriter
from restore.errors import ImageReadError, ImageWriteError
from restore.tasks.base import Predictor

log = logging.getLogger(__name__)

__all__ = ["BandModel", "can_stream", "run_file", "stream_image"]


class BandModel(Protocol):
    """What streaming needs of a model; :class:`restore.api.Restorer` is one.

    (A protocol rather than an import of ``restore.api``, which imports this module: the two
    would import each other.)
    """

    @property
    def name(self) -> str: ...

    @property
    def scale(self) -> int: ...

    @property
    def needs_mask(self) -> bool: ...

    @property
    def output_rgb(self) -> bool: ...

    @property
    def predictor(self) -> Predictor: ...

    def run_bands(self, source: Tensor | RowSource, out: Tensor | RowSink) -> Tensor | RowSink: ...

    def process_image(self, img: Image) -> Image: ...


def can_stream(model: BandModel, img: Image | None, dst: str | os.PathLike[str]) -> bool:
    """Whether ``model`` on ``img`` (``None``: a colour image read later) can stream into ``dst``.

    True for a tileable colour model that needs no mask, a destination suffix that
    :class:`~restore.data.stream.RowWriter` encodes, and an image with no alpha channel that is
    colour (or that the model makes colour).
    """
    if Path(dst).suffix.lower() not in STREAM_WRITE_SUFFIXES:
        return False
    if model.needs_mask or not model.predictor.tileable:
        return False
    if img is None:
        return True
    return img.alpha is None and (model.output_rgb or not img.grayscale)


def run_file(
    model: BandModel,
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    overwrite: bool = True,
) -> Path:
    """``model`` on the image file ``src``, written to ``dst``; streamed when possible.

    Args:
        model: a loaded :class:`~restore.api.Restorer` (any :class:`BandModel`).
        src: the input image file (any format :func:`~restore.data.io.read_image` reads).
        dst: the output file; its suffix picks the format.
        overwrite: if False, an existing ``dst`` is an error.

    Returns:
        ``dst``.

    Raises:
        ImageReadError: ``src`` is missing or unreadable.
        ImageWriteError: ``dst`` is ``src``, exists with ``overwrite=False``, or cannot be written;
            ``dst`` is then left as it was.
    """
    src, dst = Path(src), Path(dst)
    if same_file(src, dst):
        raise ImageWriteError(f"{dst}: refusing to overwrite the input {src}")
    reader = _pnm_reader(src) if can_stream(model, None, dst) else None
    if reader is not None and (reader.channels == 3 or model.output_rgb):
        src_rows = _PnmSource(reader)
        _stream(model, src_rows, src_rows.dtype, dst, overwrite=overwrite)
        return dst
    img = read_image(src)
    if can_stream(model, img, dst):
        return stream_image(model, img, dst, protect=[src], overwrite=overwrite)
    return write_image(dst, model.process_image(img), protect=[src], overwrite=overwrite)


def stream_image(
    model: BandModel,
    img: Image,
    dst: str | os.PathLike[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = True,
) -> Path:
    """``model`` on a decoded image, its output rows encoded into ``dst`` as they finish.

    The output image is never held: peak memory is ``img`` plus one band. Needs
    :func:`can_stream` (``model``, ``img``, ``dst``).

    Args:
        model: a loaded :class:`~restore.api.Restorer` (any :class:`BandModel`).
        img: the decoded input; its ICC profile and EXIF go into a PNG output.
        dst: the output file (PNG, PPM or PGM).
        protect: paths ``dst`` must not be (the inputs).
        overwrite: if False, an existing ``dst`` is an error.

    Raises:
        ImageWriteError: see :func:`run_file`.
        ValueError: ``model`` cannot stream ``img`` into ``dst``.
    """
    dst = Path(dst)
    if not can_stream(model, img, dst):
        raise ValueError(f"{model.name} cannot stream this image into {dst.name}")
    for p in protect:
        if same_file(Path(p), dst):
            raise ImageWriteError(f"{dst}: refusing to overwrite the input {p}")
    _stream(model, samples_view(img.pixels), img.pixels.dtype, dst, img=img, overwrite=overwrite)
    return dst


def _stream(
    model: BandModel,
    source: Tensor | _PnmSource,
    dtype: np.dtype,
    dst: Path,
    *,
    img: Image | None = None,
    overwrite: bool = True,
) -> None:
    _, _, h, w = source.shape
    s = model.scale
    meta = {"icc": img.icc_profile, "exif": img.exif} if img is not None else {}
    with RowWriter(dst, h * s, w * s, 3, dtype, overwrite=overwrite, **meta) as writer:
        model.run_bands(source, _WriterSink(writer, (1, 3, h * s, w * s)))


def _pnm_reader(src: Path) -> PnmRows | None:
    if src.suffix.lower() not in PNM_SUFFIXES:
        return None
    try:
        reader = PnmRows(src)
    except ImageReadError as e:  # ASCII PNM, odd maxval, ...: the decoder handles those
        log.debug("%s: not streamed (%s)", src, e)
        return None
    limit = resolve_max_pixels(None)
    if reader.width * reader.height > limit:
        raise ImageReadError(
            f"{src}: {reader.width}x{reader.height} is over the pixel limit {limit} "
            "(set RESTORE_MAX_PIXELS to allow it)"
        )
    return reader


class _PnmSource:
    """A RowSource over a PPM / PGM file: gray rows are repeated to three channels."""

    def __init__(self, reader: PnmRows) -> None:
        self.reader = reader
        self.dtype = reader.sample_type
        self.shape = (1, 3, reader.height, reader.width)

    def rows(self, y0: int, y1: int) -> Tensor:
        band = self.reader.read(y0, y1)
        return samples_view(np.repeat(band, 3, axis=2) if band.shape[2] == 1 else band)


class _WriterSink:
    """A RowSink that rounds float rows to the writer's samples and encodes them.

    Rows restarting at 0 (the tiler retrying with smaller tiles after running out of GPU
    memory) restart the file.
    """

    def __init__(self, writer: RowWriter, shape: tuple[int, int, int, int]) -> None:
        self.writer, self.shape = writer, shape
        self.top = 255.0 if writer.dtype == np.uint8 else 65535.0

    def write(self, y0: int, values: Tensor) -> None:
        if y0 == 0 and self.writer.rows_written:
            self.writer.restart()
        q = (values.clamp(0.0, 1.0) * self.top).round()
        tt = torch.uint8 if self.writer.dtype == np.uint8 else torch.uint16
        self.writer.write(q.to(tt)[0].permute(1, 2, 0).cpu().numpy())
