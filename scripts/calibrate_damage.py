"""Choose a damage detector's threshold on training photos: clean ones must stay (almost) unmasked.

    python scripts/calibrate_damage.py runs/relay/damage [--max-clean 0.002] [--write]

A detector trained on real-print damage also fires on regular textures of clean photos (blinds,
weaves), and every false pixel is inpainted: harm to photos that need no help. This script runs the
detector on the clean photos of ``train/General50`` (training data, never validation) and on the
same photos with seeded real-print damage (``restore.data.old_print``), for thresholds from 0.5 up,
and picks the lowest threshold whose mean masked share of the clean photos is at most
``--max-clean``. ``--write`` stores it in the run's card (``inference.threshold``), which
``restore photo`` reads. It prints the table it chose from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from restore.api import Restorer
from restore.core.atomic import atomic_write_json
from restore.data.datasets import list_images
from restore.data.io import read_image, to_tensor
from restore.data.old_print import OldPrintConfig, old_print_damage
from restore.tasks.damage import binarize

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "train" / "General50"
THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
# hysteresis (binarize's seed): (threshold, seed) pairs; a region must reach the seed somewhere
HYSTERESIS = ((0.3, 0.8), (0.3, 0.9), (0.5, 0.8), (0.5, 0.9), (0.5, 0.95), (0.5, 0.98))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("run", help="run folder (model.safetensors + model.json) or shipped name")
    ap.add_argument(
        "--max-clean", type=float, default=0.002, help="masked share allowed on clean photos"
    )
    ap.add_argument("--write", action="store_true", help="store the threshold in the run's card")
    args = ap.parse_args()
    det = Restorer.from_pretrained(args.run, device="cpu")
    clean_fp = {t: [] for t in THRESHOLDS}
    recall = {t: [] for t in THRESHOLDS}
    h_fp = {h: [] for h in HYSTERESIS}
    h_recall = {h: [] for h in HYSTERESIS}
    for i, p in enumerate(list_images(DATA)):
        x = to_tensor(read_image(p))
        dmg, mask, _ = old_print_damage(x, torch.Generator().manual_seed(i), OldPrintConfig())
        with torch.no_grad():
            pc, pd = det.run_tensor(x)[:, :1], det.run_tensor(dmg)[:, :1]
        for t in THRESHOLDS:
            clean_fp[t].append(float(binarize(pc, t).mean()))
            if mask.sum() > 0:
                recall[t].append(float((binarize(pd, t) * mask).sum() / mask.sum()))
        for h in HYSTERESIS:
            h_fp[h].append(float(binarize(pc, h[0], seed=h[1]).mean()))
            if mask.sum() > 0:
                h_recall[h].append(float((binarize(pd, h[0], seed=h[1]) * mask).sum() / mask.sum()))
    rows = [
        (t, sum(clean_fp[t]) / len(clean_fp[t]), sum(recall[t]) / len(recall[t]))
        for t in THRESHOLDS
    ]
    print("| threshold | masked share of clean photos | recall on real-print damage |")
    print("|---:|---:|---:|")
    for t, fp, rc in rows:
        print(f"| {t:.2f} | {fp:.4f} | {rc:.3f} |")
    print()
    print(
        "| threshold | seed (hysteresis) | masked share of clean photos | recall on real-print damage |"
    )
    print("|---:|---:|---:|---:|")
    for h in HYSTERESIS:
        fp, rc = sum(h_fp[h]) / len(h_fp[h]), sum(h_recall[h]) / len(h_recall[h])
        print(f"| {h[0]:.2f} | {h[1]:.2f} | {fp:.4f} | {rc:.3f} |")
    ok = [t for t, fp, _ in rows if fp <= args.max_clean]
    chosen = ok[0] if ok else THRESHOLDS[-1]
    print(
        f"chosen threshold: {chosen} (clean share <= {args.max_clean}{'' if ok else ': none met it'})"
    )
    if args.write:
        card_path = Path(args.run) / "model.json"
        card = json.loads(card_path.read_text())
        section = card["runtime"]["inference"] if "runtime" in card else card["inference"]
        section["threshold"] = chosen
        card.setdefault("calibration", {})["threshold"] = {
            "value": chosen,
            "rule": f"lowest threshold with <= {args.max_clean} of clean General50 photos masked",
            "command": f"python scripts/calibrate_damage.py {Path(args.run).name} --write",
        }
        atomic_write_json(card_path, card)
        print(f"wrote inference.threshold={chosen} into {card_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
