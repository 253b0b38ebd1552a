"""`restore photo` and restore.photo: stages, overrides, outputs, image kinds, errors, tone.

Most tests run on tiny random-weight models written to a temporary folder (the pipeline's
behaviour, not the shipped models' quality, is under test; scripts/eval_photo.py measures that).
The tone rules (grey stays grey, a toned print keeps its tone, colorize skips colour photos) are
also checked on the shipped models, on small crops.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

from restore.cli import build_parser, main
from restore.config import Config, from_dict
from restore.data.color import rgb_to_gray
from restore.data.io import Image, read_image, write_image
from restore.photo import (
    COLOUR_SKIP,
    PhotoRestorer,
    clear_model_cache,
    cv2_inpaint,
    measure_tone,
    restore_photo,
)
from restore.tasks import create_task
from restore.train_checkpoint import export_weights

TINY_UNET = {"base_channels": 4, "depth": 3, "max_channels": 8, "norm": "none", "dropout": 0.0}


def _export(out: Path, name: str, task: str, out_ch: int, task_args: dict) -> Path:
    cfg = from_dict(
        Config,
        {
            "name": name,
            "task": task,
            "task_args": task_args,
            "model": {
                "generator": "unet",
                "generator_args": {**TINY_UNET, "out_channels": out_ch, "output": "none"},
            },
            "loss": {"adv_weight": 0.0},
        },
    )
    t = create_task(cfg)
    torch.manual_seed(0)
    G = t.build_networks()["G"].eval()
    return export_weights(out / name, t, cfg, {"G": G}, 0, {})


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("models")
    return {
        "detect": str(_export(d, "det", "damage", 1, {"threshold": 0.5, "dilate": 1})),
        "enhance": str(_export(d, "enh", "enhance", 3, {"residual": True})),
    }


@pytest.fixture()
def photo(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    img = (np.kron(rng.random((6, 8, 3)), np.ones((8, 8, 1))) * 255).astype(np.uint8)
    img[10, :] = 255  # a "scratch"
    p = tmp_path / "old.png"
    write_image(p, img)
    return p


def _args(models: dict[str, str]) -> list[str]:
    return [a for s, m in models.items() for a in ("--model", f"{s}={m}")] + ["--device", "cpu"]


def test_cli_end_to_end_with_steps_mask_and_report(photo, models, tmp_path):
    before = photo.read_bytes()
    out, mask, rep, steps = (
        tmp_path / "out.png",
        tmp_path / "m.png",
        tmp_path / "r.json",
        tmp_path / "steps",
    )
    steps.mkdir()
    argv = ["photo", str(photo), "-o", str(out), "--save-mask", str(mask)]
    argv += ["--save-steps", str(steps), "--report", str(rep), *_args(models)]
    assert main(argv) == 0
    assert photo.read_bytes() == before  # the input is never touched
    assert read_image(out).size == (48, 64)
    m = read_image(mask).pixels
    assert m.shape == (48, 64, 3) and set(np.unique(m)) <= {0, 255}
    names = sorted(p.name for p in steps.iterdir())
    assert (
        names[0] == "00_input.png" and "01_mask.png" in names and names[-1].endswith("enhance.png")
    )
    r = json.loads(rep.read_text())
    assert r["device"] == "cpu" and r["input_size"] == [48, 64] and r["output_size"] == [48, 64]
    stages = {s["stage"]: s for s in r["stages"]}
    assert stages["detect"]["ran"] and stages["enhance"]["ran"]
    assert stages["detect"]["seconds"] >= 0 and stages["detect"]["model"] == models["detect"]
    assert not stages["colorize"]["ran"] and stages["colorize"]["reason"] == "switched off"
    assert 0.0 <= r["damaged_fraction"] <= 1.0 and r["total_seconds"] > 0


def test_mask_override_and_inpaint_only_changes_holes(photo, models, tmp_path):
    hole = np.zeros((48, 64), np.uint8)
    hole[10, :] = 255
    mfile = tmp_path / "hole.png"
    write_image(mfile, hole)
    out, rep = tmp_path / "o.png", tmp_path / "r.json"
    argv = ["photo", str(photo), "-o", str(out), "--mask", str(mfile), "--no-enhance"]
    assert main(argv + ["--report", str(rep), *_args(models)]) == 0
    r = json.loads(rep.read_text())
    stages = {s["stage"]: s for s in r["stages"]}
    assert not stages["detect"]["ran"] and stages["detect"]["reason"] == "mask given"
    assert stages["inpaint"]["ran"] and r["damaged_fraction"] == pytest.approx(1 / 48, abs=1e-5)
    a, b = read_image(photo).pixels, read_image(out).pixels
    assert np.array_equal(np.delete(a, 10, 0), np.delete(b, 10, 0))  # known pixels kept
    assert not np.array_equal(a[10], b[10])  # the scratch was filled
    assert b[10].mean() < 250


def test_stages_switch_off(photo, models, tmp_path):
    img = read_image(photo)
    out, r = restore_photo(
        img, detect=False, inpaint=False, enhance=False, models=models, device="cpu"
    )
    assert np.array_equal(out.pixels, img.pixels)
    assert not any(s["ran"] for s in r["stages"])


def test_descreen_stage_takes_a_screen_out(models, tmp_path):
    # a smooth picture under a 6-px lattice of cells (silk paper, a halftone): the first stage
    # finds the lattice and takes it out; switched off, the photo comes back as it was
    yy, xx = np.mgrid[0:320, 0:320].astype(np.float64)
    picture = 120 + 60 * np.sin(xx / 50) * np.cos(yy / 70)
    cells = 14 * (np.cos(2 * np.pi * xx / 6) + np.cos(2 * np.pi * yy / 6))
    screened = np.clip(np.repeat((picture + cells)[..., None], 3, 2), 0, 255).round()
    img = Image.from_array(screened.astype(np.uint8))
    out, r = restore_photo(
        img, detect=False, inpaint=False, enhance=False, models=models, device="cpu"
    )
    stage = {s["stage"]: s for s in r["stages"]}["descreen"]
    assert stage["ran"] and [round(p) for p in stage["periods_px"][0]] == [6, 6]
    err_in = np.abs(screened[..., 0] - picture)[8:-8, 8:-8].mean()
    err_out = np.abs(out.pixels[..., 0].astype(np.float64) - picture)[8:-8, 8:-8].mean()
    assert err_out < 0.25 * err_in  # most of the cells are gone
    assert np.array_equal(out.pixels[..., 0], out.pixels[..., 2])  # grey stays grey
    off, r = restore_photo(
        img, detect=False, descreen=False, inpaint=False, enhance=False, models=models
    )
    assert np.array_equal(off.pixels, img.pixels)
    assert {s["stage"]: s for s in r["stages"]}["descreen"]["reason"] == "switched off"
    # the same through `restore photo`, with and without --no-descreen
    src = tmp_path / "silk.png"
    write_image(src, img)
    for flag, ran in (([], True), (["--no-descreen"], False)):
        out, rep = tmp_path / f"out{ran}.png", tmp_path / f"r{ran}.json"
        args = ["photo", str(src), "-o", str(out), "--report", str(rep), "--no-detect", *flag]
        assert main([*args, *_args(models)]) == 0
        stages = {s["stage"]: s for s in json.loads(rep.read_text())["stages"]}
        assert stages["descreen"]["ran"] is ran


@pytest.mark.parametrize("kind", ["gray", "rgba", "16bit"])
def test_image_kinds_are_kept(kind, models, tmp_path):
    rng = np.random.default_rng(1)
    if kind == "gray":
        arr, suffix = (rng.random((40, 36)) * 255).astype(np.uint8), ".png"
    elif kind == "rgba":
        arr, suffix = (rng.random((40, 36, 4)) * 255).astype(np.uint8), ".png"
    else:
        arr, suffix = (rng.random((40, 36, 3)) * 65535).astype(np.uint16), ".png"
    src, dst = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    write_image(src, arr)
    assert main(["photo", str(src), "-o", str(dst), *_args(models)]) == 0
    a, b = read_image(src), read_image(dst)
    assert b.size == a.size and b.grayscale == a.grayscale and b.bit_depth == a.bit_depth
    assert (b.alpha is None) == (a.alpha is None)
    if kind == "rgba":
        assert np.array_equal(a.alpha, b.alpha)


def test_bad_input_fails_cleanly(models, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    out = tmp_path / "out.png"
    assert main(["photo", str(bad), "-o", str(out), *_args(models)]) == 1
    assert "error" in capsys.readouterr().err and not out.exists()
    assert main(["photo", str(tmp_path / "missing.jpg"), "-o", str(out)]) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]  # no partial or temporary file left


def test_refuses_to_overwrite_input_and_bad_mask(photo, models, tmp_path, capsys):
    before = photo.read_bytes()
    assert main(["photo", str(photo), "-o", str(photo), *_args(models)]) == 1
    assert photo.read_bytes() == before
    small = tmp_path / "small.png"
    write_image(small, np.zeros((8, 8), np.uint8))
    out = tmp_path / "o.png"
    assert main(["photo", str(photo), "-o", str(out), "--mask", str(small), *_args(models)]) == 1
    assert "does not match" in capsys.readouterr().err and not out.exists()


def test_missing_optional_model_is_skipped_with_warning(photo, models, tmp_path, monkeypatch):
    import restore.models as M

    monkeypatch.setattr(M, "WEIGHTS_DIR", tmp_path / "nothing")  # nothing shipped
    clear_model_cache()
    pr = PhotoRestorer(models=models, colorize=True, upscale=2, device="cpu")
    y, r = pr.restore_tensor(torch.rand(1, 3, 32, 32))
    stages = {s["stage"]: s for s in r["stages"]}
    assert not stages["colorize"]["ran"] and not stages["upscale"]["ran"]
    assert any("colorize" in w for w in r["warnings"]) and y.shape == (1, 3, 32, 32)
    # the inpaint model missing -> the classical stand-in, said in the report
    assert stages["inpaint"]["ran"] is False or "cv2" in stages["inpaint"]["model"]
    with pytest.raises(Exception, match="not shipped"):
        PhotoRestorer(device="cpu")  # the damage detector is required


def test_raw_mask_is_the_mirror_mean_map_at_the_pipelines_threshold(models):
    """PhotoRestorer.raw_mask: the detector's full-size map averaged over the restorer's mirror
    views, cut at its threshold, and nothing else (no growing, no half size)."""
    from restore.photo.scales import flip_average

    x = torch.rand(1, 3, 40, 48, generator=torch.Generator().manual_seed(0))
    for flips, threshold in ((4, None), (2, 0.3), (1, None)):
        pr = PhotoRestorer(models=models, device="cpu", detect_flips=flips, threshold=threshold)
        with torch.no_grad():
            want = (flip_average(pr.models["detect"], x, flips)[:, :1] > pr.threshold).float()
            got = pr.raw_mask(x)
        assert got.shape == (1, 1, 40, 48) and torch.equal(got, want)
    assert pr.threshold == 0.5 and PhotoRestorer(models=models, device="cpu").threshold == 0.4


def test_cv2_inpaint_keeps_known_pixels():
    x = torch.rand(2, 3, 16, 16)
    m = torch.zeros(2, 1, 16, 16)
    m[..., 4:6, :] = 1
    y = cv2_inpaint(x, m)
    assert torch.equal(y[..., :4, :], x[..., :4, :]) and y.shape == x.shape


def test_photo_restorer_is_an_image_model(models):
    import restore.api

    if not hasattr(restore.api, "call_model"):
        pytest.skip("restore.api.call_model not available in this checkout")
    pr = PhotoRestorer(models=models, device="cpu")
    gray = (np.random.default_rng(2).random((40, 30)) * 255).astype(np.uint8)
    out = pr(gray)
    assert out.shape == gray.shape and out.dtype == np.uint8
    assert pr.scale == 1 and not pr.output_rgb and pr.accepts("mask")
    y = pr.run_tensor(torch.rand(2, 3, 24, 24), mask=torch.zeros(2, 1, 24, 24))
    assert y.shape == (2, 3, 24, 24)


def test_shipped_models_on_the_sample_photo():
    """The shipped detector finds the sample's synthetic damage; the pipeline removes fading."""
    from restore.models import available
    from restore.photo import read_mask
    from restore.tasks.damage import binarize, mask_scores

    if not {"damage", "enhance"} <= set(available()):
        pytest.skip("damage / enhance weights not shipped in this installation")
    repo = Path(__file__).resolve().parents[1]
    img = read_image(repo / "assets" / "old_photo.jpg")
    crop = (..., slice(200, 392), slice(200, 392))
    x = torch.from_numpy(img.pixels).permute(2, 0, 1)[None].float().div(255)[crop]
    gt = read_mask(repo / "assets" / "old_photo_mask.png", img.size)[crop]
    pr = PhotoRestorer(device="cpu")
    m = binarize(pr.models["detect"].run_tensor(x), pr.threshold)
    assert mask_scores(m, gt)["iou"] > 0.5
    # the whole print: its tone is judged on the whole photo (restore.photo.global_tone)
    x = torch.from_numpy(img.pixels).permute(2, 0, 1)[None].float().div(255)
    y, report = pr.restore_tensor(x)
    ran = [s["stage"] for s in report["stages"] if s["ran"]]
    assert ran == ["detect", "inpaint", "enhance", "tone"]
    assert report["tones"][0]["kind"] == "toned"  # the sample is a sepia print
    gray = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    lum_x, lum_y = (x * gray).sum(1), (y * gray).sum(1)
    # the faded print gets its contrast back (the clean photo has 1.19 x the sample's spread)
    assert float(lum_y.std()) > 1.1 * float(lum_x.std())


# ------------------------------------------------------------------------------- tone rules

REPO = Path(__file__).resolve().parents[1]


def _needs(*names: str) -> None:
    from restore.models import available

    missing = sorted(set(names) - set(available()))
    if missing:
        pytest.skip(f"{missing} not shipped in this installation")


def _tensor(px: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(px)).permute(2, 0, 1)[None].float() / 255


def _off_grey(px: np.ndarray) -> int:
    """max |R - G|, |G - B| in levels."""
    d = px.astype(np.int32)
    return int(max(np.abs(d[..., 0] - d[..., 1]).max(), np.abs(d[..., 1] - d[..., 2]).max()))


def _hue_gap(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def sepia_crop() -> np.ndarray:
    """96 x 128 of the sample photo: a sepia print with synthetic scratches (a toned photo)."""
    return read_image(REPO / "assets" / "old_photo.jpg").pixels[200:296, 200:328].copy()


@pytest.fixture(scope="module")
def grey_crop(sepia_crop) -> np.ndarray:
    luma = sepia_crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(np.round(luma).astype(np.uint8)[..., None], 3, axis=2)


def _scanned_grey_jpeg(grey: np.ndarray, tmp_path: Path) -> np.ndarray:
    """A grey print scanned in colour: +-2 levels of independent channel noise, JPEG q95 4:4:4."""
    noise = np.random.default_rng(0).integers(-2, 3, grey.shape)
    p = tmp_path / "scan.jpg"
    scan = PIL.Image.fromarray(np.clip(grey + noise, 0, 255).astype(np.uint8))
    scan.save(p, quality=95, subsampling=0)
    px = read_image(p).pixels
    assert _off_grey(px) > 0  # not exactly grey as it comes in
    return px


def _colour_photo(h: int = 96, w: int = 128) -> np.ndarray:
    """A smooth multi-hue picture: hue across, brightness down."""
    import colorsys

    hue = np.linspace(0, 1, w, endpoint=False)
    val = np.linspace(0.35, 0.95, h)
    rgb = np.array([[colorsys.hsv_to_rgb(hh, 0.6, v) for hh in hue] for v in val])
    return np.round(rgb * 255).astype(np.uint8)


def test_grey_in_exactly_grey_out_on_shipped_models(grey_crop, tmp_path):
    """R = G = B exactly, for a grey photo and a colour-scanned grey JPEG, also after x2 SR."""
    _needs("damage", "inpaint", "enhance")
    scanned = _scanned_grey_jpeg(grey_crop, tmp_path)
    for px, upscale in ((grey_crop, None), (scanned, None), (grey_crop, 2)):
        if upscale:
            _needs("sr-x2")
        out, rep = restore_photo(px, upscale=upscale, device="cpu")
        assert rep["tone"]["kind"] == "grey" and rep["tone"]["action"] == "made grey (R = G = B)"
        assert out.pixels.shape == (96 * (upscale or 1), 128 * (upscale or 1), 3)
        assert _off_grey(out.pixels) == 0
        assert {s["stage"]: s for s in rep["stages"]}["tone"]["ran"]
        if upscale is None:
            assert np.abs(out.pixels.astype(int) - px).mean() > 1  # the models did change it


@pytest.mark.parametrize("kind", ["sepia", "cyanotype"])
def test_toned_print_keeps_its_tone_on_shipped_models(kind, sepia_crop, grey_crop):
    """Hue within 3 degrees (CIELAB h_ab), chroma per luminance within 3 levels on average;
    tone="neutral" gives exact grey."""
    _needs("damage", "inpaint", "enhance")
    if kind == "sepia":
        px = sepia_crop
    else:  # iron-blue: blue shadows and mid-tones, paler highlights
        g = grey_crop[..., :1].astype(np.float32) / 255
        cyan = g * np.array([0.55, 0.8, 1.0]) + np.array([0.0, 0.05, 0.1])
        px = np.round(np.clip(cyan, 0, 1) * 255).astype(np.uint8)
    steps: dict = {}
    out, rep = restore_photo(px, device="cpu", steps=steps)
    t_in = measure_tone(_tensor(px), steps["mask"])[0]  # the tone of the undamaged pixels
    t_out = measure_tone(_tensor(out.pixels))[0]
    assert rep["tone"]["kind"] == "toned" and rep["tone"]["action"] == "tone kept"
    assert rep["tone"]["hue_deg"] == round(t_in.hue, 2)
    assert t_out.kind == "toned" and _hue_gap(t_in.hue, t_out.hue) <= 3.0
    # the chroma of each luminance the output has is the input's at that luminance
    lum = (_tensor(out.pixels) * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1)
    used = torch.bincount((lum.flatten() * 32).long().clamp(0, 31), minlength=32) > 20
    gap = (t_in.curve - t_out.curve).abs().amax(0)[used].mean() * 255
    assert gap <= 3.0, gap
    assert (60 <= t_in.hue <= 100) if kind == "sepia" else (200 <= t_in.hue <= 280)

    grey, rep = restore_photo(px, tone="neutral", device="cpu")
    assert rep["tone"]["action"] == "made neutral grey (tone='neutral')"
    assert _off_grey(grey.pixels) == 0


def test_colorize_skips_a_colour_photo_unless_forced(grey_crop, caplog):
    _needs("damage", "inpaint", "enhance", "colorize")
    colour = _colour_photo()
    plain, rep = restore_photo(colour, device="cpu")
    assert rep["tone"]["kind"] == "colour" and rep["tone"]["colorize"] == "off"
    with caplog.at_level("WARNING", logger="restore.photo"):
        out, rep = restore_photo(colour, colorize=True, device="cpu")
    stages = {s["stage"]: s for s in rep["stages"]}
    assert not stages["colorize"]["ran"] and stages["colorize"]["reason"] == COLOUR_SKIP
    assert rep["tone"]["colorize"] == COLOUR_SKIP and "already has colour" in caplog.text
    assert rep["warnings"] == [f"colorize: {COLOUR_SKIP}"]
    assert np.array_equal(out.pixels, plain.pixels)  # its own colours, untouched by colorize

    forced, rep = restore_photo(colour, colorize="force", device="cpu")
    assert {s["stage"]: s for s in rep["stages"]}["colorize"]["ran"]
    assert rep["tone"]["colorize"] == "forced" and rep["tone"]["action"] == "colorized"
    assert np.abs(forced.pixels.astype(int) - plain.pixels).mean() > 2

    coloured, rep = restore_photo(grey_crop, colorize=True, device="cpu")  # grey: coloured
    assert rep["tone"]["kind"] == "grey" and rep["tone"]["colorize"] == "ran"
    assert _off_grey(coloured.pixels) > 10


def test_colour_options_are_checked(models):
    img = np.zeros((16, 16, 3), np.uint8)
    for bad in ({"colorize": "yes"}, {"colorize": 1}, {"tone": "sepia"}, {"tone": None}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            restore_photo(img, models=models, device="cpu", **bad)
        with pytest.raises(ValueError, match=next(iter(bad))):
            PhotoRestorer(models=models, device="cpu", **bad)
    parse = build_parser().parse_args
    assert parse(["photo", "a.png", "-o", "b.png"]).colorize is False
    assert parse(["photo", "a.png", "-o", "b.png", "--colorize"]).colorize is True
    assert parse(["photo", "a.png", "-o", "b.png", "--colorize", "force"]).colorize == "force"
    assert parse(["photo", "a.png", "-o", "b.png"]).tone == "keep"
    with pytest.raises(SystemExit):
        parse(["photo", "a.png", "-o", "b.png", "--colorize", "always"])


def test_cli_tone_on_random_models(sepia_crop, models, tmp_path, capsys):
    """Whatever colour random-weight models make, the tone rules hold; the report says so."""
    src, out, rep = tmp_path / "sepia.png", tmp_path / "out.png", tmp_path / "r.json"
    write_image(src, sepia_crop)
    assert main(["photo", str(src), "-o", str(out), "--report", str(rep), *_args(models)]) == 0
    r = json.loads(rep.read_text())
    assert r["tone"]["kind"] == "toned" and r["tone"]["action"] == "tone kept"
    assert "tone: toned, tone kept" in capsys.readouterr().out
    t_in, t_out = (measure_tone(_tensor(read_image(p).pixels))[0] for p in (src, out))
    assert t_out.kind == "toned" and _hue_gap(t_in.hue, t_out.hue) <= 3.0
    argv = ["photo", str(src), "-o", str(out), "--tone", "neutral", "--report", str(rep)]
    assert main([*argv, *_args(models)]) == 0
    assert _off_grey(read_image(out).pixels) == 0
    assert json.loads(rep.read_text())["tone"]["action"] == "made neutral grey (tone='neutral')"
    # mono: a sepia print with a blue-green stain over a fifth of it is a colour photo to the
    # default rules; taken for one tone, the stain's colour goes and the sepia stays
    stained = sepia_crop.copy()
    h, w = stained.shape[:2]
    g = stained[: h // 2, : w * 2 // 5].astype(np.float32).mean(-1, keepdims=True)
    stained[: h // 2, : w * 2 // 5] = np.clip(g * np.array([0.7, 1.1, 1.2]), 0, 255).round()
    write_image(src, stained)
    assert main(["photo", str(src), "-o", str(out), "--report", str(rep), *_args(models)]) == 0
    assert json.loads(rep.read_text())["tone"]["kind"] == "colour"
    argv = ["photo", str(src), "-o", str(out), "--tone", "mono", "--report", str(rep)]
    assert main([*argv, *_args(models)]) == 0
    r = json.loads(rep.read_text())["tone"]
    assert (
        r["kind"] == "toned"
        and r["action"] == "colour rebuilt from its dominant tone (tone='mono')"
    )
    t_in, t_out = (measure_tone(_tensor(read_image(p).pixels))[0] for p in (src, out))
    assert t_in.kind == "colour" and t_out.kind == "toned"
    clean = measure_tone(_tensor(sepia_crop))[0]
    assert _hue_gap(clean.hue, t_out.hue) <= 3.0
    # a grayscale file stays a one-channel file, grey
    write_image(src, sepia_crop[..., 1])
    assert main(["photo", str(src), "-o", str(out), *_args(models)]) == 0
    assert read_image(out).grayscale


def test_mono_lifts_a_stain_before_the_models(sepia_crop, models):
    """A brown stain that spares red over a fifth of a sepia print: with tone='mono' the photo
    the whole-image models get has the print's luma back under it; by default it is untouched."""
    clean = _tensor(sepia_crop)
    stained = clean.clone()
    stained[..., :48, :52] = (
        clean[..., :48, :52] * torch.tensor([1.0, 0.8, 0.55]).view(3, 1, 1)
    ).mul(255).round() / 255
    none = torch.zeros(1, 1, *clean.shape[-2:])  # no damage: the stage alone
    steps: dict[str, torch.Tensor] = {}
    _, rep = PhotoRestorer(models=models, device="cpu", tone="mono").restore_tensor(
        stained, none, steps
    )
    stage = {s["stage"]: s for s in rep["stages"]}["stains"]
    assert stage["ran"] and 0.15 < stage["lifted_share"][0] < 0.35
    core = (slice(None), slice(None), slice(6, 42), slice(6, 46))
    err = {
        k: float((rgb_to_gray(v[core]) - rgb_to_gray(clean[core])).abs().mean() * 255)
        for k, v in (("in", stained), ("lifted", steps["stains"]))
    }
    assert err["in"] > 15 and err["lifted"] < 3, err
    far = (slice(None), slice(None), slice(60, None), slice(70, None))
    lift = (rgb_to_gray(steps["stains"][far]) - rgb_to_gray(stained[far])) * 255
    assert float(lift.max()) < 1.5  # the tone measured again without the stain (else ~5)
    _, rep = PhotoRestorer(models=models, device="cpu").restore_tensor(stained, none)
    assert {s["stage"]: s for s in rep["stages"]}["stains"] == {
        "stage": "stains",
        "ran": False,
        "reason": "only with tone='mono'",
    }


def test_restore_images_batches_and_reports_each(sepia_crop, grey_crop, models):
    pr = PhotoRestorer(models=models, device="cpu")
    imgs = [Image.from_array(a) for a in (sepia_crop, grey_crop, _colour_photo(), grey_crop[:64])]
    done = pr.restore_images(imgs)
    assert [r["tone"]["kind"] for _, r in done] == ["toned", "grey", "colour", "grey"]
    for (out, r), img in zip(done, imgs):  # the same as one at a time (to float rounding)
        alone, r1 = pr.restore_image(img)
        assert np.abs(out.pixels.astype(int) - alone.pixels).max() <= 1
        assert r["tone"]["action"] == r1["tone"]["action"]
    assert _off_grey(done[1][0].pixels) == 0 and _off_grey(done[3][0].pixels) == 0


class _Warming:
    """An enhance model that warms every photo: red +0.06, blue -0.06."""

    def run_tensor(self, x):
        return (x + torch.tensor([0.06, 0.0, -0.06]).view(1, 3, 1, 1).to(x)).clamp(0, 1)


def test_a_colour_photo_keeps_its_colour_balance_unless_fix_casts(photo, models, tmp_path):
    x = _tensor(_colour_photo())
    opts = dict(detect=False, device="cpu", models={**models, "enhance": _Warming()})

    def red_minus_blue(y):
        return float((y[:, 0] - y[:, 2]).mean()) * 255

    kept, r = PhotoRestorer(**opts).restore_tensor(x)
    assert r["tones"][0]["kind"] == "colour"
    assert abs(red_minus_blue(kept) - red_minus_blue(x)) < 1.0  # within a level: no cast added
    fixed, _ = PhotoRestorer(**opts, fix_casts=True).restore_tensor(x)
    assert red_minus_blue(fixed) - red_minus_blue(x) > 20.0  # the model's cast, ~30 levels
    out = tmp_path / "fixed.png"
    assert main(["photo", str(photo), "-o", str(out), "--fix-casts", *_args(models)]) == 0
    assert out.exists()


class _CornerBiased:
    """A detector with a false alarm that is not mirror-symmetric: it marks a 4 x 4 patch near the
    top-left corner of whatever it is shown (off the print's edge band), and the photo's bright
    scratch."""

    def run_tensor(self, x):
        p = (x.mean(1, keepdim=True) > 0.95).to(x)
        p[..., 10:14, 10:14] = 1.0
        return p


def test_detect_flips_average_the_detectors_views(models):
    from restore.photo.scales import FLIP_THRESHOLD, FLIPS

    x = torch.full((1, 3, 64, 96), 0.4)
    x[..., 30:32, 20:80] = 1.0  # a white scratch
    opts = dict(device="cpu", models={**models, "detect": _CornerBiased()}, protect_faces=False)
    opts.update(detect_half_size=False, detect_corners=False, dilate=0)
    scratch = 2 * 60

    def mask(**kw):
        return PhotoRestorer(**opts, **kw).detect_mask(x)

    one = mask(detect_flips=1)  # the card's threshold (0.5): the false alarm is kept
    assert PhotoRestorer(**opts, detect_flips=1).threshold == 0.5
    assert bool(one[..., 10:14, 10:14].all()) and int(one.sum()) == scratch + 16
    # the default: four views, each seeing the patch in another corner (0.25 there), threshold 0.4
    assert FLIPS == 4 and PhotoRestorer(**opts).threshold == FLIP_THRESHOLD == 0.4
    four = mask()
    assert bool(four[..., 30:32, 20:80].all()) and int(four.sum()) == scratch
    # two views: 0.5 in the top-left and top-right corners, kept at 0.4, dropped at 0.5
    assert int(mask(detect_flips=2).sum()) == scratch + 2 * 16
    assert int(mask(detect_flips=2, threshold=0.5).sum()) == scratch
    with pytest.raises(ValueError, match="detect_flips"):
        PhotoRestorer(**opts, detect_flips=3)
    with pytest.raises(ValueError, match="detect_scan_flips"):
        PhotoRestorer(**opts, detect_scan_flips=3)


def test_dilate_grows_everywhere_and_like_follows_the_scratch(models):
    # a 4-px white scratch on grey; the detector marks rows 31-32 of it (rows 30-33)
    x = torch.full((1, 3, 64, 96), 0.4)
    x[..., 30:34, 20:80] = 1.0

    class Core:
        def run_tensor(self, t):
            p = torch.zeros_like(t[:, :1])
            p[..., 31:33, 20:80] = 1.0
            return p

    opts = dict(device="cpu", models={**models, "detect": Core()}, protect_faces=False)
    opts.update(detect_half_size=False, detect_corners=False, detect_flips=1)

    def rows(**kw):
        return PhotoRestorer(**opts, **kw).detect_mask(x)[0, 0, :, 50].nonzero().flatten().tolist()

    assert PhotoRestorer(**opts).dilate == 1  # the card's
    assert rows() == [30, 31, 32, 33]  # 1 px either side of the core: here the scratch
    assert rows(dilate=2) == [29, 30, 31, 32, 33, 34]  # 2 px either side, whatever is there
    assert rows(dilate="like") == [30, 31, 32, 33]  # the scratch's width, nothing around it
    assert rows(dilate=0) == [31, 32]
    for bad in (-1, 1.5, True, "wide"):
        with pytest.raises(ValueError, match="dilate"):
            PhotoRestorer(**opts, dilate=bad)


class _WhiteLine:
    """A detector that marks exactly the white pixels (> 0.95), its map on three channels as the
    damage model's."""

    def run_tensor(self, x):
        return (x.mean(1, keepdim=True) > 0.95).to(x).expand(-1, 3, -1, -1)


def _white_line_restorer(models, **kw) -> PhotoRestorer:
    """restore photo with the white-line detector at full size only, one view, no faces or coarse."""
    opts = dict(protect_faces=False, detect_half_size=False, detect_coarse=None, detect_flips=1)
    return PhotoRestorer(device="cpu", models={**models, "detect": _WhiteLine()}, **opts, **kw)


@pytest.mark.parametrize(
    ("width", "given", "grown"), [(600, None, 1), (2200, None, 2), (2200, 1, 1)]
)
def test_the_mask_grows_with_the_photo_unless_told(models, width, given, grown):
    """The card's 1 px of growth is for photos up to about 1024 px: a 2200-px wide photo grows
    its mask 2 px (restore.photo.growth.scaled_dilate); a given ``dilate`` is kept as given."""
    x = torch.full((1, 3, 64, width), 0.4)
    x[..., 32, 50 : width - 50] = 1.0  # a 1-px white scratch
    pr = _white_line_restorer(models, detect_corners=False, detect_lines=False, dilate=given)
    m = pr.detect_mask(x)[0, 0]
    col = m[:, width // 2]
    assert col.nonzero().flatten().tolist() == list(range(32 - grown, 33 + grown))


def test_full_size_only_detection_runs_with_every_rule(models):
    """``detect_half_size=False`` with the long-line rule and the grey look on: the detector's map
    (three channels) is cut to one before the rules see it (it raised a shape error)."""
    x = torch.full((1, 3, 96, 128), 0.4)
    x[..., 48, 10:118] = 1.0  # a long white scratch
    m = _white_line_restorer(models).detect_mask(x)
    assert m.shape == (1, 1, 96, 128)
    assert m[0, 0, 47:50, 20:108].all() and not m[0, 0, :40].any()


def test_the_report_says_how_far_the_mask_grew_and_how_the_detector_saw_each_photo(models):
    """The detect stage's report: the growth used (scaled with the photo) and, per photo, the
    gain a dim print was shown to the detector with (restore.photo.levels.paper_gain)."""
    from restore.photo.levels import paper_gain

    dim = torch.full((1, 3, 64, 2200), 0.3)
    dim[..., 32, 50:2150] = 0.6  # a dim print's scratch: its paper at 0.6
    bright = dim * 1.6  # the same print scanned with its paper white
    x = torch.cat([dim, bright])
    pr = _white_line_restorer(models, detect_corners=False, detect_lines=False)
    with torch.no_grad():
        _, report = pr.restore_tensor(x)
    detect = next(s for s in report["stages"] if s["stage"] == "detect")
    gain = float(paper_gain(dim)[0])
    assert gain == pytest.approx(1 / 0.6, rel=1e-4)
    assert detect["grown_px"] == 2 and detect["brightened"] == [round(gain, 3), 1.0]
    # the dim print's scratch is found only because the detector saw it brightened
    assert report["damaged_fraction"] > 0
    off = _white_line_restorer(
        models, detect_corners=False, detect_lines=False, detect_levels=False
    )
    with torch.no_grad():
        mask = off.detect_mask(dim)
    assert not mask.any()
    assert "brightened" not in next(s for s in off.restore_tensor(dim)[1]["stages"])
