"""Small helpers the benchmark scripts share (run them as scripts: this folder is on sys.path)."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

#: ``../shared/data`` beside the repository.
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def cpu_name() -> str:
    """The processor's model name (from /proc/cpuinfo), for the machine line of every table."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def peak_rss_mib() -> float:
    """This process's peak resident memory in MiB: ``VmHWM`` from /proc/self/status.

    Not ``getrusage().ru_maxrss``: Linux keeps that across ``execve``, so a fresh child process
    reports at least the RSS its parent had when it forked (a bench parent holding a 64 MP
    test image made every child read 1346 MiB). ``VmHWM`` belongs to the new address space.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise OSError("no VmHWM in /proc/self/status")


def bench_train_options(steps: int, log_every: int, out_dir: str) -> dict:
    """``train:`` options of a benchmark run: no samples, validation, checkpoints, EMA or bar."""
    return {
        "steps": steps,
        "log_every": log_every,
        "sample_every": 10**9,
        "val_every": 10**9,
        "ckpt_every": 10**9,
        "ema_decay": 0.0,
        "out_dir": out_dir,
        "progress": False,
    }


def write_rows(path: Path, script: str, argv: list[str], threads: int, rows: list[dict]) -> None:
    """A benchmark's rows as JSON at ``path`` (atomically), with the command that made them and
    the machine (CPU name, threads)."""
    from restore.core.atomic import atomic_write_json

    atomic_write_json(
        path,
        {
            "command": f"python scripts/bench/{script} " + " ".join(argv),
            "machine": f"{cpu_name()}, {threads} threads",
            "rows": rows,
        },
    )


def one_leg_overrides(steps: int, out: str) -> list[str]:
    """``--set`` overrides of a timed training run that validates, checkpoints and draws samples
    once, at its end, with a log row every 50 steps (whose ``it_s`` gives its speed)."""
    return [
        f"train.steps={steps}",
        f"train.val_every={steps}",
        f"train.ckpt_every={steps}",
        f"train.sample_every={steps}",
        f"train.out_dir={out}",
        "train.progress=false",
        "train.log_every=50",
    ]


def sepia_crops(side: int = 256) -> Any:
    """Centre ``side``-px crops of the held-out photos (Set5 + Set14 HR), made sepia, as one
    (N, 3, side, side) tensor; photos smaller than ``side`` are left out. The bases of the
    detector benchmarks (``flake_recall.py``, ``crack_width.py``): most real prints are toned."""
    import torch

    from restore.data.color import rgb_to_gray
    from restore.data.datasets import list_images
    from restore.data.io import read_image, to_tensor

    out = []
    for s in ("Set5", "Set14"):
        for p in list_images(DATA / "val" / s / "x4" / "HR"):
            x = to_tensor(read_image(p))
            h, w = x.shape[-2:]
            if min(h, w) < side:
                continue
            y0, x0 = (h - side) // 2, (w - side) // 2
            out.append(x[..., y0 : y0 + side, x0 : x0 + side])
    sepia = torch.tensor([1.0, 0.92, 0.76]).view(1, 3, 1, 1)
    return rgb_to_gray(torch.cat(out), keep_channels=True) * sepia
