"""Does an x2 network learn faster from the shipped x4 network's features (issue 21)?

    python scripts/bench/sr_cross_scale.py [--steps 600] [--ema 0] [--json F]

The GPU call trains sr-x2 at EDSR-baseline size (64 channels x 16 blocks) from scratch, because
the shipped sr-x2 is the CPU recipe's small network, while the shipped sr-x4 already has that
size. ``restore train configs/gpu/sr_x2.yaml --from sr-x4`` loads sr-x4's head and body (they
work at the low resolution, whatever the scale) and starts the x2 pixel-shuffle layer at zero
(:func:`restore.continuation.other_scale`). This runs that network both ways for the same
steps, same seed and same batches: ``configs/sr_x2.yaml`` at 64 x 16, the GPU recipe's rate
(4e-4, cosine) and a ``--warmup``-step warm-up, 64-px patches in batches of 16, all of
``../shared/data/train``, one run after the other with all threads. Both are scored by
``restore eval``'s protocol (Y PSNR, shave 2) on Set5 and Set14 x2, beside the shipped sr-x2.

The exported weights are the recipe's EMA (decay 0.999, no warm-up: after 800 steps 45% of
them is still the start); ``--ema 0`` scores the trained weights themselves.

Prints a Markdown table; ``--json`` keeps it. Steps are fixed, so the numbers do not depend on
the machine's load; the seconds do.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from common import one_leg_overrides, write_rows  # noqa: E402

from restore.config import load_config  # noqa: E402
from restore.continuation import StartWeights  # noqa: E402
from restore.models import resolve  # noqa: E402
from restore.relay_scoring import score_sr  # noqa: E402
from restore.train import train  # noqa: E402

DATA = [str(REPO.parent / "shared/data/val/Set5/x2"), str(REPO.parent / "shared/data/val/Set14/x2")]
SIZE = ("model.generator_args.channels=64", "model.generator_args.n_blocks=16")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--steps", type=int, default=600, help="training steps of each run")
    ap.add_argument("--warmup", type=int, default=50, help="warm-up steps of each run")
    ap.add_argument("--lr", type=float, default=4e-4, help="peak learning rate (GPU recipe's)")
    ap.add_argument("--start", default="sr-x4", help="the x4 model to start from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay (0: no average)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    recipe = REPO / "configs" / "sr_x2.yaml"
    path, card, _ = resolve(args.start)
    start = StartWeights(path=path, card=card, label=args.start)
    shipped = score_sr("sr-x2", DATA)
    rows = [
        {
            "start": "shipped sr-x2 (32 x 6)",
            "steps": None,
            "train_seconds": None,
            "set5": round(shipped.value, 3),
            "set14": round(next(iter(shipped.guards.values())), 3),
        }
    ]
    with tempfile.TemporaryDirectory() as out:
        for name, init in (("scratch", None), (f"from {args.start}", start)):
            cfg = load_config(
                recipe,
                [
                    f"name=x2_{'scratch' if init is None else 'from_x4'}",
                    *SIZE,
                    f"optim.lr_g={args.lr}",
                    f"optim.warmup_steps={args.warmup}",
                    f"train.seed={args.seed}",
                    f"train.ema_decay={args.ema}",
                    *one_leg_overrides(args.steps, out),
                ],
            )
            t0 = time.perf_counter()
            run = train(cfg, init_from=init).out_dir
            seconds = time.perf_counter() - t0
            score = score_sr(str(run), DATA)
            row = {
                "start": f"64 x 16, {name}",
                "steps": args.steps,
                "train_seconds": round(seconds, 1),
                "set5": round(score.value, 3),
                "set14": round(next(iter(score.guards.values())), 3),
            }
            rows.append(row)
            print(row, flush=True)
    print("\n| x2 network, start | steps | train s | Set5 x2 PSNR | Set14 x2 PSNR |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        steps = "-" if r["steps"] is None else f"{r['steps']:,}"
        secs = "-" if r["train_seconds"] is None else f"{r['train_seconds']:.0f}"
        print(f"| {r['start']} | {steps} | {secs} | {r['set5']:.3f} | {r['set14']:.3f} |")
    if args.json:
        write_rows(args.json, "sr_cross_scale.py", sys.argv[1:], args.threads, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
