"""The push-pull prefill's confidence (``restore.tasks.inpainting_fill.push_pull_fill``) under the
inpainting protocol, same weights, same masks, side by side.

    python scripts/bench/inpaint_prefill.py [--model inpaint] [--model runs/relay32i/inpaint]
                                            [--confidence 0 4 8 16] [--json docs/metrics/inpaint_prefill.json]

For each model and each confidence (the card's ``inference.prefill_confidence`` replaced), the
bucketed protocol of ``restore relay``'s inpaint score (:func:`restore.eval.inpaint_buckets.evaluate_buckets`,
centre crops up to 256 px, one seeded mask per image per hole-ratio bucket) on

- ``val``:   Set5 + Set14 HR (the relay's headline: mean over the 20-60% buckets of the model's
             PSNR minus the best classical method's, ``docs/metrics/inpaint-classical.json``);
- ``train``: General50 of the training folder, where the confidence was chosen; the same
             classical numbers are subtracted, so only the differences between rows mean
             anything there.

The confidence only changes how the holes are pre-filled before G's correction: a coarse cell of
the pyramid that sees a few known pixels (an island inside a large hole) weighs its own average by
``min(1, confidence x known share)``. 0 is the rule the shipped model was trained with until
2026-12-05.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from common import write_rows  # noqa: E402

from restore.api import Restorer  # noqa: E402
from restore.eval.inpaint_buckets import evaluate_buckets  # noqa: E402
from restore.relay_scoring import INPAINT_CLASSICAL  # noqa: E402
from restore.tasks.inpainting import InpaintingTask  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SETS = {
    "val": [DATA / "val" / "Set5" / "x4" / "HR", DATA / "val" / "Set14" / "x4" / "HR"],
    "train": [DATA / "train" / "General50"],
}
BUCKETS = ("20-30%", "30-40%", "40-50%", "50-60%")


def with_confidence(r: Restorer, confidence: float) -> Restorer:
    """``r`` with its card's ``inference.prefill_confidence`` set to ``confidence``."""
    card = copy.deepcopy(r.card)
    card["runtime"].setdefault("inference", {})["prefill_confidence"] = confidence
    pred = InpaintingTask.predictor(card["runtime"], r.modules)
    return Restorer(pred, card, r.modules, device=r.device, dtype=r.dtype, tile=r.tile)


def score(r: Restorer, dirs: list[Path], best: dict[str, float]) -> dict[str, float]:
    """Mean gap over the 20-60% buckets to ``best`` (per bucket), and each bucket's gap."""
    res = evaluate_buckets(lambda x, m: r.run_tensor(x, mask=m), [str(d) for d in dirs])
    gaps = {b: res["buckets"][b]["model"]["psnr"] - best[b] for b in BUCKETS}
    return {"mean": sum(gaps.values()) / len(gaps), **gaps}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", action="append", default=[], help="default: inpaint")
    ap.add_argument("--confidence", type=float, nargs="+", default=[0, 4, 8, 16])
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    classical = json.loads(INPAINT_CLASSICAL.read_text())["buckets"]
    best = {b: max(classical[b].values()) for b in BUCKETS}
    rows = []
    print("| model | card's confidence | confidence | " + " | ".join(args.sets) + " |")
    print("|---|---:|---:|" + "---:|" * len(args.sets))
    for name in args.model or ["inpaint"]:
        base = Restorer.from_pretrained(name, device="cpu")
        own = float(base.inference.get("prefill_confidence", 0.0))
        for k in args.confidence:
            r = with_confidence(base, k)
            row = {"model": name, "card_confidence": own, "confidence": k}
            for s in args.sets:
                row[s] = score(r, SETS[s], best)
            rows.append(row)
            cells = " | ".join(f"{row[s]['mean']:+.3f}" for s in args.sets)
            print(f"| {name} | {own:g} | {k:g} | {cells} |", flush=True)
    print("(mean over the 20-60% buckets of PSNR - best classical PSNR on Set5 + Set14, dB)")
    if args.json:
        write_rows(args.json, "inpaint_prefill.py", sys.argv[1:], args.threads, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
