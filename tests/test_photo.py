"""`restore photo` and restore.photo: stages, overrides, outputs, image kinds, errors.

Runs on tiny random-weight models written to a temporary folder (the pipeline's behaviour, not
the shipped models' quality, is under test here; scripts/eval_photo.py measures that).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from restore.cli import main
from restore.config import Config, from_dict
from restore.data.io import read_image, write_image
from restore.photo import PhotoRestorer, cv2_inpaint, restore_photo
from restore.tasks import create_task
from restore.train import export_weights

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
    import restore.photo

    monkeypatch.setattr(M, "WEIGHTS_DIR", tmp_path / "nothing")  # nothing shipped
    restore.photo._load_cached.cache_clear()
    pr = PhotoRestorer(models=models, colorize=True, upscale=2, device="cpu")
    y, r = pr.restore_tensor(torch.rand(1, 3, 32, 32))
    stages = {s["stage"]: s for s in r["stages"]}
    assert not stages["colorize"]["ran"] and not stages["upscale"]["ran"]
    assert any("colorize" in w for w in r["warnings"]) and y.shape == (1, 3, 32, 32)
    # the inpaint model missing -> the classical stand-in, said in the report
    assert stages["inpaint"]["ran"] is False or "cv2" in stages["inpaint"]["model"]
    with pytest.raises(Exception, match="not shipped"):
        PhotoRestorer(device="cpu")  # the damage detector is required


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
    y, report = pr.restore_tensor(x)
    assert [s["stage"] for s in report["stages"] if s["ran"]] == ["detect", "inpaint", "enhance"]
    assert float(y.std()) > 1.1 * float(x.std())  # the faded print gets its contrast back
