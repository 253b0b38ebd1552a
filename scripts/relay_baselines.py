"""The classical inpainting baselines the relay's inpainting scorer compares against.

    python scripts/relay_baselines.py             # recompute (Telea, NS, biharmonic; ~10 min)
    python scripts/relay_baselines.py --from-card # take them from the shipped inpaint card

The protocol is fixed (Set5 + Set14 x4/HR, centre crops of 256, seeded masks per bucket, seed 0:
``restore.eval.inpaint_buckets``), so the classical numbers never change: the relay reads them from
``docs/metrics/inpaint-classical.json`` instead of re-running biharmonic for every leg.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from restore.core.atomic import atomic_write_json
from restore.eval.inpaint_buckets import evaluate_buckets
from restore.models import WEIGHTS_DIR
from restore.relay_scoring import INPAINT_CLASSICAL

REPO = Path(__file__).resolve().parents[1]
DATA = [REPO.parent / "shared/data/val/Set5/x4/HR", REPO.parent / "shared/data/val/Set14/x4/HR"]
CLASSICAL = ("telea", "navier_stokes", "biharmonic")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--from-card", action="store_true", help="copy them from restore/weights/inpaint.json"
    )
    args = ap.parse_args()
    if args.from_card:
        card = json.loads((WEIGHTS_DIR / "inpaint.json").read_text())
        buckets = card["metrics"]["buckets"]
        settings = card["metrics"]["settings"]
    else:
        res = evaluate_buckets(None, [str(d) for d in DATA], baselines=True)
        buckets, settings = res["buckets"], res["settings"]
    out = {
        "protocol": "restore.eval.inpaint_buckets.evaluate_buckets, Set5 + Set14 x4/HR",
        "settings": {k: v for k, v in settings.items() if k != "image_dirs"},
        "buckets": {b: {m: round(r[m]["psnr"], 4) for m in CLASSICAL} for b, r in buckets.items()},
    }
    atomic_write_json(INPAINT_CLASSICAL, out)
    print(json.dumps(out["buckets"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
