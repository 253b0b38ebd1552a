"""Restorer.run_file: file to file, rows streamed in and out, with exactly the in-memory result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import restore
from restore.api import Restorer
from restore.data import stream
from restore.data.io import read_image, write_image
from restore.errors import ImageReadError, ImageWriteError
from restore.tasks.base import Predictor


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> Restorer:
    return restore.load(tiny_model_dir, device="cpu", tile=32)  # many tiles, many bands


def _img(h: int, w: int, dtype: type = np.uint8) -> np.ndarray:
    rng = np.random.default_rng(1)
    top = np.iinfo(dtype).max
    return rng.integers(0, top + 1, (h, w, 3), dtype=dtype)


def _x2() -> Restorer:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=2, mode="bilinear").clamp(0, 1) ** 0.8

    card = {"name": "toy-x2", "task": "toy"}
    return Restorer(
        Predictor(fn=fn, scale=2, multiple=1, halo=4), card, {}, device=torch.device("cpu"), tile=24
    )


@pytest.mark.parametrize("src_suffix", [".ppm", ".png"])
@pytest.mark.parametrize("dst_suffix", [".png", ".ppm"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_run_file_equals_the_in_memory_result(model, tmp_path, src_suffix, dst_suffix, dtype):
    img = _img(70, 53, dtype)
    src = write_image(tmp_path / f"in{src_suffix}", img)
    ref = model(img)
    out = model.run_file(src, tmp_path / f"out{dst_suffix}")
    back = read_image(out)
    assert back.pixels.dtype == dtype
    np.testing.assert_array_equal(back.pixels, ref)
    np.testing.assert_array_equal(read_image(src).pixels, img)  # input untouched


def test_upscaling_model_streams_too(tmp_path):
    sr = _x2()
    img = _img(45, 61)
    src = write_image(tmp_path / "in.ppm", img)
    out = sr.run_file(src, tmp_path / "out.png")
    np.testing.assert_array_equal(read_image(out).pixels, sr(img))
    assert read_image(out).size == (90, 122)


def test_ppm_rows_are_read_band_by_band(model, tmp_path, monkeypatch):
    img = _img(150, 40)
    src = write_image(tmp_path / "in.ppm", img)
    reads: list[tuple[int, int]] = []
    writes: list[int] = []
    real_read, real_write = stream.PnmRows.read, stream.RowWriter.write

    def read(self, y0, y1):
        reads.append((y0, y1))
        return real_read(self, y0, y1)

    def write(self, rows):
        writes.append(rows.shape[0])
        return real_write(self, rows)

    monkeypatch.setattr(stream.PnmRows, "read", read)
    monkeypatch.setattr(stream.RowWriter, "write", write)
    model.run_file(src, tmp_path / "out.png")
    assert len(reads) > 3 and max(b - a for a, b in reads) <= 32  # one tile-high band at a time
    assert sum(writes) == 150 and max(writes) < 150  # output rows leave as they are finished
    assert [a for a, _ in reads] == sorted(a for a, _ in reads)  # top to bottom, once


def test_gray_alpha_and_other_formats_take_the_in_memory_path(model, tmp_path):
    gray = _img(30, 40)[..., 0]
    rgba = np.dstack([_img(30, 40), np.full((30, 40), 77, np.uint8)])
    for name, arr, dst in [
        ("g.pgm", gray, "g.png"),
        ("a.png", rgba, "a.png"),
        ("c.png", _img(30, 40), "c.jpg"),
    ]:
        src = write_image(tmp_path / name, arr)
        out = model.run_file(src, tmp_path / f"o_{dst}")
        expect = model(src)  # path in -> PIL out, the in-memory path
        got = read_image(out)
        if dst.endswith(".jpg"):
            assert got.size == (30, 40)
            continue
        np.testing.assert_array_equal(
            np.asarray(expect),
            got.pixels[..., 0] if arr.ndim == 2 else np.dstack([got.pixels, got.alpha]),
        )


def test_refuses_to_overwrite_the_input_and_cleans_up_on_failure(model, tmp_path, monkeypatch):
    img = _img(40, 40)
    src = write_image(tmp_path / "in.ppm", img)
    before = src.read_bytes()
    with pytest.raises(ImageWriteError, match="input"):
        model.run_file(src, src)
    with pytest.raises(ImageWriteError, match="exists"):
        model.run_file(src, write_image(tmp_path / "there.png", img), overwrite=False)

    calls = []

    def broken(t: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        if len(calls) > 20:  # after several bands' rows went out
            raise RuntimeError("model failed")
        return t

    bad = Restorer(
        Predictor(fn=broken, scale=1, multiple=1, halo=4),
        {"name": "broken", "task": "toy"},
        {},
        device=torch.device("cpu"),
        tile=16,
    )
    written = []
    real_write = stream.RowWriter.write
    monkeypatch.setattr(
        stream.RowWriter, "write", lambda self, rows: written.append(rows) or real_write(self, rows)
    )
    with pytest.raises(RuntimeError, match="model failed"):
        bad.run_file(src, tmp_path / "out.png")
    assert written  # it failed part-way through the file
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.ppm", "there.png"]


def test_pixel_limit_applies_to_streamed_input(model, tmp_path, monkeypatch):
    src = write_image(tmp_path / "in.ppm", _img(40, 40))
    monkeypatch.setenv("RESTORE_MAX_PIXELS", "1000")
    with pytest.raises(ImageReadError, match="pixel limit"):
        model.run_file(src, tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()


def test_missing_input_is_a_read_error(model, tmp_path):
    with pytest.raises(ImageReadError):
        model.run_file(tmp_path / "nope.ppm", tmp_path / "out.png")
    assert list(Path(tmp_path).iterdir()) == []
