"""Inpainting beside the classical methods, per hole-ratio bucket, on Set5 + Set14 (HR).

    python scripts/eval_inpaint.py --model inpaint --json docs/metrics/inpaint.json

Every image is centre-cropped to at most 256 x 256 (``--crop``: skimage's biharmonic solver is
slow on large images) and gets one SEEDED procedural mask (stroke thin/medium/thick, box or blob)
per hole-ratio bucket 0-10%, ..., 50-60% (:func:`restore.tasks.inpainting.bucket_mask`). The
colleagues' :func:`restore.eval.protocols.inpaint_protocol` composites and scores each method
(whole-image PSNR / SSIM in RGB, hole-only PSNR and L1); this script adds the per-bucket loop,
the side-by-side table and the bar: the model must beat the best classical method in every
bucket from 10% up, and by >= 1.0 dB mean PSNR over the 20-60% buckets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from restore.api import Restorer  # noqa: E402
from restore.eval.inpaint_buckets import evaluate_buckets  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "val"
CLASSICAL = ("telea", "navier_stokes", "biharmonic")


def summary(result: dict) -> dict:
    """Per-bucket PSNR gaps and the bar verdicts."""
    buckets = result["buckets"]
    rows = result["rows"]
    gaps = {}
    for label, per in buckets.items():
        best = max(CLASSICAL, key=lambda m: per[m]["psnr"])
        gaps[label] = {"best_classical": best, "gap_db": per["model"]["psnr"] - per[best]["psnr"]}
    hi = [r for r in rows if r["bucket"] in ("20-30%", "30-40%", "40-50%", "50-60%")]

    def mean(m: str) -> float:
        v = [r["psnr"] for r in hi if r["method"] == m]
        return sum(v) / len(v)

    best = max(CLASSICAL, key=mean)
    return {
        "gaps": gaps,
        "psnr_20_60": {m: mean(m) for m in ("model", *CLASSICAL)},
        "gap_20_60_db": mean("model") - mean(best),
        "best_classical_20_60": best,
        "beats_every_bucket_from_10": all(
            g["gap_db"] > 0 for k, g in gaps.items() if not k.startswith("0-")
        ),
        "bar_1db_20_60": mean("model") - mean(best) >= 1.0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="inpaint", help="shipped name, weights file or run folder")
    ap.add_argument(
        "--data",
        nargs="+",
        default=[str(DATA / "Set5/x4/HR"), str(DATA / "Set14/x4/HR")],
        help="folders of ground-truth images",
    )
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write the result (card metrics) here")
    ap.add_argument("--rows", action="store_true", help="also write the per-image rows")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    r = Restorer.from_pretrained(args.model, device="cpu")
    t0 = time.perf_counter()
    result = evaluate_buckets(
        lambda x, m: r.run_tensor(x, mask=m), args.data, crop=args.crop, seed=args.seed
    )
    result["summary"] = summary(result)
    result["seconds"] = round(time.perf_counter() - t0, 1)

    names = {
        "model": "inpaint (ours)",
        "telea": "Telea",
        "navier_stokes": "NS",
        "biharmonic": "biharmonic",
    }
    print(
        f"{result['count'] // 6} images (Set5+Set14 HR, centre crops <= {args.crop}px), one seeded mask per bucket"
    )
    print(
        "bucket  | n  | "
        + " | ".join(f"{names[m]:>26}" for m in ("model", *CLASSICAL))
        + " | gap dB"
    )
    print("        |    | " + " | ".join(f"{'PSNR / SSIM / holeL1':>26}" for _ in range(4)) + " |")
    for label, per in result["buckets"].items():
        cells = [
            f"{per[m]['psnr']:6.2f} / {per[m]['ssim']:.4f} / {per[m]['hole_l1']:.4f}"
            for m in ("model", *CLASSICAL)
        ]
        n = per["model"]["count"]
        print(
            f"{label:7} | {n:2} | "
            + " | ".join(f"{c:>26}" for c in cells)
            + f" | {result['summary']['gaps'][label]['gap_db']:+.2f}"
        )
    s = result["summary"]
    print(
        "mean PSNR 20-60%: " + ", ".join(f"{names[m]} {v:.2f}" for m, v in s["psnr_20_60"].items())
    )
    print(
        f"gap over best classical ({s['best_classical_20_60']}) 20-60%: {s['gap_20_60_db']:+.2f} dB "
        f"(bar >= 1.0: {'met' if s['bar_1db_20_60'] else 'MISSED'}); beats best classical in every bucket "
        f"from 10%: {'yes' if s['beats_every_bucket_from_10'] else 'NO'}; {result['seconds']} s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        keep = result if args.rows else {k: v for k, v in result.items() if k != "rows"}
        args.json.write_text(json.dumps(keep, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
