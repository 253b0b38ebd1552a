"""Which SR x4 network gives the most dB per CPU-hour of training (issue 21, item 4)?

    python scripts/bench/sr_arch.py [--minutes 5] [--variants small edsr_baseline ...] [--json F]

Each variant is ``configs/sr_x4.yaml`` (L1, lr 1e-3 cosine, 96-px patches, batch 16, all of
``../shared/data/train``) with another ``srnet`` size, trained **from scratch** for the same CPU
wall time, one after another with all threads (never in parallel on 2 cores). A short probe
(``--probe`` steps) measures each variant's speed first; its number of steps is then set so that
the run takes ``--minutes``. Each is scored by ``restore eval``'s protocol (Y PSNR, shave 4) on
Set5 and Set14, and timed on the inference budget of the issue: x4 of a 512x512 photo (a
2048x2048 result) on the same threads, median of ``--runs``.

Prints a Markdown table; ``--json`` keeps it. The comparison is only fair on an idle machine:
run nothing else beside it.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from common import one_leg_overrides, write_rows  # noqa: E402

from restore.api import Restorer  # noqa: E402
from restore.config import load_config  # noqa: E402
from restore.relay_scoring import score_sr  # noqa: E402
from restore.train import train  # noqa: E402

#: srnet sizes (channels, residual blocks): the first CPU recipe's, one between, EDSR-baseline's
#: (the shipped sr-x4, trained on the H200), and a deeper thin one.
VARIANTS: dict[str, tuple[int, int]] = {
    "small": (32, 6),
    "medium": (48, 8),
    "edsr_baseline": (64, 16),
    "thin_deep": (32, 16),
}
DATA = [str(REPO.parent / "shared/data/val/Set5/x4"), str(REPO.parent / "shared/data/val/Set14/x4")]


def overrides(name: str, steps: int, out: str) -> list[str]:
    ch, blocks = VARIANTS[name]
    return [
        f"name=sr_arch_{name}",
        f"model.generator_args.channels={ch}",
        f"model.generator_args.n_blocks={blocks}",
        *one_leg_overrides(steps, out),
        "optim.warmup_steps=50",
    ]


def steady_rate(log_csv: Path) -> float:
    """Steps per second of a run's last logged block (its ``it_s`` column): the loop's speed
    once the data cache is filled, without the start-up."""
    with open(log_csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("it_s")]
    return float(rows[-1]["it_s"])


def infer_seconds(run: Path, runs: int) -> tuple[float, int]:
    """(median seconds of x4 of a 512x512 input, as ``scripts/bench/sr.py``; the net's
    parameters)."""
    model = Restorer.from_pretrained(str(run), device="cpu")
    params = sum(p.numel() for m in model.modules.values() for p in m.parameters())
    x = torch.rand(1, 3, 512, 512, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.inference_mode():
        model.run_tensor(x)  # warm-up
        for _ in range(runs):
            t0 = time.perf_counter()
            model.run_tensor(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times), params


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=5.0, help="training wall time per variant")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--probe", type=int, default=100, help="steps of the speed probe")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    recipe = REPO / "configs" / "sr_x4.yaml"
    with tempfile.TemporaryDirectory() as out:
        for name in args.variants:
            probe = train(load_config(recipe, overrides(name, args.probe, f"{out}/probe")))
            rate = steady_rate(probe.out_dir / "log.csv")
            steps = max(args.probe, int(rate * args.minutes * 60))
            t0 = time.perf_counter()
            run = train(load_config(recipe, overrides(name, steps, out))).out_dir
            seconds = time.perf_counter() - t0
            score = score_sr(str(run), DATA)
            infer, params = infer_seconds(run, args.runs)
            row = {
                "variant": name,
                "channels": VARIANTS[name][0],
                "blocks": VARIANTS[name][1],
                "parameters": params,
                "steps": steps,
                "train_seconds": round(seconds, 1),
                "set5": round(score.value, 3),
                "set14": round(next(iter(score.guards.values())), 3),
                "x4_512_seconds": round(infer, 3),
            }
            rows.append(row)
            print(row, flush=True)
    print(
        f"\n| srnet (channels x blocks) | parameters | steps in {args.minutes:g} min | "
        "Set5 x4 PSNR | Set14 x4 PSNR | x4 of 512x512 (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['variant']} ({r['channels']} x {r['blocks']}) | {r['parameters']:,} | "
            f"{r['steps']:,} | {r['set5']:.2f} | {r['set14']:.2f} | {r['x4_512_seconds']:.2f} |"
        )
    if args.json:
        write_rows(args.json, "sr_arch.py", sys.argv[1:], args.threads, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
