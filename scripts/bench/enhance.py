"""Benchmark: ``restore enhance`` (threaded decode/encode, batching) vs a plain loop over the API.

    python scripts/bench/enhance.py [--model sr-x2] [--n 100] [--threads 2] [--repeats 3]

Inputs: ``--n`` JPEG crops of 512x384 (quality 95) cut from ``../shared/data/train/photos_hr``
with a fixed seed, written once under ``runs/bench_enhance/inputs``. Both sides run as fresh
processes with ``--threads`` torch threads (OMP_NUM_THREADS), and the wall time counts everything
a user waits for (interpreter start, model load, decode, model, encode, write):

- ``restore enhance``: ``restore enhance IN OUT --task sr --model M --no-progress``;
- ``plain loop``: ``r = restore.load(M); for p in files: r(p).save(out / p.name)`` in one process,
  as a user runs it, and again with ``OMP_WAIT_POLICY=PASSIVE`` (which ``restore enhance`` sets for
  itself), to separate the engine's own gain from that setting.

The two alternate ``--repeats`` times; the table gives the median. When ``--model`` is not shipped
in this installation (``sr-x2`` may come later), a random-weight x2 model is exported and used
instead, and the output says so: ``--fallback tiny`` (default; 8 channels, 1 block: the I/O-bound
case) or ``--fallback full`` (the ``configs/sr_x2.yaml`` architecture: the shipped model's compute).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
from common import cpu_name

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "runs" / "bench_enhance"

LOOP = """
import sys, time
from pathlib import Path
import restore
src, dst, model = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
dst.mkdir(parents=True, exist_ok=True)
r = restore.load(model)
for p in sorted(src.iterdir()):
    r(p).save(dst / p.name, quality=95)
"""


def make_inputs(n: int, size: tuple[int, int], seed: int = 0) -> Path:
    """``n`` crops (W x H = ``size``) of the photos, as JPEG; reused when already there."""
    out = WORK / f"inputs_{n}_{size[0]}x{size[1]}"
    if out.is_dir() and len(list(out.glob("*.jpg"))) == n:
        return out
    photos = sorted((REPO.parent / "shared" / "data" / "train" / "photos_hr").glob("*.png"))
    if not photos:
        raise SystemExit("../shared/data/train/photos_hr not found")
    rng = np.random.default_rng(seed)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    w, h = size
    for i in range(n):
        with PIL.Image.open(photos[i % len(photos)]) as im:
            im = im.convert("RGB")
            x = int(rng.integers(0, max(1, im.width - w + 1)))
            y = int(rng.integers(0, max(1, im.height - h + 1)))
            im.crop((x, y, x + w, y + h)).save(tmp / f"{i:03d}.jpg", quality=95)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def resolve_model(name: str, fallback: str) -> tuple[str, str]:
    """(what to pass as --model, a note on what it is)."""
    from restore.errors import RestoreError
    from restore.models import resolve

    try:
        resolve(name)
        return name, f"{name} (shipped)"
    except RestoreError:
        pass
    import torch

    from restore.config import load_config
    from restore.tasks import create_task
    from restore.train_checkpoint import export_weights

    overrides = [] if fallback == "full" else ["model.generator_args.channels=8"]
    overrides += [] if fallback == "full" else ["model.generator_args.n_blocks=1"]
    cfg = load_config(REPO / "configs" / "sr_x2.yaml", overrides)
    task = create_task(cfg)
    torch.manual_seed(0)
    G = task.build_networks()["G"]
    path = WORK / f"fallback_sr_x2_{fallback}"
    path.mkdir(parents=True, exist_ok=True)
    export_weights(path / "model", task, cfg, {"G": G}, 0, {})
    n = sum(p.numel() for p in G.parameters())
    note = (
        f"{name!r} is not shipped here: used random weights, configs/sr_x2.yaml architecture"
        f"{' (full size)' if fallback == 'full' else ' shrunk to 8 channels, 1 block'}"
        f" ({cfg.model.generator}, {n} parameters, x2)"
    )
    return str(path), note


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}")
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="sr-x2")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--size", default="512x384", help="W x H of the crops")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (CPU cores)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--fallback",
        choices=["tiny", "full"],
        default="tiny",
        help="when --model is not shipped: a tiny random-weight x2 model (I/O-bound), or the "
        "full sr_x2 architecture with random weights (the shipped model's compute)",
    )
    args = ap.parse_args(argv)

    w, h = (int(v) for v in args.size.split("x"))
    src = make_inputs(args.n, (w, h))
    model, note = resolve_model(args.model, args.fallback)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(args.threads),
        "PYTHONPATH": str(REPO),
        "CUDA_VISIBLE_DEVICES": ""
        if args.device == "cpu"
        else os.environ.get("CUDA_VISIBLE_DEVICES", ""),
    }
    sides = {
        "restore enhance": lambda out: [
            sys.executable, "-m", "restore", "enhance", str(src), str(out),
            "--task", "sr", "--model", model, "--no-progress", "--device", args.device,
        ],
        "plain API loop": lambda out: [sys.executable, "-c", LOOP, str(src), str(out), model],
        "plain API loop, OMP_WAIT_POLICY=PASSIVE": lambda out: [
            "env", "OMP_WAIT_POLICY=PASSIVE", sys.executable, "-c", LOOP, str(src), str(out), model,
        ],
    }  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(args.repeats):
        for name, cmd in sides.items():
            out = WORK / "out" / "".join(c if c.isalnum() else "_" for c in name)
            shutil.rmtree(out, ignore_errors=True)
            times[name].append(timed(cmd(out), env))
            print(f"  run {r + 1}/{args.repeats} {name}: {times[name][-1]:.1f} s", flush=True)
    print(f"\nmodel: {note}")
    print(f"{args.n} JPEG images {w}x{h}, device {args.device}, {args.threads} torch threads")
    print(f"CPU: {cpu_name()} ({os.cpu_count()} logical CPUs)")
    print("\n| method | median wall s | img/s | runs (s) |\n|---|---:|---:|---|")
    for name, ts in times.items():
        med = statistics.median(ts)
        runs = ", ".join(f"{t:.1f}" for t in ts)
        print(f"| {name} | {med:.1f} | {args.n / med:.2f} | {runs} |")
    a, b, c = (statistics.median(times[k]) for k in sides)
    print(
        f"\nrestore enhance vs plain loop throughput: {b / a:.2f}x (vs the passive loop {c / a:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
