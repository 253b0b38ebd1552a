"""Row-streamed PPM / PGM reading and PNG / PPM / PGM writing: every band decodes to the samples
OpenCV and Pillow read from the same file, and a failed write leaves nothing behind."""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np
import PIL.Image
import pytest

from restore.data.io import read_image, write_image
from restore.data.stream import PnmRows, RowWriter
from restore.errors import ImageReadError, ImageWriteError


def _photo_like(h: int, w: int, c: int, dtype: type) -> np.ndarray:
    """Smooth gradients plus noise: both PNG filters get picked somewhere."""
    rng = np.random.default_rng(0)
    top = np.iinfo(dtype).max
    yy, xx = np.mgrid[0:h, 0:w]
    base = (yy[..., None] * 3 + xx[..., None] * (1 + np.arange(c))) % (top + 1)
    noise = rng.integers(0, 4, (h, w, c))
    return np.clip(base + noise, 0, top).astype(dtype)


def _cv2_rgb(path: Path) -> np.ndarray:
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a.ndim == 2:
        return a[..., None]
    return a[..., [2, 1, 0, 3][: a.shape[2]]] if a.shape[2] >= 3 else a


def _png_filters(path: Path, h: int, row_bytes: int) -> set[int]:
    """The filter type bytes of every row of a PNG."""
    data, i, idat = path.read_bytes(), 8, b""
    while i < len(data):
        n = int.from_bytes(data[i : i + 4], "big")
        if data[i + 4 : i + 8] == b"IDAT":
            idat += data[i + 8 : i + 8 + n]
        i += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, row_bytes + 1)
    return set(raw[:, 0].tolist())


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3])
def test_pnm_rows_read_any_band_as_opencv_does(tmp_path, dtype, channels):
    img = _photo_like(37, 23, channels, dtype)
    path = tmp_path / ("a.ppm" if channels == 3 else "a.pgm")
    ok = cv2.imwrite(str(path), img[..., ::-1] if channels == 3 else img[..., 0])
    assert ok
    src = PnmRows(path)
    assert src.shape == (37, 23, channels) and src.sample_type == dtype
    ref = _cv2_rgb(path)
    np.testing.assert_array_equal(ref, img)
    for y0, y1 in [(0, 37), (0, 1), (5, 19), (36, 37), (10, 10)]:
        band = src.read(y0, y1)
        assert band.dtype == dtype and band.flags.writeable
        np.testing.assert_array_equal(band, img[y0:y1])
    with pytest.raises(IndexError):
        src.read(30, 38)


def test_pnm_header_comments_and_what_is_refused(tmp_path):
    px = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    p = tmp_path / "c.ppm"
    p.write_bytes(b"P6\n# made by hand\n3 # width\n2\n255\n" + px.tobytes())
    np.testing.assert_array_equal(PnmRows(p).read(0, 2), px)
    cases = {
        "ascii.ppm": b"P3\n1 1\n255\n0 0 0\n",
        "maxval.ppm": b"P6\n1 1\n4095\n" + b"\x00" * 6,
        "short.ppm": b"P6\n4 4\n255\n" + b"\x00" * 10,
        "nodims.ppm": b"P6\n\n",
        "png.ppm": b"\x89PNG\r\n\x1a\n",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImageReadError, match=name):
            PnmRows(tmp_path / name)
    with pytest.raises(ImageReadError, match="missing"):
        PnmRows(tmp_path / "missing.ppm")


@pytest.mark.parametrize(
    "suffix,channels,dtype",
    [
        (".png", 3, np.uint8),
        (".png", 3, np.uint16),
        (".png", 1, np.uint8),
        (".png", 4, np.uint8),
        (".png", 2, np.uint16),
        (".ppm", 3, np.uint8),
        (".ppm", 3, np.uint16),
        (".pgm", 1, np.uint16),
    ],
)
def test_row_writer_output_decodes_to_the_rows_written(tmp_path, suffix, channels, dtype):
    img = _photo_like(41, 29, channels, dtype)
    path = tmp_path / f"out{suffix}"
    with RowWriter(path, 41, 29, channels, dtype) as w:
        for y0 in (0, 1, 13, 30):  # uneven bands
            w.write(img[y0 : {0: 1, 1: 13, 13: 30, 30: 41}[y0]])
    if suffix == ".png" and channels == 3:  # both filters are exercised, not just one
        assert _png_filters(path, 41, 29 * channels * np.dtype(dtype).itemsize) == {1, 2}
    if channels == 2:  # OpenCV has no gray + alpha; Pillow checks every CRC while decoding
        with PIL.Image.open(path) as im:
            im.load()
        back = read_image(path)
        np.testing.assert_array_equal(back.pixels[..., 0], img[..., 0])
        np.testing.assert_array_equal(back.alpha, img[..., 1])
        return
    np.testing.assert_array_equal(_cv2_rgb(path), img)
    if suffix == ".png":
        with PIL.Image.open(path) as im:
            im.load()  # CRCs and zlib stream are valid


def test_png_keeps_icc_and_exif_and_is_compressed(tmp_path):
    src = tmp_path / "src.jpg"
    exif = PIL.Image.Exif()
    exif[0x010F] = "restore test camera"
    PIL.Image.fromarray(_photo_like(40, 50, 3, np.uint8)).save(
        src, exif=exif.tobytes(), icc_profile=b"fake-icc-profile-bytes"
    )
    meta = read_image(src)
    img = _photo_like(64, 96, 3, np.uint8)
    with RowWriter(
        tmp_path / "o.png", 64, 96, 3, np.uint8, icc=meta.icc_profile, exif=meta.exif
    ) as w:
        w.write(img)
    back = read_image(tmp_path / "o.png")
    assert back.icc_profile == b"fake-icc-profile-bytes"
    with PIL.Image.open(tmp_path / "o.png") as im:
        assert im.getexif()[0x010F] == "restore test camera"
    # a smooth picture: the filtered stream is far smaller than the raw samples
    assert (tmp_path / "o.png").stat().st_size < img.nbytes / 2


def test_failed_or_incomplete_writes_leave_nothing(tmp_path):
    img = _photo_like(10, 8, 3, np.uint8)
    dst = tmp_path / "keep.png"
    write_image(dst, img)
    before = dst.read_bytes()
    with pytest.raises(RuntimeError, match="boom"), RowWriter(dst, 10, 8, 3, np.uint8) as w:
        w.write(img[:5])
        raise RuntimeError("boom")
    with pytest.raises(ImageWriteError, match="only 5 of 10 rows"):
        with RowWriter(dst, 10, 8, 3, np.uint8) as w:
            w.write(img[:5])
    with pytest.raises(ImageWriteError, match="more than 10 rows"):
        with RowWriter(dst, 10, 8, 3, np.uint8) as w:
            w.write(img)
            w.write(img[:1])
    with pytest.raises(ImageWriteError, match="uint16"):
        with RowWriter(dst, 10, 8, 3, np.uint8) as w:
            w.write(img.astype(np.uint16))
    with pytest.raises(ImageWriteError, match="exists"):
        with RowWriter(dst, 10, 8, 3, np.uint8, overwrite=False) as w:
            w.write(img)
    with pytest.raises(ImageWriteError, match="stream only"):
        RowWriter(tmp_path / "x.jpg", 10, 8, 3, np.uint8)
    with pytest.raises(ImageWriteError, match="does not exist"):
        with RowWriter(tmp_path / "no" / "x.png", 10, 8, 3, np.uint8) as w:
            w.write(img)
    assert dst.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_restart_drops_rows_already_written(tmp_path):
    img = _photo_like(12, 9, 3, np.uint8)
    for name in ("r.png", "r.ppm"):
        with RowWriter(tmp_path / name, 12, 9, 3, np.uint8) as w:
            w.write(255 - img[:7])
            w.restart()
            w.write(img[:7])
            w.write(img[7:])
        np.testing.assert_array_equal(_cv2_rgb(tmp_path / name), img)
