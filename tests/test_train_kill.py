"""A training run killed with SIGKILL leaves only complete files, and --resume continues it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from restore.core.checkpoint import load_tensors

REPO = Path(__file__).resolve().parents[1]


def _images(d: Path) -> Path:
    import numpy as np
    from PIL import Image

    d.mkdir()
    rng = np.random.default_rng(1)
    for i in range(4):
        Image.fromarray(
            (np.kron(rng.random((4, 4, 3)), np.ones((12, 12, 1))) * 255).astype(np.uint8)
        ).save(d / f"{i}.png")
    return d


def test_sigkill_then_resume(tmp_path):
    imgs = _images(tmp_path / "imgs")
    out = tmp_path / "runs"
    cmd = [
        sys.executable,
        "-m",
        "restore",
        "train",
        str(REPO / "configs" / "tiny.yaml"),
        "--set",
        f"data.train={imgs}",
        "--set",
        "data.val=",
        "--set",
        f"train.out_dir={out}",
        "--set",
        "train.steps=40",
        "--set",
        "train.ckpt_every=1",
        "--set",
        "train.log_every=1",
        "--set",
        "train.sample_every=1",
        "--set",
        "train.progress=false",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    latest = out / "tiny" / "checkpoints" / "latest.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if latest.is_file() and json.loads(latest.read_text())["step"] >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, (
        "the run ended before it could be killed: " + proc.stderr.read().decode()[-2000:]
    )
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # every file a reader can see is complete: the checkpoint latest.json names loads, the CSV parses
    step = json.loads(latest.read_text())["step"]
    stem = json.loads(latest.read_text())["checkpoint"]
    tensors, _ = load_tensors(latest.parent / f"{stem}.safetensors")
    assert "rng.torch" in tensors
    assert json.loads((latest.parent / f"{stem}.json").read_text())["step"] == step
    for png in (out / "tiny" / "samples").glob("*.png"):
        from PIL import Image

        Image.open(png).load()
    # resume finishes the run and cleans any half-written temporary file
    r = subprocess.run(
        [*cmd, "--resume", str(out / "tiny")], env=env, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(latest.read_text())["step"] == 40
    assert not list((out / "tiny").rglob("*.tmp"))
    rows = (out / "tiny" / "log.csv").read_text().splitlines()[1:]
    steps = [int(x.split(",")[0]) for x in rows]
    assert steps == sorted(set(steps)) and steps[-1] == 40
