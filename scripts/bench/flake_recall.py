"""How much of a large flaked patch a damage detector finds, on synthetic flakes and real ones.

    python scripts/bench/flake_recall.py [--model damage --model runs/leg20/damage ...]
                                         [--coarse runs/coarse/damage-coarse ...]

**synthetic**: the held-out photos (Set5 + Set14 HR, centre 256-px crops, made sepia) lose a few
large flakes each (:func:`restore.data.old_print_holes.emulsion_flaking` with ``large_prob`` 1:
3-15% of the crop, cream paper); recall of the detector's map (mean of 4 mirror views, > 0.4, as
``restore photo`` thresholds it at full size) over the flaked pixels, and its masked share of the
same crops before the flakes (false alarms).

**real**: the hand-labelled prints (``labels/real_old.json``), the detector's map alone at full
size: recall over the labelled pixels within 2 px, pooled (``raw`` of
:func:`restore.evaluate.real_label_report`).

``--coarse RUN``: the same rows for a coarse detector's map alone
(:func:`restore.photo.coarse.coarse_probability`: the photo shrunk to a short side of
:data:`restore.photo.coarse.COARSE_SIDE`, mean of 4 mirror views, > 0.5), before any rule of the
pipeline (no colour gate, no face protection, no edge bands), so its recall on the real flakes is
its own; and a row of that map's blobs that ``restore photo`` keeps as bare paper (large and
fibrous: :func:`restore.photo.coarse.fibrous`).

Large flakes are the damage ``restore photo`` misses most on real prints
(``scripts/eval_real_labels.py``; docs/BENCHMARKS.md, "Real damage, hand-labelled"): this
separates "the detector never learned them" (synthetic recall low too) from "the synthetic ones
do not look like the real ones" (synthetic high, real low).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from common import DATA, sepia_crops  # noqa: E402

from restore.data.old_print_holes import emulsion_flaking  # noqa: E402
from restore.evaluate import real_label_report  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402


class CoarseOnly:
    """A coarse detector's thresholded map, answering as a PhotoRestorer's masks do; with
    ``paper``, only its blobs that look like large flakes of bare paper, each as far as the map
    stays over :data:`restore.photo.coarse.COARSE_LOW`, as ``restore photo`` keeps them
    (:func:`restore.photo.coarse.fibrous`, :func:`restore.photo.coarse.reach`)."""

    def __init__(self, name: str, paper: bool = False) -> None:
        from restore.photo.stages import load_stage_model

        self.model = load_stage_model(name, torch.device("cpu"))
        self.paper = paper

    def raw_mask(self, x: torch.Tensor) -> torch.Tensor:
        from restore.photo.coarse import COARSE_THRESHOLD, coarse_probability, fibrous, reach

        with torch.no_grad():
            p = coarse_probability(self.model, x, flips=4)
        m = (p > COARSE_THRESHOLD).float()
        return reach(fibrous(m, x), p) if self.paper else m

    detect_mask = raw_mask


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", action="append", default=[], help="detector(s); default damage")
    ap.add_argument("--coarse", action="append", default=[], help="coarse detector(s), alone")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    clean = sepia_crops()
    flaked, mask = emulsion_flaking(clean, torch.Generator().manual_seed(args.seed), large_prob=1.0)
    flakes = mask > 0.5
    rows = []
    print(
        "| detector | synthetic large flakes: recall | false alarms before them | real labels: recall (raw map) |"
    )
    print("|---|---:|---:|---:|")
    detectors = [(n, PhotoRestorer(device="cpu", models={"detect": n})) for n in args.model]
    for n in args.coarse:
        detectors += [(f"{n} (coarse, alone)", CoarseOnly(n))]
        detectors += [(f"{n} (coarse, large fibrous blobs)", CoarseOnly(n, paper=True))]
    for name, pr in detectors or [("damage", PhotoRestorer(device="cpu"))]:
        with torch.no_grad():
            p = pr.raw_mask(flaked) > 0.5
            fa = pr.raw_mask(clean) > 0.5
        real = real_label_report(pr, REPO / "labels" / "real_old.json", DATA / "real_old")
        row = {
            "model": name,
            "synthetic_recall": float((p & flakes).sum() / flakes.sum()),
            "false_alarm_share": float(fa.float().mean()),
            "real_recall": real["pooled"]["raw"]["recall"],
        }
        rows.append(row)
        print(
            f"| {name} | {row['synthetic_recall']:.3f} | {100 * row['false_alarm_share']:.2f}% "
            f"| {row['real_recall']:.3f} |"
        )
    print(f"({clean.shape[0]} crops, flakes {100 * float(flakes.float().mean()):.1f}% of them)")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
