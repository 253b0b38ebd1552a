"""Data echoing on the CPU: more steps per hour for the recipes whose batches cost more to make
than to learn from (issue 21).

    python scripts/bench/echo.py [--recipe damage] [--minutes 8] [--echo 1 2 4] [--json F]

On the 2-core CPU, one batch of the damage detector's recipe (4 x 256 px of synthetic print
damage, ``restore.data.old_print``) takes several times longer to draw than the detector's
forward and backward pass on it (``python scripts/bench/gpu_synthesis.py --device cpu``). With
``train.echo`` = k each drawn batch serves k steps, each time in another mirror view
(``restore.tasks.base.echo_view``; Choi et al. 2019, "Faster Neural Network Training with Data
Echoing").

Each ``--echo`` value trains the recipe **from scratch** for the same wall time, one after
another with all threads (never in parallel on 2 cores): a probe of ``--probe`` steps measures its
speed, then its steps are set so that the run takes ``--minutes``. Each run is then scored by the
relay's scorer for the recipe (``restore.relay_scoring``; for the detector: ``restore photo``'s gain
over the input on the independent damage, and ``restore eval``'s mask IoU on its own damage of
held-out Set14). Prints a Markdown table; ``--json`` keeps it. Only fair on an idle machine.
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
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from common import one_leg_overrides, write_rows  # noqa: E402
from sr_arch import steady_rate  # noqa: E402

from restore.config import load_config  # noqa: E402
from restore.relay_scoring import SCORERS  # noqa: E402
from restore.train import train  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
#: recipe -> (its file, the CPU relay's data settings, the relay scorer, its data sets)
RECIPES = {
    "damage": (
        "configs/damage.yaml",
        ["data.patch_size=256", "data.batch_size=4"],
        "photo_detect",
        [str(SHARED / "val/Set5/x4/HR"), str(SHARED / "val/Set14/x4/HR")],
    ),
}


def overrides(recipe: str, echo: int, steps: int, seed: int, out: str) -> list[str]:
    return [
        f"name={recipe}_echo{echo}_seed{seed}",
        *RECIPES[recipe][1],
        f"train.echo={echo}",
        f"train.seed={seed}",
        *one_leg_overrides(steps, out),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--recipe", default="damage", choices=list(RECIPES))
    ap.add_argument("--minutes", type=float, default=8.0, help="training wall time per run")
    ap.add_argument("--echo", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--probe", type=int, default=100, help="steps of the speed probe")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    path, _, scorer, data = RECIPES[args.recipe]
    recipe = REPO / path
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for seed in args.seeds:
            for echo in args.echo:
                probe = train(
                    load_config(
                        recipe, overrides(args.recipe, echo, args.probe, seed, f"{out}/probe")
                    )
                )
                rate = steady_rate(probe.out_dir / "log.csv")
                steps = max(args.probe, int(rate * args.minutes * 60))
                steps -= steps % echo
                t0 = time.perf_counter()
                run = train(
                    load_config(recipe, overrides(args.recipe, echo, steps, seed, out))
                ).out_dir
                seconds = time.perf_counter() - t0
                score = SCORERS[scorer](str(run), data)
                row = {
                    "echo": echo,
                    "seed": seed,
                    "steps": steps,
                    "batches_made": steps // echo,
                    "train_seconds": round(seconds, 1),
                    "headline": round(score.value, 3),
                    **{k: round(v, 4) for k, v in score.guards.items()},
                }
                for label, ev in score.evals.items():  # restore eval's own protocol per set
                    for k in ("iou", "precision", "recall", "f1"):
                        if isinstance(ev.get(k), float):
                            row[f"{label} {k}"] = round(ev[k], 4)
                rows.append(row)
                print(row, flush=True)
    keys = [k for k in rows[0] if k not in ("echo", "seed")]
    print(f"\n| echo | seed | {' | '.join(keys)} |")
    print("|---:|---:|" + "---:|" * len(keys))
    for r in rows:
        print(
            f"| {r['echo']} | {r['seed']} | " + " | ".join(str(r.get(k, "")) for k in keys) + " |"
        )
    if args.json:
        write_rows(args.json, "echo.py", sys.argv[1:], args.threads, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
