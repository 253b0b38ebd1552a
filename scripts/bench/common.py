"""Small helpers the benchmark scripts share (run them as scripts: this folder is on sys.path)."""

from __future__ import annotations

import platform
from pathlib import Path


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
