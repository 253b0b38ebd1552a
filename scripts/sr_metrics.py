"""The metrics of an SR model card: ``restore eval`` on Set5 and Set14, plus sharpness.

    python scripts/sr_metrics.py runs/sr_x4 --scale 4 --out docs/metrics/sr-x4.json

Runs ``restore eval --model MODEL --data ../shared/data/val/{Set5,Set14}/x{scale} --json ...``
(the model beside the bicubic baseline, Y channel, ``scale`` pixels shaved) and
``scripts/sharpness.py`` on the same folders, and merges their JSON into one file for
``scripts/ship_model.py --metrics``. Prints the summary table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "val"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("model", help="shipped name, weights file or run folder")
    ap.add_argument("--scale", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    args = ap.parse_args()
    merged: dict[str, object] = {"model": args.model, "scale": args.scale, "protocol": {}}
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [DATA / s / f"x{args.scale}" for s in args.sets]
        for s, d in zip(args.sets, dirs):
            j = Path(tmp) / f"{s}.json"
            cmd = ["restore", "eval", "--model", args.model, "--data", str(d), "--json", str(j)]
            print("$", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
            res = json.loads(j.read_text())
            res["command"] = " ".join(cmd)
            merged[f"{s}_x{args.scale}"] = res
            m = res["mean"]
            summary.append((s, m["model"]["psnr"], m["model"]["ssim"], m["bicubic"]["psnr"]))
        sj = Path(tmp) / "sharp.json"
        cmd = [sys.executable, str(REPO / "scripts" / "sharpness.py"), "--model", args.model]
        cmd += [a for d in dirs for a in ("--data", str(d))] + ["--json", str(sj)]
        cmd += ["--scale", str(args.scale)]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        merged["sharpness"] = json.loads(sj.read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(merged, indent=2))
    print(f"\n{'set':<6} {'psnr':>8} {'ssim':>7} {'bicubic':>8}")
    for s, p, q, b in summary:
        print(f"{s:<6} {p:8.2f} {q:7.4f} {b:8.2f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
