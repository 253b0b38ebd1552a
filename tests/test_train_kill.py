"""A training run killed with SIGKILL mid-write leaves only complete files, and --resume continues it.

The kill is deterministic: the child process kills itself at one chosen instant, when the writer
is about to rename the finished temporary file of checkpoint 3's JSON into place (its tensors are
already renamed, ``latest.json`` still names checkpoint 2). Polling files and killing from outside
landed anywhere, or nowhere when the run finished first.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from restore.core.checkpoint import load_tensors

REPO = Path(__file__).resolve().parents[1]
KILL_AT = "step_0000003.json"

# `restore ...` with os.replace patched to SIGKILL the process instead of renaming onto KILL_AT
CHILD = f"""
import os, signal, sys

real_replace = os.replace

def replace(src, dst, *args, **kwargs):
    if os.path.basename(dst) == {KILL_AT!r}:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace
from restore.cli import main

sys.exit(main(sys.argv[1:]))
"""


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


def _log_steps(run: Path) -> list[int]:
    with (run / "log.csv").open(newline="") as f:
        return [int(r["step"]) for r in csv.DictReader(f)]


def test_sigkill_mid_write_then_resume(tmp_path):
    imgs = _images(tmp_path / "imgs")
    out = tmp_path / "runs"
    args = ["train", str(REPO / "configs" / "tiny.yaml")]
    for kv in (
        f"data.train={imgs}",
        "data.val=",
        f"train.out_dir={out}",
        "train.steps=6",
        "train.ckpt_every=1",
        "train.log_every=1",
        "train.sample_every=1",
        "train.progress=false",
    ):
        args += ["--set", kv]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = subprocess.run(
        [sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    run = out / "tiny"
    ckpts = run / "checkpoints"
    # killed between writing checkpoint 3's JSON and renaming it into place
    assert [p.name for p in ckpts.glob(f".{KILL_AT}.*.tmp")], sorted(os.listdir(ckpts))
    assert not (ckpts / KILL_AT).exists()
    # every file a reader can see is complete: latest.json names checkpoint 2, which loads
    latest = json.loads((ckpts / "latest.json").read_text())
    assert latest == {"checkpoint": "step_0000002", "step": 2}
    assert "rng.torch" in load_tensors(ckpts / "step_0000002.safetensors")[0]
    assert json.loads((ckpts / "step_0000002.json").read_text())["step"] == 2
    from PIL import Image

    samples = sorted((run / "samples").glob("*.png"))
    assert [p.name for p in samples] == [f"step_000000{i}.png" for i in (1, 2, 3)]
    for png in samples:
        Image.open(png).load()
    assert _log_steps(run) == [1, 2, 3]
    # resume (a plain run) redoes step 3, finishes, and cleans the half-written temporary file
    r = subprocess.run(
        [sys.executable, "-m", "restore", *args, "--resume", str(run)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((ckpts / "latest.json").read_text())["step"] == 6
    assert not list(run.rglob("*.tmp"))
    assert _log_steps(run) == [1, 2, 3, 4, 5, 6]  # row 3 of the killed run dropped, then redone
