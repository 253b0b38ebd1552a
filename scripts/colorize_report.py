"""Score a colorization model on Set5 and Set14 (grey-ified HR images) beside the grey baseline.

    python scripts/colorize_report.py colorize --json docs/metrics/colorize.json

Runs ``Task.evaluate`` (the ``restore eval`` protocol: RGB PSNR / SSIM, Hasler-Suesstrunk
colourfulness and its ratio to the ground truth) on each set, prints one table (model vs
grayscale) and the issue's bars (PSNR >= grey + 0.5 dB, colourfulness ratio in [0.6, 1.3]), and
optionally writes ``{"Set5": result, "Set14": result}`` as JSON for the model card.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.evaluate import evaluate_model  # noqa: E402

VAL = REPO.parent / "shared" / "data" / "val"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("model", help="shipped name, weights file or run folder")
    ap.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    print("set   | method    | psnr    | ssim   | colorfulness | ratio to GT | bars")
    for name in args.sets:
        r = evaluate_model(args.model, str(VAL / name / "x4" / "HR"), device="cpu")
        results[name] = r
        bars = r.get("bars", {})
        for method in ("model", "grayscale"):
            m = r["mean"][method]
            bar = ""
            if method == "model" and bars:
                bar = (
                    f"+{bars['psnr_gain_db']:.2f} dB ({'ok' if bars['psnr_gain_ok'] else 'MISSED'}), "
                    f"ratio {'ok' if bars['colorfulness_ratio_ok'] else 'MISSED'}"
                )
            print(
                f"{name:5} | {method:9} | {m['psnr']:7.3f} | {m['ssim']:.4f} | "
                f"{m['colorfulness']:12.2f} | {m['colorfulness_ratio'] or 0:11.3f} | {bar}"
            )
    if args.json:
        atomic_write_json(args.json, results)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
