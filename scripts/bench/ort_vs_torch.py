"""torch eager vs ONNX Runtime latency of every exportable shipped model, through the same API path.

(Not named onnx.py: this folder is on sys.path when a script here runs, and a file onnx.py would
shadow the onnx package the exporter imports.)

    nice -n 5 python scripts/bench/ort_vs_torch.py [--threads 2] [--runs 3] [--sizes 512 1024] [--models ...]

For each model: ``restore.export.export_onnx`` into a temporary folder, then the median latency of
``restore.load(name)(array)`` (torch eager) and of ``restore.export.load_onnx(file)(array)``
(ONNX Runtime: the task's own predictor with the session in place of the network; same tiling,
padding and pre/post-processing) on a random RGB uint8 image of each size, after one warm-up each.
Both run in this process with the same thread count (``torch.set_num_threads`` and ONNX Runtime's
``intra_op_num_threads``); within each repetition the order alternates (torch first on even runs,
ORT first on odd ones) so drifting load from other users hits both alike. Inpainting gets the same
10% stroke mask as ``scripts/bench/inference.py``. The last column is the largest difference of
the two uint8 outputs (grey levels). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="*", default=[512, 1024])
    ap.add_argument("--models", nargs="*", default=None, help="default: every exportable one")
    args = ap.parse_args()

    import numpy as np
    import onnxruntime
    import torch

    import restore
    from restore.data.masks import stroke_masks
    from restore.export import NETWORK_IO, export_onnx, load_onnx
    from restore.models import list_models

    sys.path.insert(0, str(REPO / "scripts" / "bench"))
    from common import cpu_name

    torch.set_num_threads(args.threads)
    cards = list_models()
    names = args.models or [n for n, c in cards.items() if c.get("task") in NETWORK_IO]
    print(
        f"machine: {cpu_name()}, {args.threads} threads (torch {torch.__version__}, "
        f"onnxruntime {onnxruntime.__version__}), median of {args.runs} after 1 warm-up, "
        f"load average at start: {load_average()}"
    )
    print()
    print(
        "| model | task | size | torch eager s | ONNX Runtime s | ORT speed-up | max diff (uint8) |"
    )
    print("|---|---|---|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            res = export_onnx(name, Path(tmp) / f"{name}.onnx")
            models = {
                "torch": restore.load(name, device="cpu"),
                "ort": load_onnx(res.path, threads=args.threads),
            }
            for side in args.sizes:
                img = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
                kw = {}
                if cards[name]["task"] == "inpainting":
                    m = stroke_masks(
                        1,
                        side,
                        side,
                        width="medium",
                        hole_range=(0.08, 0.12),
                        generator=torch.Generator().manual_seed(0),
                    )
                    kw["mask"] = m[0, 0].numpy() > 0
                outs = {k: m(img, **kw) for k, m in models.items()}  # warm-up
                times: dict[str, list[float]] = {"torch": [], "ort": []}
                for r in range(args.runs):
                    for k in ("torch", "ort") if r % 2 == 0 else ("ort", "torch"):
                        t0 = time.perf_counter()
                        models[k](img, **kw)
                        times[k].append(time.perf_counter() - t0)
                t, o = statistics.median(times["torch"]), statistics.median(times["ort"])
                diff = int(np.abs(outs["torch"].astype(int) - outs["ort"].astype(int)).max())
                print(
                    f"| {name} | {cards[name]['task']} | {side}x{side} | {t:.3f} | {o:.3f} | "
                    f"{t / o:.2f}x | {diff} |",
                    flush=True,
                )
    print()
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
