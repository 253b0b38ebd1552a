"""Property tests: bad bytes only ever raise ImageReadError; PNG keeps every sample."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import PIL.Image
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from restore.data.io import Image, read_image, write_image
from restore.errors import ImageReadError

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _encoded(fmt: str, mode: str = "RGB", **kw: object) -> bytes:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (12, 10, 4), dtype=np.uint8)
    buf = io.BytesIO()
    PIL.Image.fromarray(arr).convert(mode).save(buf, fmt, **kw)
    return buf.getvalue()


VALID = {
    "png": _encoded("PNG"),
    "png_rgba": _encoded("PNG", "RGBA"),
    "png_palette": _encoded("PNG", "P"),
    "jpeg": _encoded("JPEG", quality=90),
    "progressive_jpeg": _encoded("JPEG", progressive=True),
    "gif": _encoded("GIF", "P"),
    "bmp": _encoded("BMP"),
    "tiff": _encoded("TIFF", compression="tiff_adobe_deflate"),
    "webp": _encoded("WEBP", lossless=True),
    "ppm": _encoded("PPM"),
    "png16": cv2.imencode(".png", np.arange(360, dtype=np.uint16).reshape(10, 12, 3) * 99)[
        1
    ].tobytes(),
    "tiff16": cv2.imencode(".tiff", np.arange(480, dtype=np.uint16).reshape(10, 12, 4) * 99)[
        1
    ].tobytes(),
}
HEADERS = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
    b"P6\n",
]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def _read_or_refuse(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        img = read_image(path)
    except ImageReadError as e:
        assert str(path) in str(e)
        return
    h, w, c = img.pixels.shape
    assert c == 3 and h * w > 0 and img.pixels.dtype in (np.uint8, np.uint16)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(scratch: Path, data: bytes) -> None:
    _read_or_refuse(scratch / "random.png", data)


@FUZZ
@given(header=st.sampled_from(HEADERS), tail=st.binary(max_size=1024))
def test_valid_header_random_tail(scratch: Path, header: bytes, tail: bytes) -> None:
    _read_or_refuse(scratch / "header.img", header + tail)


@FUZZ
@given(kind=st.sampled_from(sorted(VALID)), cut=st.floats(0.0, 1.0))
def test_truncated_valid_files(scratch: Path, kind: str, cut: float) -> None:
    data = VALID[kind]
    _read_or_refuse(scratch / f"cut.{kind}", data[: int(len(data) * cut)])


@FUZZ
@given(
    kind=st.sampled_from(sorted(VALID)),
    pos=st.floats(0.0, 1.0, exclude_max=True),
    noise=st.binary(min_size=1, max_size=16),
)
def test_corrupted_valid_files(scratch: Path, kind: str, pos: float, noise: bytes) -> None:
    data = bytearray(VALID[kind])
    at = int(len(data) * pos)
    data[at : at + len(noise)] = noise
    _read_or_refuse(scratch / f"bad.{kind}", bytes(data))


_SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([0, 1, 2, 3, 4]))


@st.composite
def _image_arrays(draw: st.DrawFn) -> np.ndarray:
    h, w, c = draw(_SHAPES)
    dtype = draw(st.sampled_from([np.uint8, np.uint16]))
    return draw(arrays(dtype, (h, w) if c == 0 else (h, w, c)))


@FUZZ
@given(arr=_image_arrays())
def test_png_round_trip_is_exact(scratch: Path, arr: np.ndarray) -> None:
    img = Image.from_array(arr)
    back = read_image(write_image(scratch / "rt.png", img))
    assert back.pixels.dtype == arr.dtype and back.grayscale == img.grayscale
    np.testing.assert_array_equal(back.pixels, img.pixels)
    if img.alpha is None:
        assert back.alpha is None
    else:
        np.testing.assert_array_equal(back.alpha, img.alpha)
