from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageFile
import pytest
import torch
from PIL import ImageOps

from restore.core import atomic
from restore.data.io import (
    MAX_PIXELS_ENV,
    Image,
    ImageNotFoundError,
    from_tensor,
    read_image,
    to_tensor,
    write_image,
)
from restore.data.io import read as io_read
from restore.errors import ImageReadError, ImageWriteError

RNG = np.random.default_rng(1234)


def _rand(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    return RNG.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)


def _image(kind: str, h: int = 5, w: int = 7) -> Image:
    dtype = np.uint16 if kind.endswith("16") else np.uint8
    if kind.startswith("gray"):
        arr = _rand((h, w, 2 if "a" in kind[4:5] else 1), dtype)
    else:
        arr = _rand((h, w, 4 if kind.startswith("rgba") else 3), dtype)
    return Image.from_array(arr if arr.shape[2] != 1 else arr[..., 0])


def _assert_same(a: Image, b: Image) -> None:
    assert b.pixels.dtype == a.pixels.dtype
    np.testing.assert_array_equal(b.pixels, a.pixels)
    if a.alpha is None:
        assert b.alpha is None
    else:
        np.testing.assert_array_equal(b.alpha, a.alpha)
    assert b.grayscale == a.grayscale
    assert b.bit_depth == a.bit_depth


# ---------------------------------------------------------------------------- lossless round trips


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("kind", ["rgb8", "rgb16", "rgba8", "rgba16", "gray8", "gray16", "graya8"])
def test_round_trip_lossless(tmp_path: Path, kind: str, suffix: str) -> None:
    img = _image(kind)
    out = write_image(tmp_path / f"x{suffix}", img)
    _assert_same(img, read_image(out))


@pytest.mark.parametrize("kind", ["rgb8", "rgba8", "gray8"])
def test_round_trip_webp_lossless(tmp_path: Path, kind: str) -> None:
    img = _image(kind)
    back = read_image(write_image(tmp_path / "x.webp", img))
    np.testing.assert_array_equal(back.pixels, img.pixels)
    if img.alpha is not None:
        np.testing.assert_array_equal(back.alpha, img.alpha)


@pytest.mark.parametrize("kind", ["gray8", "gray16", "rgb8", "rgb16"])
def test_round_trip_pnm(tmp_path: Path, kind: str) -> None:
    img = _image(kind)
    back = read_image(write_image(tmp_path / ("x.pgm" if "gray" in kind else "x.ppm"), img))
    _assert_same(img, back)


def test_round_trip_gray_alpha_16(tmp_path: Path) -> None:
    img = _image("graya16")
    assert img.grayscale and img.alpha is not None
    _assert_same(img, read_image(write_image(tmp_path / "x.png", img)))
    tif = read_image(write_image(tmp_path / "x.tif", img))  # samples kept, stored as RGBA
    np.testing.assert_array_equal(tif.pixels, img.pixels)
    np.testing.assert_array_equal(tif.alpha, img.alpha)


def test_gray_written_as_one_channel_unless_colour_added(tmp_path: Path) -> None:
    img = _image("gray16")
    write_image(tmp_path / "g.png", img)
    assert PIL.Image.open(tmp_path / "g.png").mode == "I;16"
    coloured = img.pixels.copy()
    coloured[0, 0] = (1, 2, 3)
    write_image(tmp_path / "c.png", img.with_pixels(coloured))
    back = read_image(tmp_path / "c.png")
    assert not back.grayscale
    np.testing.assert_array_equal(back.pixels, coloured)


def test_metadata_kept(tmp_path: Path) -> None:
    exif = PIL.Image.Exif()
    exif[0x010F] = "TestCam"
    icc = b"\x00\x00\x00\x10fake-icc-profile"
    img = Image(pixels=_rand((4, 6, 3), np.uint8), exif=exif.tobytes(), icc_profile=icc)
    for name in ["a.png", "a.jpg", "a.webp", "a.tif"]:
        back = read_image(write_image(tmp_path / name, img))
        assert back.icc_profile == icc, name
        assert PIL.Image.open(tmp_path / name).getexif()[0x010F] == "TestCam", name
    back16 = read_image(
        write_image(tmp_path / "b.png", img.with_pixels(_rand((4, 6, 3), np.uint16)))
    )
    assert back16.icc_profile == icc and back16.exif is not None and b"TestCam" in back16.exif


# --------------------------------------------------------------------------------- orientation


def _save_with_orientation(path: Path, arr: np.ndarray, orientation: int, **kw: object) -> None:
    exif = PIL.Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    PIL.Image.fromarray(arr).save(path, exif=exif.tobytes(), **kw)


def test_exif_rotated_jpeg_comes_out_upright(tmp_path: Path) -> None:
    # Stored 32 wide x 16 high: left half red, right half blue. Orientation 6 means "rotate 90
    # degrees clockwise to display": upright is 16 wide x 32 high, red on top, blue below.
    stored = np.zeros((16, 32, 3), np.uint8)
    stored[:, :16] = (255, 0, 0)
    stored[:, 16:] = (0, 0, 255)
    _save_with_orientation(tmp_path / "r.jpg", stored, 6, quality=95)
    img = read_image(tmp_path / "r.jpg")
    assert img.pixels.shape == (32, 16, 3)
    top, bottom = img.pixels[2:14].astype(int), img.pixels[18:30].astype(int)
    assert np.abs(top - (255, 0, 0)).max() < 40
    assert np.abs(bottom - (0, 0, 255)).max() < 40
    stored_exif = PIL.Image.Exif()
    stored_exif.load(img.exif)
    assert stored_exif[0x0112] == 1 and stored_exif[0x010F] == "TestCam"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    arr = _rand((3, 5, 3), np.uint8)
    _save_with_orientation(tmp_path / "o.png", arr, orientation)
    expected = np.asarray(ImageOps.exif_transpose(PIL.Image.open(tmp_path / "o.png")))
    img = read_image(tmp_path / "o.png")
    np.testing.assert_array_equal(img.pixels, expected)
    # Written back, the orientation tag says 1, so reading again does not rotate twice.
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "w.png", img)).pixels, expected)


# ------------------------------------------------------------------------------- source modes


def test_palette_and_transparent_palette(tmp_path: Path) -> None:
    idx = np.array([[0, 1], [2, 0]], np.uint8)
    pal = PIL.Image.fromarray(idx, "P")
    pal.putpalette([10, 20, 30, 200, 100, 0, 0, 255, 7] + [0] * (256 * 3 - 9))
    pal.save(tmp_path / "p.png")
    img = read_image(tmp_path / "p.png")
    expected = np.array([[[10, 20, 30], [200, 100, 0]], [[0, 255, 7], [10, 20, 30]]], np.uint8)
    np.testing.assert_array_equal(img.pixels, expected)
    assert img.alpha is None and not img.grayscale
    pal.save(tmp_path / "pt.png", transparency=0)
    img = read_image(tmp_path / "pt.png")
    np.testing.assert_array_equal(img.alpha, [[0, 255], [255, 0]])


def test_cmyk_la_and_bilevel(tmp_path: Path) -> None:
    PIL.Image.new("CMYK", (3, 2), (0, 255, 255, 0)).save(tmp_path / "c.tif")
    img = read_image(tmp_path / "c.tif")
    assert img.pixels.shape == (2, 3, 3)
    np.testing.assert_array_equal(img.pixels, np.broadcast_to([255, 0, 0], (2, 3, 3)))

    la = np.dstack(
        [np.array([[0, 50], [100, 255]], np.uint8), np.array([[9, 8], [7, 6]], np.uint8)]
    )
    PIL.Image.fromarray(la, "LA").save(tmp_path / "la.png")
    img = read_image(tmp_path / "la.png")
    assert img.grayscale
    np.testing.assert_array_equal(img.pixels[..., 1], la[..., 0])
    np.testing.assert_array_equal(img.alpha, la[..., 1])

    bits = np.array([[True, False, True]])
    PIL.Image.fromarray(bits).convert("1").save(tmp_path / "b.png")
    img = read_image(tmp_path / "b.png")
    assert img.grayscale and img.pixels.dtype == np.uint8
    np.testing.assert_array_equal(img.pixels[..., 2], [[255, 0, 255]])


def test_float_tiff_scaled_to_16_bit(tmp_path: Path) -> None:
    PIL.Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32), "F").save(tmp_path / "f.tif")
    img = read_image(tmp_path / "f.tif")
    assert img.bit_depth == 16 and img.grayscale
    np.testing.assert_array_equal(img.pixels[0, :, 0], [0, 32768, 65535])


def test_multi_frame_gif_first_frame_and_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frames = [PIL.Image.new("RGB", (4, 3), c) for c in [(255, 0, 0), (0, 255, 0)]]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with caplog.at_level(logging.WARNING, logger="restore.data.io"):
        img = read_image(tmp_path / "a.gif")
    assert img.n_frames == 2 and "first" in caplog.text
    np.testing.assert_array_equal(img.pixels, np.broadcast_to([255, 0, 0], (3, 4, 3)))


# ------------------------------------------------------------------------------------ bad input


def _png_bytes(h: int = 16, w: int = 16) -> bytes:
    buf = io.BytesIO()
    PIL.Image.fromarray(_rand((h, w, 3), np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    PIL.Image.fromarray(_rand((32, 32, 3), np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.png", b""),
        ("half.png", _png_bytes()[: len(_png_bytes()) // 2]),
        ("half.jpg", _jpeg_bytes()[: len(_jpeg_bytes()) // 2]),
        ("text.png", b"hello, this is not an image\n"),
    ],
)
def test_bad_files_raise_read_error(tmp_path: Path, name: str, content: bytes) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ImageReadError, match=name):
        read_image(tmp_path / name)


def test_truncated_images_stay_refused() -> None:
    assert PIL.ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_folder_and_missing(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)
    with pytest.raises(ImageNotFoundError, match="nope.png") as info:
        read_image(tmp_path / "nope.png")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ImageReadError)


def test_pixel_limit_checked_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.png").write_bytes(_png_bytes(10, 20))
    assert read_image(tmp_path / "a.png", max_pixels=200).pixels.shape == (10, 20, 3)

    def no_decoding(self: object) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageReadError, match=r"a\.png.*limit of 199.*RESTORE_MAX_PIXELS"):
        read_image(tmp_path / "a.png", max_pixels=199)
    monkeypatch.setenv(MAX_PIXELS_ENV, "150")
    with pytest.raises(ImageReadError, match="limit of 150"):
        read_image(tmp_path / "a.png")


def _png_claiming(w: int, h: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(1000))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_huge_header_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bomb.png").write_bytes(_png_claiming(30_000, 30_000))
    with pytest.raises(ImageReadError, match=r"bomb\.png.*limit of 178956970.*RESTORE_MAX_PIXELS"):
        read_image(tmp_path / "bomb.png")


def test_limit_above_pillows_own_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.png").write_bytes(_png_bytes(10, 20))
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 50)  # Pillow alone would refuse > 100
    assert read_image(tmp_path / "a.png", max_pixels=1000).pixels.shape == (10, 20, 3)
    assert PIL.Image.MAX_IMAGE_PIXELS == 50


# ---------------------------------------------------------------------------------------- writing


def test_unknown_suffix_and_missing_folder(tmp_path: Path) -> None:
    arr = _rand((2, 2, 3), np.uint8)
    with pytest.raises(ImageWriteError, match=r"\.xyz"):
        write_image(tmp_path / "a.xyz", arr)
    with pytest.raises(ImageWriteError, match="does not exist"):
        write_image(tmp_path / "no" / "a.png", arr)
    write_image(tmp_path / "a.xyz", arr, format="png")
    assert PIL.Image.open(tmp_path / "a.xyz").format == "PNG"


def test_failed_write_leaves_no_temp_file_and_keeps_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ImageWriteError, match="out.png"):
        write_image(target, _rand((3, 3, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    assert target.read_bytes() == b"old"


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic, "_create_temp", denied)
    with pytest.raises(ImageWriteError, match="Permission denied"):
        write_image(tmp_path / "a.png", _rand((3, 3, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_protect_and_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "in.png"
    original = _png_bytes()
    src.write_bytes(original)
    (tmp_path / "link.png").symlink_to(src)
    arr = _rand((3, 3, 3), np.uint8)
    for dst in [src, tmp_path / "link.png", tmp_path / "sub" / ".." / "in.png"]:
        with pytest.raises(ImageWriteError, match="input"):
            write_image(dst, arr, protect=[str(src)])
    assert src.read_bytes() == original
    out = write_image(tmp_path / "new.png", arr, protect=[src], overwrite=False)
    with pytest.raises(ImageWriteError, match="exists"):
        write_image(out, arr, overwrite=False)
    umask = os.umask(0o022)
    os.umask(umask)
    assert (os.stat(out).st_mode & 0o777) == (0o666 & ~umask)


def test_jpeg_quality_changes_size_and_16_bit_is_reduced(tmp_path: Path) -> None:
    img = Image.from_array(_rand((48, 48, 3), np.uint8))
    small = write_image(tmp_path / "q10.jpg", img, quality=10).stat().st_size
    big = write_image(tmp_path / "q95.jpg", img).stat().st_size
    assert small < big / 2
    flat = Image.from_array(np.full((8, 8, 3), 257 * 200, np.uint16))
    back = read_image(write_image(tmp_path / "d.jpg", flat))
    assert back.bit_depth == 8 and np.abs(back.pixels.astype(int) - 200).max() <= 1
    with pytest.raises(ValueError, match="quality"):
        write_image(tmp_path / "x.jpg", img, quality=0)


# ------------------------------------------------------------------------------------ conversions


def test_to_tensor_values_and_gray() -> None:
    t = to_tensor(np.array([[0, 255]], np.uint8))
    assert t.shape == (1, 3, 1, 2) and t.dtype == torch.float32
    assert torch.equal(t[0, :, 0, 1], torch.ones(3)) and torch.equal(t[0, :, 0, 0], torch.zeros(3))
    t16 = to_tensor(np.full((1, 1, 3), 65535, np.uint16))
    assert torch.equal(t16, torch.ones(1, 3, 1, 1))
    tf = to_tensor(np.array([[[-1.0, 0.25, 2.0]]]))
    assert torch.equal(tf.flatten(), torch.tensor([0.0, 0.25, 1.0]))
    with pytest.raises(ValueError, match="4"):
        to_tensor(np.zeros((2, 2, 4), np.uint8))


@pytest.mark.parametrize("dtype, depth", [(np.uint8, 8), (np.uint16, 16)])
def test_tensor_round_trip_exact(dtype: type, depth: int) -> None:
    arr = _rand((6, 5, 3), dtype)
    arr[0, 0] = (0, np.iinfo(dtype).max, 1)
    back = from_tensor(to_tensor(arr), bit_depth=depth)  # type: ignore[arg-type]
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, arr)


def test_from_tensor_rounds_and_clips() -> None:
    t = torch.tensor([-0.5, 0.4 / 255, 0.6 / 255, 1.5]).view(1, 1, 1, 4)
    np.testing.assert_array_equal(from_tensor(t), [[0, 0, 1, 255]])
    with pytest.raises(ValueError, match="batch"):
        from_tensor(torch.zeros(2, 3, 2, 2))


def test_with_pixels_resizes_and_rescales_alpha() -> None:
    img = Image.from_array(np.dstack([_rand((4, 6, 3), np.uint8), np.full((4, 6), 200, np.uint8)]))
    up = img.with_pixels(np.zeros((8, 12, 3), np.uint8))
    assert up.alpha is not None and up.alpha.shape == (8, 12)
    np.testing.assert_array_equal(up.alpha, 200)  # flat alpha stays flat under cubic resize
    deep = img.with_pixels(np.zeros((2, 3, 3), np.uint16))
    assert deep.alpha is not None and deep.alpha.dtype == np.uint16
    np.testing.assert_array_equal(deep.alpha, 200 * 257)
    same = img.with_pixels(img.pixels[::-1].copy())
    assert same.alpha is img.alpha
    with pytest.raises(ValueError, match="uint8 or uint16"):
        Image.from_array(np.zeros((2, 2), np.float32))


def test_decoding_in_strips_gives_pillows_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(io_read, "_STRIP_BYTES", 100)  # a few rows per strip
    rgb = _rand((37, 23, 3), np.uint8)
    ims = {
        "rgb.png": PIL.Image.fromarray(rgb),
        "p.png": PIL.Image.fromarray(rgb).quantize(16),
        "cmyk.jpg": PIL.Image.fromarray(rgb).convert("CMYK"),
        "l.png": PIL.Image.fromarray(rgb[..., 0]),
        "la.png": PIL.Image.fromarray(rgb[..., :2].copy(), "LA"),
        "rgba.png": PIL.Image.fromarray(np.dstack([rgb, rgb[..., :1]])),
    }
    ims["pt.png"] = ims["p.png"].copy()
    ims["pt.png"].info["transparency"] = 3
    for name, im in ims.items():
        im.save(tmp_path / name)
        got = read_image(tmp_path / name)
        with PIL.Image.open(tmp_path / name) as ref:
            want = np.asarray(ref.convert("RGBA"))
        np.testing.assert_array_equal(got.pixels, want[..., :3], err_msg=name)
        if got.alpha is not None:
            np.testing.assert_array_equal(got.alpha, want[..., 3], err_msg=name)
        assert (got.alpha is not None) == (name in ("la.png", "rgba.png", "pt.png")), name
