"""Where the GPU call's print-damage legs spend their time (issue 21).

In the first GPU call (2026-11-29, H200, nine legs at once) the legs that synthesise real-print
damage (damage, enhance, inpaint) trained at 1.5-2.5 it/s while the SR legs ran at 36 it/s. This
times, alone on the device, one ``make_batch`` of each recipe's task (batch and patch of its GPU
recipe) with the training loop's generator on the device (what ``restore train`` does) and with a
CPU generator (old_print's host reads stay off the device), and one forward + backward of G.

    python scripts/bench/gpu_synthesis.py --device cuda --json $OUT/synthesis.json
    python scripts/bench/gpu_synthesis.py --device cpu --batch 4 --reps 2   # CPU smoke
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from restore.config import load_config  # noqa: E402
from restore.tasks import create_task  # noqa: E402

RECIPES = ("damage", "enhance", "inpaint", "sr_x4")


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _time(fn, dev: torch.device, reps: int) -> float:
    fn()  # warm-up (kernels, caches)
    _sync(dev)
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    _sync(dev)
    return (time.perf_counter() - t) / reps


def bench(recipe: str, dev: torch.device, batch: int, reps: int) -> dict:
    cfg = load_config(REPO / "configs" / "gpu" / f"{recipe}.yaml", ["data.val="])
    task = create_task(cfg)
    b = batch or cfg.data.batch_size
    p = cfg.data.patch_size
    g0 = torch.Generator().manual_seed(0)
    raw = (torch.rand(b, 3, p, p, generator=g0) * 255).to(torch.uint8).to(dev)
    gen_dev = torch.Generator(dev).manual_seed(0)
    gen_cpu = torch.Generator().manual_seed(0)
    row = {"recipe": recipe, "batch": b, "patch": p}
    row["make_batch_device_gen_s"] = _time(lambda: task.make_batch(raw, gen_dev), dev, reps)
    try:
        row["make_batch_cpu_gen_s"] = _time(lambda: task.make_batch(raw, gen_cpu), dev, reps)
    except RuntimeError as e:  # some draws need a generator on the images' device
        row["make_batch_cpu_gen_s"] = f"{type(e).__name__}: {e}"
        gen_cpu = gen_dev
    nets = {k: v.to(dev) for k, v in task.build_networks().items()}
    batch_ = task.make_batch(raw, gen_cpu)

    def step() -> None:  # G's forward (the task's own) and a backward through it
        nets["G"].zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            out = task.forward(nets, batch_)
        sum(v.float().mean() for v in out.values() if v.requires_grad).backward()

    row["g_fwd_bwd_s"] = _time(step, dev, reps)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=0, help="0: the recipe's batch size")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    dev = torch.device(args.device)
    rows = []
    for r in args.recipes.split(","):
        try:
            rows.append(bench(r, dev, args.batch, args.reps))
        except Exception as e:  # report and go on: one broken row must not lose the others
            rows.append({"recipe": r, "error": f"{type(e).__name__}: {e}"})
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"device": str(dev), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
