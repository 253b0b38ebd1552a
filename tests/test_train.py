"""The one training loop: end to end, exact resume, non-finite losses, CLI, torchrun (gloo),
train.max_seconds."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import restore.train
from restore.config import load_config
from restore.core.checkpoint import load_tensors
from restore.errors import CheckpointError, TrainingError
from restore.train import train
from restore.train_clock import Clock

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny.yaml"


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for i in range(6):
        # smooth random images: a learnable signal, not pure noise
        base = rng.random((6, 6, 3))
        img = np.kron(base, np.ones((8, 8, 1)))
        Image.fromarray((img * 255).astype(np.uint8)).save(d / f"{i}.png")
    return d


def tiny_cfg(image_dir: Path, out: Path, *extra: str):
    return load_config(
        TINY,
        [
            f"data.train={image_dir}",
            "data.val=",
            f"train.out_dir={out}",
            "train.progress=false",
            *extra,
        ],
    )


def test_trains_end_to_end(image_dir, tmp_path):
    res = train(tiny_cfg(image_dir, tmp_path))
    run = tmp_path / "tiny"
    assert res.step == 8 and res.out_dir == run
    rows = (run / "log.csv").read_text().splitlines()
    header = rows[0].split(",")
    for col in (
        "step",
        "lr_g",
        "it_s",
        "g_pixel",
        "g_loss",
        "d_loss",
        "d_real_acc",
        "d_fake_acc",
        "g_adv",
    ):
        assert col in header, col
    assert len(rows) == 1 + 4  # log_every=2 over 8 steps
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_0000004.png",
        "step_0000008.png",
    ]
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    assert latest == {"checkpoint": "step_0000008", "step": 8}
    card = json.loads((run / "model.json").read_text())
    assert card["task"] == "enhance" and card["training"]["steps"] == 8
    tensors, _ = load_tensors(run / "model.safetensors")
    assert any(k.startswith("G.") for k in tensors)
    # nothing half-written anywhere
    assert not [p for p in run.rglob("*.tmp")]


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_tensors(path)[0]


def test_resume_is_bit_exact(image_dir, tmp_path):
    # 2N uninterrupted steps, keeping the checkpoint at N ...
    full = tmp_path / "full"
    train(tiny_cfg(image_dir, full, "train.ckpt_every=4", "train.keep_checkpoints=5"))
    ck4 = full / "tiny" / "checkpoints" / "step_0000004.safetensors"
    # ... against N steps resumed from that checkpoint in a fresh run folder
    resumed = tmp_path / "resumed"
    train(tiny_cfg(image_dir, resumed, "train.ckpt_every=4"), resume=ck4)
    a = _weights(full / "tiny" / "checkpoints" / "step_0000008.safetensors")
    b = _weights(resumed / "tiny" / "checkpoints" / "step_0000008.safetensors")
    assert a.keys() == b.keys()
    assert any(k.startswith("opt.D.") for k in a) and any(k.startswith("ema.G.") for k in a)
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f"resume is not exact: {diff[:5]}"


def test_echo_makes_one_batch_per_echo_and_resumes_exactly(image_dir, tmp_path, monkeypatch):
    from restore.tasks.enhance import EnhanceTask

    made, seen = [], []
    make, forward = EnhanceTask.make_batch, EnhanceTask.forward

    def counting_make(self, raw, generator):
        made.append(make(self, raw, generator))
        return made[-1]

    def recording_forward(self, nets, batch):
        seen.append(batch["input"].clone())
        return forward(self, nets, batch)

    monkeypatch.setattr(EnhanceTask, "make_batch", counting_make)
    monkeypatch.setattr(EnhanceTask, "forward", recording_forward)
    full = tmp_path / "full"
    train(
        tiny_cfg(image_dir, full, "train.echo=2", "train.ckpt_every=4", "train.keep_checkpoints=5")
    )
    assert len(made) == 4 and len(seen) == 8  # 8 steps, a batch made every second step
    for i in range(4):  # step 2i sees the made batch, step 2i+1 a mirror view of it
        a, b = made[i]["input"], seen[2 * i + 1]
        assert torch.equal(seen[2 * i], a)
        for j in range(a.shape[0]):
            views = [torch.rot90(a[j], k, dims=(-2, -1)) for k in range(4)]
            assert any(torch.equal(b[j], v) or torch.equal(b[j], v.flip(-1)) for v in views)
    assert any(not torch.equal(seen[2 * i + 1], made[i]["input"]) for i in range(4))
    # resumed from step 4 (a multiple of echo), it ends where the uninterrupted run did
    resumed = tmp_path / "resumed"
    ck4 = full / "tiny" / "checkpoints" / "step_0000004.safetensors"
    train(tiny_cfg(image_dir, resumed, "train.echo=2", "train.ckpt_every=4"), resume=ck4)
    a = _weights(full / "tiny" / "checkpoints" / "step_0000008.safetensors")
    b = _weights(resumed / "tiny" / "checkpoints" / "step_0000008.safetensors")
    assert not [k for k in a if not torch.equal(a[k], b[k])]


def test_resume_from_run_folder_and_refusals(image_dir, tmp_path):
    train(tiny_cfg(image_dir, tmp_path, "train.steps=4"))
    res = train(tiny_cfg(image_dir, tmp_path), resume=tmp_path / "tiny")
    assert res.step == 8
    log_steps = [
        int(r.split(",")[0]) for r in (tmp_path / "tiny" / "log.csv").read_text().splitlines()[1:]
    ]
    assert log_steps == [2, 4, 6, 8]  # the resumed log continues, no duplicate rows
    with pytest.raises(CheckpointError, match="no checkpoint to resume"):
        train(tiny_cfg(image_dir, tmp_path), resume=tmp_path / "empty_dir_that_is_missing")
    pth = tmp_path / "model.pth"
    pth.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(CheckpointError, match="pickle"):
        train(tiny_cfg(image_dir, tmp_path), resume=pth)


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    import csv

    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_csv_log_appends_rows_and_widens_its_header(tmp_path):
    from restore.train_log import CsvLog

    path = tmp_path / "log.csv"
    path.write_text("an old run's log\n")
    log = CsvLog(path, None)  # a new run: the first row starts the file
    log.append({"step": 1, "g_loss": 0.5})
    log.append({"step": 2, "g_loss": 0.25})
    inode = path.stat().st_ino
    log.append({"step": 3, "g_loss": 0.125})
    log.append({"step": 3})  # a subset of the columns is appended as it is
    assert path.stat().st_ino == inode  # appended in place, not rewritten
    log.append({"step": 4, "val_psnr": 21.5})  # a new column: one rewrite, the header widens
    assert path.stat().st_ino != inode
    inode = path.stat().st_ino
    log.append({"step": 5, "g_loss": 0.0625})
    log.append({"step": 6, "val_psnr": 22.0})
    assert path.stat().st_ino == inode
    cols, rows = _csv(path)
    assert cols == ["step", "g_loss", "val_psnr"]
    assert [(r["step"], r["g_loss"], r["val_psnr"]) for r in rows] == [
        ("1", "0.5", ""),
        ("2", "0.25", ""),
        ("3", "0.125", ""),
        ("3", "", ""),
        ("4", "", "21.5"),
        ("5", "0.0625", ""),
        ("6", "", "22"),
    ]


def test_csv_log_resume_drops_rows_after_the_resume_step(tmp_path):
    from restore.train_log import CsvLog

    path = tmp_path / "log.csv"
    log = CsvLog(path, None)
    for step in (2, 4, 6):
        log.append({"step": step, "g_loss": step / 10})
    log.append({"step": 6, "val_psnr": 20.0})
    with path.open("a") as f:
        f.write("8,0.")  # a torn last row: the run was killed mid-append
    log = CsvLog(path, 4)
    cols, rows = _csv(path)
    assert cols == ["step", "g_loss", "val_psnr"] and [r["step"] for r in rows] == ["2", "4"]
    log.append({"step": 6, "g_loss": 0.6})  # known columns: appended under the kept header
    cols, rows = _csv(path)
    assert [r["step"] for r in rows] == ["2", "4", "6"] and rows[-1]["val_psnr"] == ""
    assert not list(tmp_path.glob(".*.tmp"))


def test_non_finite_loss_stops_with_step_and_checkpoint(image_dir, tmp_path, monkeypatch):
    from restore.tasks.enhance import EnhanceTask

    orig = EnhanceTask.g_loss

    def poisoned(self, nets, batch, out, step, gan_on):
        loss, logs = orig(self, nets, batch, out, step, gan_on)
        return (loss * float("nan") if step >= 5 else loss), logs

    monkeypatch.setattr(EnhanceTask, "g_loss", poisoned)
    with pytest.raises(
        TrainingError, match=r"non-finite loss at step 5 .*step_0000004\.safetensors"
    ):
        train(tiny_cfg(image_dir, tmp_path))
    # the NaN step was never checkpointed
    latest = json.loads((tmp_path / "tiny" / "checkpoints" / "latest.json").read_text())
    assert latest["step"] == 4


def test_lr_schedule():
    from restore.train import lr_factor

    cfg = load_config(TINY, ["train.steps=100", "optim.warmup_steps=10", "optim.schedule=cosine"])
    assert lr_factor(cfg, 0) == pytest.approx(0.1)
    assert lr_factor(cfg, 9) == pytest.approx(1.0)
    assert lr_factor(cfg, 10) == pytest.approx(1.0)
    assert lr_factor(cfg, 55) == pytest.approx(0.5)
    assert lr_factor(cfg, 100) == pytest.approx(0.0, abs=1e-12)


def _cli(
    *args: str, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    e = {**os.environ, "RESTORE_NO_PROGRESS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=e, cwd=cwd, timeout=300
    )


def test_cli_train_and_bad_config(image_dir, tmp_path):
    r = _cli(
        "-m",
        "restore",
        "train",
        str(TINY),
        "--set",
        f"data.train={image_dir}",
        "--set",
        "data.val=",
        "--set",
        f"train.out_dir={tmp_path}",
        "--set",
        "train.steps=2",
    )
    assert r.returncode == 0, r.stderr
    assert "trained tiny for 2 steps" in r.stdout
    r = _cli("-m", "restore", "train", str(TINY), "--set", "optim.lr_gg=1")
    assert r.returncode == 1
    assert "unknown config key optim.lr_gg" in r.stderr
    assert "Traceback" not in r.stderr
    r = _cli(
        "-m",
        "restore",
        "train",
        str(TINY),
        "--set",
        "model.generator_args.widht=3",
        "--set",
        f"data.train={image_dir}",
    )
    assert r.returncode == 1 and "model.generator_args.widht" in r.stderr


def test_torchrun_two_gloo_processes_and_resume(image_dir, tmp_path):
    base = [
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "restore",
        "train",
        str(TINY),
        "--device",
        "cpu",
        "--set",
        f"data.train={image_dir}",
        "--set",
        "data.val=",
        "--set",
        f"train.out_dir={tmp_path}",
        "--set",
        "data.batch_size=2",
    ]
    r = _cli(*base, "--set", "train.steps=4")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    run = tmp_path / "tiny"
    assert (run / "checkpoints" / "step_0000004.safetensors").is_file()
    assert r.stdout.count("trained tiny") == 1  # rank 0 reports, rank 1 stays quiet
    r = _cli(*base, "--resume", str(run))
    assert r.returncode == 0, r.stderr[-4000:]
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["step"] == 8


def _card(run: Path) -> dict:
    return json.loads((run / "model.json").read_text())


def test_a_replanned_run_is_the_run_its_card_command_names(image_dir, tmp_path, monkeypatch):
    # each call of the clock is one second later: the run re-plans at the end of its 30-step
    # warm-up to far fewer than the 400 steps asked
    calls = iter(range(10**6))
    monkeypatch.setattr(restore.train, "Clock", functools.partial(Clock, now=lambda: next(calls)))
    sets = [
        "train.steps=400",
        "optim.warmup_steps=30",
        "train.val_every=1000",
        "train.sample_every=1000",
        "train.ckpt_every=1000",
        "train.log_every=10",
    ]
    res = train(
        tiny_cfg(image_dir, tmp_path / "a", *sets, "train.max_seconds=80"),
        command="restore train X",
    )
    assert 30 < res.step < 100
    run = tmp_path / "a" / "tiny"
    leg = _card(run)["training"]["legs"][-1]
    assert leg["steps"] == res.step
    assert leg["command"] == (
        f"restore train X --set=train.steps={res.step} --set=train.max_seconds=0"
    )
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == res.step
    # the same recipe with the card's settings and no budget: the same weights, bit for bit
    monkeypatch.undo()
    again = train(tiny_cfg(image_dir, tmp_path / "b", *sets, f"train.steps={res.step}"))
    assert again.step == res.step
    a = load_tensors(run / "model.safetensors")[0]
    b = load_tensors(tmp_path / "b" / "tiny" / "model.safetensors")[0]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_past_its_budget_stops_and_exports(image_dir, tmp_path, monkeypatch):
    # no time passes until the 40th call, then the budget is spent at once
    calls = iter(range(10**6))
    monkeypatch.setattr(
        restore.train,
        "Clock",
        functools.partial(Clock, now=lambda: 0.0 if next(calls) < 40 else 1e9),
    )
    res = train(
        tiny_cfg(
            image_dir,
            tmp_path,
            "train.steps=400",
            "train.max_seconds=60",
            "train.ckpt_every=1000",
            "train.val_every=1000",
            "train.sample_every=1000",
        ),
        command="restore train X",
    )
    assert 25 < res.step < 60
    run = tmp_path / "tiny"
    leg = _card(run)["training"]["legs"][-1]
    assert leg["steps"] == res.step
    assert leg["command"] == (
        f"restore train X  # stopped at step {res.step} of 400 by train.max_seconds"
    )
    latest = json.loads((run / "checkpoints" / "latest.json").read_text())
    assert latest["step"] == res.step
    assert (run / "model.safetensors").is_file()


def test_a_replanned_run_resumed_by_its_command_keeps_its_length(image_dir, tmp_path, monkeypatch):
    """Killed after its re-plan and resumed by the same budgeted command, a run trains to the
    re-planned steps, bit for bit as the uninterrupted run; without a budget, the command's
    steps count (as the GPU call's export of a stopped leg needs)."""
    calls = iter(range(10**6))
    fake = functools.partial(Clock, now=lambda: next(calls))
    monkeypatch.setattr(restore.train, "Clock", fake)
    sets = ["train.steps=400", "optim.warmup_steps=30", "train.val_every=1000",
            "train.sample_every=1000", "train.ckpt_every=10", "train.keep_checkpoints=50",
            "train.max_seconds=80"]  # fmt: skip
    full = train(tiny_cfg(image_dir, tmp_path / "a", *sets))
    ck = tmp_path / "a" / "tiny" / "checkpoints" / "step_0000040.safetensors"
    monkeypatch.undo()  # the resumed run's own clock: the real one, far from its 80 s
    again = train(tiny_cfg(image_dir, tmp_path / "b", *sets), resume=ck)
    assert again.step == full.step < 100
    a = load_tensors(tmp_path / "a" / "tiny" / "model.safetensors")[0]
    b = load_tensors(tmp_path / "b" / "tiny" / "model.safetensors")[0]
    assert all(torch.equal(a[k], b[k]) for k in a)
    unbudgeted = [s for s in sets if not s.startswith("train.max_seconds")] + ["train.steps=50"]
    assert train(tiny_cfg(image_dir, tmp_path / "c", *unbudgeted), resume=ck).step == 50
