"""The face task: split, batches (shapes, ranges, tone, seeding), options, a few training steps,
the predictor on aligned crops and on whole photos, and ``restore photo --faces`` end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from restore.config import load_config
from restore.errors import ConfigError
from restore.faces.paste import is_grey
from restore.tasks.face import FaceOptions, degrade_faces, face_split, jitter_faces
from restore.train import train

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "configs" / "face.yaml"


@pytest.fixture(scope="module")
def face_dir(tmp_path_factory) -> Path:
    """Twelve 40x40 'faces' (smooth blobs), PNG, named so the split is known."""
    from restore.data.io import Image, write_image

    d = tmp_path_factory.mktemp("faces")
    g = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:40]
    for i in range(12):
        base = 120 + 80 * np.exp(-((xx - 20) ** 2 + (yy - 18) ** 2) / (60 + 5 * i))
        a = np.stack([base, base * 0.9, base * 0.8], -1) + g.normal(0, 3, (40, 40, 3))
        write_image(d / f"{i:02d}.png", Image.from_array(a.clip(0, 255).astype(np.uint8)))
    return d


FACE_BOX = (90, 40, 120, 110)  # where scene() pastes the face: x, y, w, h


def scene() -> np.ndarray:
    """scikit-image's astronaut's face pasted (grey) at FACE_BOX into a noisy grey 240 x 180 field
    (as tests/faces/test_detect.py)."""
    skdata = pytest.importorskip("skimage.data")
    face = skdata.astronaut()[60:170, 165:285].astype(np.float32) @ np.array([0.299, 0.587, 0.114])
    y = np.random.default_rng(0).normal(128, 20, (180, 240)).clip(0, 255)
    x0, y0, w, h = FACE_BOX
    y[y0 : y0 + h, x0 : x0 + w] = face
    return np.repeat((y + 0.5).clip(0, 255).astype(np.uint8)[..., None], 3, 2)


def tiny_cfg(face_dir: Path, out: Path, *extra: str):
    return load_config(
        RECIPE,
        [
            "name=face_tiny",
            f"data.train={face_dir}",
            "data.batch_size=2",
            "task_args.size=32",
            "task_args.holdout=3",
            "task_args.val_images=2",
            "model.generator_args.base_channels=4",
            "model.generator_args.depth=3",
            "model.generator_args.max_channels=8",
            "train.steps=4",
            "train.gan_start=2",
            "train.log_every=2",
            "train.val_every=2",
            "train.sample_every=4",
            "train.ckpt_every=4",
            "optim.warmup_steps=1",
            f"train.out_dir={out}",
            *extra,
        ],
    )


def test_split_is_fixed_and_disjoint(face_dir):
    s = face_split(face_dir, holdout=3, val=2)
    assert [p.name for p in s["test"]] == ["09.png", "10.png", "11.png"]
    assert [p.name for p in s["val"]] == ["07.png", "08.png"]
    assert len(s["train"]) == 7 and not set(s["train"]) & (set(s["val"]) | set(s["test"]))
    with pytest.raises(ConfigError, match="need more than holdout"):
        face_split(face_dir, holdout=10, val=2)


def test_options_are_checked():
    with pytest.raises(ConfigError, match="size"):
        FaceOptions(size=100)
    with pytest.raises(ConfigError, match="min_scale"):
        FaceOptions(min_scale=5.0, max_scale=4.0)
    with pytest.raises(ConfigError, match="jpeg_range"):
        FaceOptions(jpeg_range=(0.0, 50.0))


def test_degradation_is_seeded_in_range_and_keeps_grey():
    x = torch.rand(4, 1, 32, 32).expand(-1, 3, -1, -1).contiguous()  # grey faces
    opts = FaceOptions(size=32)
    a = degrade_faces(x, torch.Generator().manual_seed(3), opts)
    b = degrade_faces(x, torch.Generator().manual_seed(3), opts)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    damaged, target = a
    assert damaged.shape == target.shape == x.shape
    assert 0 <= float(damaged.min()) and float(damaged.max()) <= 1
    assert not torch.equal(damaged, target)
    # a B&W print's target is grey; a toned one keeps one tone for input and target alike
    assert float((damaged - target).abs().mean()) > 0.005
    assert jitter_faces(x, 0.0, torch.Generator()) is x


def test_trains_and_restores_crops_and_photos(face_dir, tmp_path):
    res = train(tiny_cfg(face_dir, tmp_path))
    run = tmp_path / "face_tiny"
    assert res.step == 4 and (run / "model.safetensors").is_file()
    header = (run / "log.csv").read_text().splitlines()[0].split(",")
    assert {"g_pixel", "val_psnr", "val_psnr_input", "d_loss"} <= set(header)

    import restore

    r = restore.load(run, device="cpu")
    assert r.card["task"] == "face" and r.card["runtime"]["inference"]["size"] == 32
    crops = torch.rand(2, 3, 32, 32)
    out = r.run_tensor(crops, aligned=True)
    assert out.shape == crops.shape and 0 <= float(out.min()) and float(out.max()) <= 1
    grey = crops[:, :1].expand(-1, 3, -1, -1)
    assert bool(is_grey(r.run_tensor(grey, aligned=True)).all())
    with pytest.raises(ValueError, match="32x32"):
        r.run_tensor(torch.rand(1, 3, 48, 48), aligned=True)
    photo = torch.rand(1, 3, 50, 70)  # noise: no face found, the photo comes back unchanged
    assert torch.equal(r.run_tensor(photo), photo)


def test_photo_faces_flag_end_to_end(face_dir, tmp_path, capsys):
    """``restore photo --faces`` with a tiny face model: the face is found, restored near the
    face only, reported, and a grey photo stays grey."""
    import json

    from restore.cli import main
    from restore.data.io import Image, read_image, write_image

    train(tiny_cfg(face_dir, tmp_path))
    run = tmp_path / "face_tiny"
    src, dst, rep = tmp_path / "in.png", tmp_path / "out.png", tmp_path / "report.json"
    write_image(src, Image.from_array(scene()))
    args = [str(src), "-o", str(dst), "--report", str(rep), "--faces", "--no-detect"]
    args += ["--no-inpaint", "--no-enhance", "--model", f"faces={run}", "--device", "cpu"]
    assert main(["photo", *args]) == 0
    assert "faces: 1 found" in capsys.readouterr().out
    report = json.loads(rep.read_text())
    assert [s["found"] for s in report["stages"] if s["stage"] == "faces"] == [1]
    assert len(report["faces"][0]) == 1
    before, after = read_image(src).pixels, read_image(dst).pixels
    assert after.shape == before.shape
    assert (after[..., 0] == after[..., 1]).all() and (after[..., 1] == after[..., 2]).all()
    x0, y0, w, h = FACE_BOX
    changed = np.argwhere((after != before).any(-1))
    assert len(changed) > 0
    assert changed[:, 1].min() >= x0 - 0.3 * w and changed[:, 1].max() <= x0 + 1.3 * w
    assert changed[:, 0].min() >= y0 - 0.3 * h and changed[:, 0].max() <= y0 + 1.3 * h


def test_faces_stage_without_a_model_is_skipped_with_a_warning(monkeypatch):
    import restore.photo.pipeline as pipeline
    from restore.photo import PhotoRestorer

    # as on an install whose face model is missing
    monkeypatch.setattr(
        pipeline,
        "DEFAULT_MODELS",
        {k: v for k, v in pipeline.DEFAULT_MODELS.items() if k != "faces"},
    )
    pr = PhotoRestorer(detect=False, inpaint=False, enhance=False, faces=True, device="cpu")
    assert "faces" not in pr.models
    assert any(w.startswith("faces: skipped, no faces model is shipped") for w in pr.warnings)
    x = torch.rand(1, 3, 16, 16)
    y, report = pr.restore_tensor(x)
    assert torch.equal(y, x) and "faces" not in report
    faces = [s for s in report["stages"] if s["stage"] == "faces"]
    assert faces == [{"stage": "faces", "ran": False, "reason": "model not available"}]


def test_shipped_face_model_holds_its_card_numbers(shared_data):
    """The shipped ``face`` model on the first 10 held-out faces (held-out face protocol)
    reproduces its per-face PSNR in the card's detail file (docs/metrics/face-relay.json) and beats
    bicubic on them."""
    import json

    import restore
    from restore.eval.face_protocol import aligned_method, face_scores
    from restore.tasks.face import read_face

    card = restore.load("face", device="cpu")
    detail = json.loads((REPO / card.card["metrics"]["detail"]).read_text())
    paths = face_split(shared_data / "faces" / "utkface_200")["test"][:10]
    method = aligned_method(lambda x: card.run_tensor(x, aligned=True))
    res = face_scores({"face": method}, [(p.name, read_face(p, 128)) for p in paths])
    for got, want in zip(res["rows"], detail["rows"][:10], strict=True):
        assert got["image"] == want["image"]
        assert got["bicubic_psnr"] == pytest.approx(want["bicubic_psnr"], abs=1e-3)
        assert got["face_psnr"] == pytest.approx(want["face_psnr"], abs=0.05)
    want_gain = sum(r["face_psnr"] - r["bicubic_psnr"] for r in detail["rows"][:10]) / 10
    assert res["summary"]["face_gain_over_bicubic_db"] == pytest.approx(want_gain, abs=0.05)
    assert res["summary"]["face_gain_over_bicubic_db"] > 0.5


def test_face_strength_is_checked_and_reaches_the_stage(face_dir, tmp_path, capsys):
    from restore.cli import main
    from restore.data.io import Image, read_image, write_image
    from restore.photo import PhotoRestorer

    with pytest.raises(ValueError, match="face_strength"):
        PhotoRestorer(detect=False, inpaint=False, enhance=False, face_strength=1.5)
    train(tiny_cfg(face_dir, tmp_path))
    src = tmp_path / "in.png"
    write_image(src, Image.from_array(scene()))
    base = [str(src), "--faces", "--no-detect", "--no-inpaint", "--no-enhance", "--device", "cpu"]
    base += ["--model", f"faces={tmp_path / 'face_tiny'}"]
    outs = {}
    for s in ("1", "0.5", "0"):
        dst = tmp_path / f"out_{s}.png"
        assert main(["photo", *base, "-o", str(dst), "--face-strength", s]) == 0
        outs[s] = read_image(dst).pixels.astype(np.int32)
    before = read_image(src).pixels.astype(np.int32)
    change = {s: np.abs(o - before).sum() for s, o in outs.items()}
    assert change["0"] < change["0.5"] < change["1"]  # less of the model's change kept
    assert main(["photo", *base, "-o", str(tmp_path / "bad.png"), "--face-strength", "2"]) != 0
    assert "face_strength must be in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "bad.png").exists()
