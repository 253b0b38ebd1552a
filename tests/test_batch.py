"""restore enhance / restore.batch: a folder of ~200 mixed files, resume after SIGKILL, reports,
masks, dry runs, in-place safety, and sharding across two torchrun (gloo) processes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
import torch.nn.functional as F

from restore.api import Restorer
from restore.batch import enhance_folder
from restore.batch_plan import output_path, plan
from restore.batch_report import REPORT_NAME
from restore.cli import main
from restore.errors import ConfigError
from restore.tasks.base import Predictor

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir) -> Path:
    return tiny_model_dir


def _sr2(tiny_model: Path) -> Restorer:
    """The tiny model followed by a x2 upsampling: a stand-in super-resolution model."""
    base = Restorer.from_pretrained(tiny_model, device="cpu")
    p = base.predictor

    def fn(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(p.fn(x), scale_factor=2, mode="nearest")

    card = {**base.card, "name": "toy-sr2", "task": "sr"}
    pred = Predictor(fn=fn, scale=2, multiple=p.multiple, halo=p.halo)
    return Restorer(pred, card, base.modules, device=torch.device("cpu"))


def _toy_inpaint() -> Restorer:
    def fn(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return x * (1 - mask) + 0.5 * mask

    card = {"name": "toy-inpaint", "task": "inpaint"}
    return Restorer(Predictor(fn=fn), card, {}, device=torch.device("cpu"))


def _save(im: PIL.Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _rgb(rng, h, w) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def make_mixed_folder(root: Path, n: int = 200, seed: int = 0) -> tuple[dict, set, set]:
    """~n files of every kind in nested folders.

    Returns:
        (good: rel -> (H, W, format, mode-ish) of the upright input, bad: rels, ignored: rels)
    """
    import cv2

    rng = np.random.default_rng(seed)
    good: dict[str, tuple[int, int, str, str]] = {}
    bad: set[str] = set()
    ignored: set[str] = set()
    kinds = [
        "png", "jpeg", "tiff", "bmp", "webp", "corrupt", "empty", "notimage", "png16", "tiff16",
        "rgba", "gray", "palette", "cmyk", "gif", "mtiff", "exif", "txt", "la", "truncjpg",
    ]  # fmt: skip
    folders = ["", "a", "a/b", "c/d/e"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        h, w = (int(v) for v in rng.integers(16, 41, 2))
        d = root / folders[i % len(folders)]
        d.mkdir(parents=True, exist_ok=True)
        stem = f"{kind}_{i:03d}"
        rgb = _rgb(rng, h, w)
        ext, data, info = None, None, None
        if kind in ("png", "jpeg", "tiff", "bmp", "webp"):
            ext = {"jpeg": ".jpg", "tiff": ".tif"}.get(kind, "." + kind)
            fmt = {"jpeg": "JPEG"}.get(kind, kind.upper())
            data, info = _save(PIL.Image.fromarray(rgb), fmt), (h, w, fmt, "RGB")
        elif kind == "corrupt":
            ext, data = ".png", _save(PIL.Image.fromarray(rgb), "PNG")[:40] + b"\x00garbage" * 8
        elif kind == "truncjpg":
            ext, data = ".jpg", _save(PIL.Image.fromarray(rgb), "JPEG")[:-200]
        elif kind == "empty":
            ext, data = ".jpg", b""
        elif kind == "notimage":
            ext, data = ".png", b"this is a text file, not a PNG\n" * 4
        elif kind == "txt":
            ext, data = ".txt", b"notes\n"
        elif kind == "png16":
            a = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16)
            ext, data, info = ".png", cv2.imencode(".png", a)[1].tobytes(), (h, w, "PNG", "RGB16")
        elif kind == "tiff16":
            a = rng.integers(0, 65536, (h, w), dtype=np.uint16)
            ext, data, info = ".tiff", cv2.imencode(".tiff", a)[1].tobytes(), (h, w, "TIFF", "L16")
        elif kind == "rgba":
            a = np.dstack([rgb, rng.integers(0, 256, (h, w), dtype=np.uint8)])
            ext, data, info = ".png", _save(PIL.Image.fromarray(a), "PNG"), (h, w, "PNG", "RGBA")
        elif kind == "la":
            a = rng.integers(0, 256, (h, w, 2), dtype=np.uint8)
            ext, data, info = (
                ".png",
                _save(PIL.Image.fromarray(a, "LA"), "PNG"),
                (h, w, "PNG", "LA"),
            )
        elif kind == "gray":
            im = PIL.Image.fromarray(rgb[..., 0])
            ext, data, info = ".jpg", _save(im, "JPEG"), (h, w, "JPEG", "L")
        elif kind == "palette":
            im = PIL.Image.fromarray(rgb).convert("P", palette=PIL.Image.Palette.ADAPTIVE)
            ext, data, info = ".png", _save(im, "PNG"), (h, w, "PNG", "RGB")
        elif kind == "cmyk":
            im = PIL.Image.fromarray(rgb).convert("CMYK")
            ext, data, info = ".jpg", _save(im, "JPEG"), (h, w, "JPEG", "RGB")
        elif kind == "gif":
            frames = [PIL.Image.fromarray(_rgb(rng, h, w)).convert("P") for _ in range(3)]
            buf = io.BytesIO()
            frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
            ext, data, info = ".gif", buf.getvalue(), (h, w, "PNG", "RGB")
        elif kind == "mtiff":
            frames = [PIL.Image.fromarray(_rgb(rng, h, w)) for _ in range(2)]
            buf = io.BytesIO()
            frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
            ext, data, info = ".tif", buf.getvalue(), (h, w, "TIFF", "RGB")
        elif kind == "exif":
            im = PIL.Image.fromarray(rgb)
            exif = PIL.Image.Exif()
            exif[0x0112] = 6  # rotate 90 degrees clockwise to display
            ext, data = ".jpg", _save(im, "JPEG", exif=exif.tobytes())
            info = (w, h, "JPEG", "RGB")  # upright: sides swapped
        rel = f"{folders[i % len(folders)]}/{stem}{ext}".lstrip("/")
        (root / rel).write_bytes(data)
        if kind == "txt":
            ignored.add(rel)
        elif info is None:
            bad.add(rel)
        else:
            good[rel] = info
    return good, bad, ignored


def check_outputs(out: Path, good: dict, scale: int) -> None:
    """Every good input has a decodable output of the right size, format and kind."""
    for rel, (h, w, fmt, kind) in good.items():
        dst = output_path(rel, out)
        assert dst.is_file(), rel
        with PIL.Image.open(dst) as im:
            im.load()
            assert im.format == fmt, (rel, im.format)
            assert im.size == (w * scale, h * scale), (rel, im.size)
            if kind == "RGBA":
                assert im.mode == "RGBA"
            if kind == "LA":
                assert im.mode == "LA"
            if kind == "L":
                assert im.mode == "L"
            if kind == "L16":
                assert im.mode.startswith("I;16")
        if kind == "RGB16":
            import cv2

            a = cv2.imread(str(dst), cv2.IMREAD_UNCHANGED)
            assert a.dtype == np.uint16 and a.shape == (h * scale, w * scale, 3)
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers


# --------------------------------------------------------------------------------------- tests


def test_mixed_folder_in_process(tiny_model, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    good, bad, ignored = make_mixed_folder(src, 200)
    model = _sr2(tiny_model)
    rep = enhance_folder(src, out, model, progress=False)
    check_outputs(out, good, scale=2)
    report = json.loads((out / REPORT_NAME).read_text())
    assert {f["input"] for f in report["failed"]} == bad
    assert all(f["reason"] for f in report["failed"])
    assert set(report["ignored"]) == ignored
    assert report["written"] == len(good) == rep.written
    assert report["total"] == len(good) + len(bad)
    # the outputs are the model's: each one equals the API on the same file
    rel = next(r for r, v in good.items() if v[3] == "RGB" and v[2] == "PNG")
    expect = np.asarray(model(src / rel))
    assert np.array_equal(np.asarray(PIL.Image.open(output_path(rel, out))), expect)
    # a rerun does no model work
    rep2 = enhance_folder(src, out, str(tiny_model), progress=False)
    assert rep2.written == 0 and rep2.skipped == len(good) and not rep2.model_loaded


def test_gpu_style_batching_matches_single(tiny_model, tmp_path):
    """Equal sizes batched together give the same outputs as one by one."""
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(1)
    for i in range(9):
        h, w = [(24, 32), (32, 24), (20, 20)][i % 3]
        PIL.Image.fromarray(_rgb(rng, h, w)).save(src / f"{i}.png")
    model = _sr2(tiny_model)
    enhance_folder(src, tmp_path / "one", model, batch_size=1, progress=False)
    enhance_folder(src, tmp_path / "many", model, batch_size=4, progress=False)
    enhance_folder(src, tmp_path / "inline", model, workers=0, progress=False)  # no I/O threads
    for i in range(9):
        a = np.asarray(PIL.Image.open(tmp_path / "one" / f"{i}.png"), np.int16)
        b = np.asarray(PIL.Image.open(tmp_path / "many" / f"{i}.png"), np.int16)
        c = np.asarray(PIL.Image.open(tmp_path / "inline" / f"{i}.png"), np.int16)
        assert np.abs(a - b).max() <= 1 and np.array_equal(a, c)


def test_masks_folder_matched_by_relative_path(tmp_path):
    src, masks, out = tmp_path / "in", tmp_path / "masks", tmp_path / "out"
    (src / "x").mkdir(parents=True)
    (masks / "x").mkdir(parents=True)
    rng = np.random.default_rng(2)
    for name in ("a.png", "x/b.jpg", "c.png", "d.png"):
        PIL.Image.fromarray(_rgb(rng, 20, 24)).save(src / name)
    hole = np.zeros((20, 24), np.uint8)
    hole[5:10, 5:10] = 255
    PIL.Image.fromarray(hole).save(masks / "a.bmp")  # any suffix
    PIL.Image.fromarray(hole).save(masks / "x" / "b.png")
    PIL.Image.fromarray(np.zeros((8, 8), np.uint8)).save(masks / "c.png")  # wrong size
    rep = enhance_folder(src, out, _toy_inpaint(), task="inpaint", masks=masks, progress=False)
    assert rep.written == 2
    reasons = {f["input"]: f["reason"] for f in rep.failed}
    assert set(reasons) == {"c.png", "d.png"}
    assert "no mask" in reasons["d.png"] and "mask" in reasons["c.png"]
    a = np.asarray(PIL.Image.open(out / "a.png"))
    assert (a[5:10, 5:10] == 128).all() and not (a[12:, 12:] == 128).all()


def test_plan_refuses_writing_into_the_input(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(src / "a.png")
    with pytest.raises(ConfigError, match="allow-in-place"):
        plan(src, src / "out")
    with pytest.raises(ConfigError, match="allow-in-place"):
        plan(src, src)
    jobs, _, refused = plan(src, src, allow_in_place=True)
    assert [j.dst.name for j in jobs] == ["a_restored.png"] and not refused
    # a finished in-place run does not take its outputs for inputs
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(src / "a_restored.png")
    jobs, _, _ = plan(src, src, allow_in_place=True)
    assert [j.rel for j in jobs] == ["a.png"]
    # outputs that would collide are refused, not overwritten
    PIL.Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(src / "a.jpg")
    jobs, _, refused = plan(src, tmp_path / "o", format="png")
    assert len(jobs) == 2 and [r["input"] for r in refused] == ["a.png"]


def test_cli_sigkill_then_resume_then_noop(tiny_model, tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    good, bad, _ = make_mixed_folder(src, 60, seed=3)
    big = src / "big"
    big.mkdir()
    rng = np.random.default_rng(4)
    for i in range(40):  # larger images, so the kill lands halfway
        PIL.Image.fromarray(_rgb(rng, 160, 192)).save(big / f"{i:02d}.png")
        good[f"big/{i:02d}.png"] = (160, 192, "PNG", "RGB")
    n_good = len(good)
    args = ["enhance", str(src), str(out), "--model", str(tiny_model), "--no-progress"]
    # dry run: lists, writes nothing
    assert main([*args, "--dry-run"]) == 0 and not out.exists()
    assert f"dry run: {n_good + len(bad)} to do" in capsys.readouterr().out
    proc = subprocess.Popen(
        [sys.executable, "-m", "restore", *args],
        env=ENV,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_dir() and sum(1 for p in out.rglob("*.png") if not p.name.startswith(".")) >= 3:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert 0 < len(done_before) < n_good, "the kill did not land halfway"
    for p in done_before:  # what exists is complete
        PIL.Image.open(p).load()
    assert main(args) == 1  # the bad files
    report = json.loads((out / REPORT_NAME).read_text())
    assert {f["input"] for f in report["failed"]} == bad
    assert report["skipped"] == len(done_before) and report["written"] == n_good - len(done_before)
    check_outputs(out, good, scale=1)
    # a rerun over the finished folder does no model work, and says so
    capsys.readouterr()
    assert main(args) == 1
    said = capsys.readouterr().out
    assert "not loaded" in said and "0 written" in said
    assert json.loads((out / REPORT_NAME).read_text())["model_loaded"] is False
    # --overwrite redoes them (in process)
    rep = enhance_folder(src / "big", out / "big", str(tiny_model), overwrite=True, progress=False)
    assert rep.written == 40 and rep.model_loaded


# two gloo ranks, ~15 s: kept in the default run so CI checks sharding (issue 12)
def test_torchrun_two_gloo_ranks_shard_without_gaps(tiny_model, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    rng = np.random.default_rng(5)
    names = [f"{d}/{i:02d}.png" for d in ("p", "q") for i in range(7)]
    for n in names:
        (src / n).parent.mkdir(exist_ok=True)
        PIL.Image.fromarray(_rgb(rng, 16, 20)).save(src / n)
    (src / "p" / "bad.jpg").write_bytes(b"nope")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    cmd += ["--master_port", str(29500 + os.getpid() % 1000)]
    cmd += ["-m", "restore", "enhance", str(src), str(out), "--model", str(tiny_model)]
    res = subprocess.run(
        [*cmd, "--no-progress"], env=ENV, cwd=REPO, capture_output=True, text=True, timeout=240
    )
    assert res.returncode != 0  # bad.jpg failed on one rank
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert outputs == sorted(names)
    report = json.loads((out / REPORT_NAME).read_text())
    assert report["world_size"] == 2 and report["written"] == len(names)
    assert [f["input"] for f in report["failed"]] == ["p/bad.jpg"]
    assert not list(out.glob("restore_report.rank*.json"))


def test_photo_task_uses_the_photo_pipeline(tiny_model, tmp_path, monkeypatch):
    """--task photo: restore.photo.PhotoRestorer; without a damage detector shipped it runs
    without detection (masks from --masks), inpainting with cv2 when no inpaint model is shipped."""
    import shutil

    import restore.models
    from restore.batch import load_model

    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copy(tiny_model / "model.safetensors", weights / "enhance.safetensors")
    shutil.copy(tiny_model / "model.json", weights / "enhance.json")
    monkeypatch.setattr(restore.models, "WEIGHTS_DIR", weights)
    model = load_model("photo", None, device="cpu")
    assert type(model).__name__ in ("PhotoRestorer", "Pipeline")
    src = tmp_path / "in"
    src.mkdir()
    PIL.Image.fromarray(_rgb(np.random.default_rng(6), 20, 28)).save(src / "p.png")
    rep = enhance_folder(src, tmp_path / "out", task="photo", device="cpu", progress=False)
    assert rep.written == 1 and rep.ok
    assert PIL.Image.open(tmp_path / "out" / "p.png").size == (28, 20)
    with pytest.raises(ConfigError, match="masks"):
        enhance_folder(src, tmp_path / "o2", task="inpaint")


def test_a_link_out_of_the_output_folder_is_not_followed(tiny_model, tmp_path):
    src, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    (src / "p").mkdir(parents=True)
    (src / "q").mkdir()
    PIL.Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(src / "p" / "a.png")
    PIL.Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(src / "q" / "b.png")
    outside.mkdir()
    out.mkdir()
    (out / "p").symlink_to(outside, target_is_directory=True)
    rep = enhance_folder(src, out, _sr2(tiny_model), progress=False)
    assert [f["input"] for f in rep.failed] == ["p/a.png"]
    assert "outside the output folder" in rep.failed[0]["reason"]
    assert list(outside.iterdir()) == []  # nothing written through the link
    assert (out / "q" / "b.png").is_file()


def test_big_images_stream_into_their_files_with_the_same_result(tiny_model, tmp_path, monkeypatch):
    import restore.batch_run as batch_run
    import restore.streaming as streaming

    rng = np.random.default_rng(3)
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    big, small = _rgb(rng, 60, 70), _rgb(rng, 8, 9)
    PIL.Image.fromarray(big).save(src / "sub" / "big.png")
    PIL.Image.fromarray(small).save(src / "small.png")
    PIL.Image.fromarray(big).save(src / "big.jpg", quality=95)
    model = _sr2(tiny_model)
    model.tile = 32  # several bands
    streamed: list[str] = []
    real = streaming.stream_image

    def spy(m, img, dst, **kw):
        streamed.append(Path(dst).name)
        return real(m, img, dst, **kw)

    monkeypatch.setattr(streaming, "stream_image", spy)
    monkeypatch.setattr(batch_run, "STREAM_PIXELS", 1000)
    rep = enhance_folder(src, tmp_path / "out", model=model, progress=False)
    assert rep.failed == [] and rep.written == 3
    assert sorted(streamed) == ["big.png"]  # JPEG output and small images take the usual path
    out = np.asarray(PIL.Image.open(tmp_path / "out" / "sub" / "big.png"))
    np.testing.assert_array_equal(out, model(big))
    assert (tmp_path / "out" / "big.jpg").exists() and (tmp_path / "out" / "small.png").exists()


def test_cli_threads_option(tiny_model, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    PIL.Image.fromarray(_rgb(np.random.default_rng(5), 12, 14)).save(src / "a.png")
    args = ["enhance", str(src), str(tmp_path / "out"), "--model", str(tiny_model), "--no-progress"]
    torch.set_num_threads(2)
    assert main([*args, "--threads", "1"]) == 0 and torch.get_num_threads() == 1
    assert (tmp_path / "out" / "a.png").exists()
    assert main([*args, "--threads", "0"]) == 1
    assert "--threads must be >= 1" in capsys.readouterr().err


def test_photo_folder_keeps_names_and_tones_and_resumes(tiny_model, tmp_path, capsys):
    """restore photo IN_DIR -o OUT_DIR: the folder engine of restore enhance with the photo
    options: same relative names, each photo's tone in the report, a bad file reported, inputs
    untouched, and a rerun skips what is done (without loading the models)."""
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "sub" / "deeper").mkdir(parents=True)
    rng = np.random.default_rng(7)
    lum = np.kron(rng.random((4, 5)), np.ones((8, 8)))  # 32 x 40, blocky grey
    grey = np.repeat((lum * 255).astype(np.uint8)[..., None], 3, axis=2)
    sepia = (grey * np.array([1.0, 0.82, 0.62])).astype(np.uint8)
    PIL.Image.fromarray(grey).save(src / "grey.png")
    PIL.Image.fromarray(grey).save(src / "sub" / "deeper" / "grey.jpg", quality=95)
    PIL.Image.fromarray(sepia).save(src / "sub" / "sepia.png")
    PIL.Image.fromarray(_rgb(rng, 32, 40)).save(src / "sub" / "colour.png")
    (src / "bad.png").write_bytes(b"not a png")
    (src / "notes.txt").write_text("not an image")
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    argv = ["photo", str(src), "-o", str(out), "--no-detect", "--device", "cpu", "--no-progress"]
    argv += ["--model", f"enhance={tiny_model / 'model.safetensors'}"]

    assert main(argv) == 1  # bad.png failed, the others were written
    said = capsys.readouterr()
    assert "FAILED bad.png" in said.err and "4 written" in said.out
    assert "tone: 1 colour, 2 grey, 1 toned" in said.out
    outputs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert outputs == sorted(
        ["grey.png", "sub/deeper/grey.jpg", "sub/sepia.png", "sub/colour.png", REPORT_NAME]
    )
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before
    report = json.loads((out / REPORT_NAME).read_text())
    kinds = {n["input"]: (n["kind"], n["action"]) for n in report["notes"]}
    assert kinds == {
        "grey.png": ("grey", "made grey (R = G = B)"),
        "sub/deeper/grey.jpg": ("grey", "made grey (R = G = B)"),
        "sub/sepia.png": ("toned", "tone kept"),
        "sub/colour.png": ("colour", "left as the models made it (a colour photo)"),
    }
    assert [f["input"] for f in report["failed"]] == ["bad.png"]
    g = np.asarray(PIL.Image.open(out / "grey.png")).astype(int)
    assert np.abs(g[..., 0] - g[..., 1]).max() == 0 and np.abs(g[..., 1] - g[..., 2]).max() == 0
    s = np.asarray(PIL.Image.open(out / "sub" / "sepia.png")).astype(int)
    assert (s[..., 0] >= s[..., 2]).mean() > 0.95 and (s[..., 0] - s[..., 2]).mean() > 10

    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}
    assert main(argv) == 1  # bad.png fails again; nothing else is redone
    said = capsys.readouterr().out
    assert "0 written, 4 already done" in said and "tone: 1 colour, 2 grey, 1 toned" in said
    again = json.loads((out / REPORT_NAME).read_text())
    assert again["skipped"] == 4 and again["model_loaded"] is False
    assert again["notes"] == report["notes"]  # what the first run did is still reported
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp

    # the photo options go through: tone neutral, from Python
    rep = enhance_folder(
        src,
        out,
        task="photo",
        overwrite=True,
        progress=False,
        device="cpu",
        options={"detect": False, "tone": "neutral", "models": {"enhance": str(tiny_model)}},
    )
    assert rep.written == 4 and [f["input"] for f in rep.failed] == ["bad.png"]
    s = np.asarray(PIL.Image.open(out / "sub" / "sepia.png")).astype(int)
    assert np.abs(s[..., 0] - s[..., 2]).max() == 0
    assert {n["input"]: n["action"] for n in rep.notes}["sub/sepia.png"].startswith("made neutral")
    with pytest.raises(ConfigError, match="photo"):
        enhance_folder(src, tmp_path / "o2", task="sr", options={"tone": "neutral"})


def test_photo_folder_refuses_single_photo_options(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    argv = ["photo", str(src), "-o", str(tmp_path / "out"), "--report", str(tmp_path / "r.json")]
    assert main(argv) == 1
    assert "for one photo only" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    f = tmp_path / "a.png"
    PIL.Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(f)
    assert main(["photo", str(f), "-o", str(tmp_path / "b.png"), "--masks", str(src)]) == 1
    assert "--masks DIR is for a folder" in capsys.readouterr().err
