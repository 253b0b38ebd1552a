"""Where a training step spends its time: torch.profiler over a few steps of restore's loop.

    python scripts/bench/profile_train.py [--size 256] [--batch 1] [--steps 6] [--device auto]
        [--real DIR]

Runs the pix2pix networks (unet_256 + 70x70 PatchGAN) through ``restore.train.train`` on synthetic
pairs (the ``bench_pix2pix`` task of ``train_throughput.py``) under ``torch.profiler`` and prints
the operators that take the most self time, plus the host-device synchronisations seen (on CUDA).
With ``--real DIR`` the ``enhance`` task reads real images from DIR instead (old-photo degradation
on the device: its host syncs show up here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from common import bench_train_options  # noqa: E402
from train_throughput import BENCH_TASK  # noqa: E402

from restore.config import Config, from_dict  # noqa: E402
from restore.tasks import register_task  # noqa: E402
from restore.train import train  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--rows", type=int, default=15)
    ap.add_argument("--real", default="", help="image folder: profile the enhance task on it")
    args = ap.parse_args()
    dev = (
        "cuda"
        if (args.device == "auto" and torch.cuda.is_available())
        else ("cpu" if args.device == "auto" else args.device)
    )
    register_task(BENCH_TASK)
    acts = [torch.profiler.ProfilerActivity.CPU] + (
        [torch.profiler.ProfilerActivity.CUDA] if dev.startswith("cuda") else []
    )
    with tempfile.TemporaryDirectory() as tmp:
        cfg = from_dict(
            Config,
            {
                "name": "profile",
                "task": "enhance" if args.real else "bench_pix2pix",
                "task_args": {"residual": False, "val_images": 1} if args.real else {},
                "model": {"generator_args": {}, "discriminator_args": {}},
                "loss": {"adversarial": "vanilla", "pixel_weight": 100.0},
                "data": {"train": args.real, "patch_size": args.size, "batch_size": args.batch},
                "train": {
                    **bench_train_options(args.steps, args.steps, tmp),
                    "channels_last": dev.startswith("cuda"),
                },
            },
        )
        with torch.profiler.profile(activities=acts) as prof:
            train(cfg, device=dev)
    key = "self_cuda_time_total" if dev.startswith("cuda") else "self_cpu_time_total"
    print(
        f"device {dev}; size {args.size}; batch {args.batch}; {args.steps} steps (set-up included);"
        f" task {'enhance on ' + args.real if args.real else 'bench_pix2pix (synthetic)'}"
    )
    print(prof.key_averages().table(sort_by=key, row_limit=args.rows, max_name_column_width=40))
    syncs = [
        e
        for e in prof.key_averages()
        if e.key
        in (
            "cudaStreamSynchronize",
            "cudaDeviceSynchronize",
            "aten::item",
            "aten::_local_scalar_dense",
        )
    ]
    for e in syncs:
        print(f"sync: {e.key} x{e.count}")
    callers: Counter[str] = Counter()  # who asked for each host read: the op or line around it
    for e in prof.events():
        if e.name == "aten::item":
            callers[e.cpu_parent.name if e.cpu_parent is not None else "(top level)"] += 1
    for name, n in callers.most_common(6):
        print(f"  aten::item x{n} inside {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
