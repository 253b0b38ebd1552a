"""The web app in a real headless Chromium: restore the sample photo, compare, correct the damage
mask with the brush, re-run, download; a non-image and a decompression bomb get clear messages."""

from __future__ import annotations

import io
import json
import struct
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest
from scipy import ndimage

pytestmark = pytest.mark.web
TIMEOUT_MS = 120_000  # a shared 2-core CPU: a restore takes seconds, the first one loads models


def fetch_png(url: str) -> np.ndarray:
    with urllib.request.urlopen(url, timeout=60) as r:
        return np.asarray(PIL.Image.open(io.BytesIO(r.read())).convert("RGB")).astype(np.int16)


def open_app(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT_MS)


def upload(page: Any, tab: str, files: Any) -> None:
    page.locator(f"#{tab} [data-role='file']").set_input_files(files)


def test_restore_compare_paint_rerun_download(
    page: Any,
    expect: Any,
    live_server: Any,
    tmp_path: Path,
    sample_photo: Path,
    screenshot_file: Path,
):
    sample = sample_photo
    base = live_server.url
    open_app(page, base)
    upload(page, "photo", str(sample))
    run = page.locator("#photo [data-role='run']")
    run.wait_for(state="visible")
    expect(page.locator("#photo [data-role='run']")).to_be_enabled(timeout=TIMEOUT_MS)
    run.click()
    expect(page.locator("#photo [data-role='progress']")).to_be_visible()  # seconds on a CPU
    downloads = page.locator("#photo [data-role='downloads']")
    downloads.wait_for(state="visible", timeout=TIMEOUT_MS)
    first_result = page.locator("#photo [data-role='dl-result']").get_attribute("href")
    first_mask = page.locator("#photo [data-role='dl-mask']").get_attribute("href")

    # the before/after slider: click at 20% of its width, the "after" layer is clipped there
    slider = page.locator("#photo [data-role='slider']")
    expect(slider).to_be_visible()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + box["height"] / 2)
    pos = page.evaluate(
        "parseFloat(document.querySelector('#photo [data-role=compare]').style.getPropertyValue('--pos'))"
    )
    assert 10 <= pos <= 30, pos
    clip = page.evaluate(
        "getComputedStyle(document.querySelector('#photo [data-role=after]')).clipPath"
    )
    assert "inset" in clip, clip

    # paint a stroke onto the damage mask (the overlay canvas) and re-run inpainting
    page.locator("#photo [data-role='masktools']").wait_for(state="visible")
    canvas = page.locator("#photo [data-role='mask']")
    expect(canvas).to_be_visible()
    cb = canvas.bounding_box()
    y = cb["y"] + 0.30 * cb["height"]
    page.mouse.move(cb["x"] + 0.55 * cb["width"], y)
    page.mouse.down()
    page.mouse.move(cb["x"] + 0.80 * cb["width"], y + 0.05 * cb["height"], steps=12)
    page.mouse.up()
    # ... and erase a band across the lower left, where the detector marked scratches
    page.locator("#photo [data-role='brush'][value='erase']").check()
    cb = canvas.bounding_box()  # checking the radio may have scrolled the page
    y_erase = cb["y"] + 0.70 * cb["height"]
    page.mouse.move(cb["x"] + 0.05 * cb["width"], y_erase)
    page.mouse.down()
    page.mouse.move(cb["x"] + 0.45 * cb["width"], y_erase, steps=12)
    page.mouse.up()
    page.locator("#photo [data-role='rerun']").click()
    expect(page.locator("#photo [data-role='dl-result']")).not_to_have_attribute(
        "href", first_result, timeout=TIMEOUT_MS
    )
    page.locator("#photo [data-role='run']").wait_for(state="visible")
    expect(page.locator("#photo [data-role='run']")).to_be_enabled(timeout=TIMEOUT_MS)
    # the README's picture (docs/img/web_app.png): result, slider, corrected mask
    page.screenshot(path=str(screenshot_file), full_page=True)
    assert screenshot_file.stat().st_size > 10_000

    # download the result and the mask through the page's links
    with page.expect_download() as dl:
        page.locator("#photo [data-role='dl-result']").click()
    result_path = tmp_path / "restored.png"
    dl.value.save_as(result_path)
    with page.expect_download() as dl:
        page.locator("#photo [data-role='dl-mask']").click()
    mask_path = tmp_path / "mask.png"
    dl.value.save_as(mask_path)

    photo = np.asarray(PIL.Image.open(sample).convert("RGB")).astype(np.int16)
    with PIL.Image.open(result_path) as im:
        assert im.format == "PNG"
        assert im.size == (photo.shape[1], photo.shape[0])  # no upscale: the photo's size
        result = np.asarray(im.convert("RGB")).astype(np.int16)
    mask_before = fetch_png(base.rstrip("/") + first_mask)[..., 0] >= 128
    mask_after = np.asarray(PIL.Image.open(mask_path).convert("L")) >= 128
    painted = mask_after & ~mask_before  # what the brush added
    erased = mask_before & ~mask_after  # what the eraser took away
    h, w = painted.shape
    row = round(0.70 * h)
    assert mask_before[row - 3 : row + 4, int(0.07 * w) : int(0.43 * w)].any()  # scratches there
    assert not mask_after[row - 3 : row + 4, int(0.07 * w) : int(0.43 * w)].any()
    assert erased.any() and np.abs(np.nonzero(erased)[0] - row).max() <= 16
    assert painted.sum() > 1500, painted.sum()  # a stroke ~25% of the width, ~16 px wide
    ys, xs = np.nonzero(painted)
    assert 0.2 * h < ys.mean() < 0.45 * h and 0.5 * w < xs.mean() < 0.85 * w

    before = fetch_png(base.rstrip("/") + first_result)
    diff_input = np.abs(result - photo).mean(axis=2)
    diff_first = np.abs(result - before).mean(axis=2)
    # the painted pixels were inpainted: they differ from the input and from the first result,
    # much more than the rest of the photo changed between the two runs (the U-Net enhance and
    # the tone step see the new mask's neighbourhood, so "the rest" is not exactly equal)
    assert diff_input[painted].mean() > 4.0, diff_input[painted].mean()
    assert diff_first[painted].mean() > 4.0, diff_first[painted].mean()
    rest = ~ndimage.binary_dilation(painted | erased, iterations=8)
    assert diff_first[painted].mean() > 4 * diff_first[rest].mean()
    assert page.external == [], f"the page tried to reach other hosts: {page.external}"
    assert all(u.startswith(base) for u in page.requests if not u.startswith(("data:", "blob:")))


def bomb_png(side: int = 20_000) -> bytes:
    """A 1-bit PNG of side x side pixels (400 MP) in ~50 KB: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    z = zlib.compressobj(9)
    row = b"\0" * (1 + (side + 7) // 8)
    idat = b"".join(z.compress(row * 500) for _ in range(side // 500)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_non_image_and_bomb_get_a_clear_message(
    page: Any, expect: Any, live_server: Any, sample_photo: Path
):
    open_app(page, live_server.url)
    error = page.locator("#photo [data-role='error']")
    upload(page, "photo", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"})
    error.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "notes.txt: not an image" in error.inner_text()
    assert page.locator("#photo [data-role='run']").is_disabled()

    upload(page, "photo", {"name": "bomb.png", "mimeType": "image/png", "buffer": bomb_png()})
    expect(error).to_contain_text("bomb.png", timeout=TIMEOUT_MS)
    assert "over the pixel limit of" in error.inner_text()
    assert "--max-pixels" in error.inner_text()

    # the server keeps serving: a real photo still uploads
    upload(page, "photo", str(sample_photo))
    expect(page.locator("#photo [data-role='run']")).to_be_enabled(timeout=TIMEOUT_MS)
    assert error.is_hidden()
    with urllib.request.urlopen(live_server.url + "api/models", timeout=30) as r:
        assert "photo" not in json.load(r)["tools"]  # the API still answers
    assert page.external == []


def small_photo(tmp_path: Path, sample: Path, gray: bool = False) -> Path:
    """The sample photo at 192 x 148 (the other tabs' models are slower per pixel on a CPU)."""
    im = PIL.Image.open(sample).resize((192, 148), PIL.Image.LANCZOS)
    path = tmp_path / ("small_gray.png" if gray else "small.png")
    (im.convert("L") if gray else im).save(path)
    return path


def finish(page: Any, expect: Any, tab: str, tmp_path: Path) -> tuple[int, int]:
    """Run the tab, wait for its result, download it; returns the result's (width, height)."""
    page.locator(f"#{tab} [data-role='run']").click()
    links = page.locator(f"#{tab} [data-role='downloads']")
    expect(links).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(f"#{tab} [data-role='error']")).to_be_hidden()
    with page.expect_download() as dl:
        page.locator(f"#{tab} [data-role='dl-result']").click()
    out = tmp_path / f"{tab}.png"
    dl.value.save_as(out)
    with PIL.Image.open(out) as im:
        return im.size


def test_every_other_tab_runs_its_model(
    page: Any, expect: Any, live_server: Any, tmp_path: Path, sample_photo: Path
):
    open_app(page, live_server.url)
    photo = small_photo(tmp_path, sample_photo)

    page.locator("nav [data-tab='sr']").click()
    upload(page, "sr", str(photo))
    page.locator("#sr select[name='model']").select_option("sr-x4")
    assert finish(page, expect, "sr", tmp_path) == (4 * 192, 4 * 148)

    page.locator("nav [data-tab='inpaint']").click()
    upload(page, "inpaint", str(photo))
    expect(page.locator("#inpaint [data-role='masktools']")).to_be_visible(timeout=TIMEOUT_MS)
    page.locator("#inpaint [data-role='run']").click()  # nothing painted yet: a clear message
    expect(page.locator("#inpaint [data-role='error']")).to_contain_text("paint over")
    expect(page.locator("#inpaint [data-role='mask']")).to_be_visible()
    cb = page.locator("#inpaint [data-role='mask']").bounding_box()
    page.mouse.move(cb["x"] + 0.3 * cb["width"], cb["y"] + 0.5 * cb["height"])
    page.mouse.down()
    page.mouse.move(cb["x"] + 0.7 * cb["width"], cb["y"] + 0.5 * cb["height"], steps=8)
    page.mouse.up()
    assert finish(page, expect, "inpaint", tmp_path) == (192, 148)
    filled = np.asarray(PIL.Image.open(tmp_path / "inpaint.png").convert("RGB")).astype(int)
    before = np.asarray(PIL.Image.open(photo).convert("RGB")).astype(int)
    diff = np.abs(filled - before).sum(axis=2)
    assert (
        diff[70:78, 70:120].mean() > diff[:20, :20].mean() + 1
    )  # the stroke changed, not a corner

    page.locator("nav [data-tab='colorize']").click()
    upload(page, "colorize", str(small_photo(tmp_path, sample_photo, gray=True)))
    assert finish(page, expect, "colorize", tmp_path) == (192, 148)
    rgb = np.asarray(PIL.Image.open(tmp_path / "colorize.png").convert("RGB")).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 1  # colour was added

    page.locator("nav [data-tab='style']").click()
    upload(page, "style", str(photo))
    assert finish(page, expect, "style", tmp_path) == (192, 148)

    page.locator("nav [data-tab='generate']").click()
    page.locator("#generate input[name='n']").fill("9")
    page.locator("#generate input[name='seed']").fill("7")
    page.locator("#generate input[name='label']").fill("3")  # gen-mnist, the first model: 3s
    w, h = finish(page, expect, "generate", tmp_path)
    assert w == h and w > 3 * 28  # a 3 x 3 grid of 28 px digits (+ padding)
    assert page.external == []
