"""`restore photo`'s damage mask on real prints, against hand-labelled masks (issue 17).

    python scripts/eval_real_labels.py [--json docs/metrics/photo_real_labels.json]
                                       [--sheet docs/img/real_labels.jpg]
                                       [--model STAGE=MODEL ...] [--detect-flips 1|2|4]
                                       [--threshold T] [--tol 2]

Every print labelled in ``labels/real_old.json`` (how a label is drawn:
:mod:`restore.eval.real_labels`) goes through ``restore.photo.PhotoRestorer`` with its defaults at
full size, as ``restore photo IN -o OUT`` restores it. Two masks are scored against the label,
recall and precision within ``--tol`` px (the issue's real-print bar: recall >= 0.6 at precision
>= 0.6 within 2 px) and exact IoU:

- **used**: the mask the pipeline inpaints (grown, with half-size regions, corners and margins);
- **raw**: the detector's map alone at full size, thresholded as the pipeline thresholds it.

Scores are given per print, pooled over the pixels of all prints (the headline: a print with no
mask at all has no precision to average), and as the mean over prints.

``--sheet`` writes, per print, the label and the used mask over the dimmed print: green = labelled
and found, red = labelled and missed, blue = masked but not labelled, grey = ignored. The prints
have no licence to be redistributed: only these small overlays go into the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from photo_options import add_detection_options, detection_options, stage_models  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.data.io import write_image  # noqa: E402
from restore.evaluate import real_label_report  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402

REAL_OLD = REPO.parent / "shared" / "data" / "real_old"
LABELS = REPO / "labels" / "real_old.json"
HEIGHT = 300


def overlay(rgb: np.ndarray, label: np.ndarray, ignore: np.ndarray, pred: np.ndarray, tol: int):
    """The print dimmed to grey with the label and the prediction in colour (module docstring)."""
    k = np.ones((2 * tol + 1, 2 * tol + 1), np.uint8)
    near_pred = cv2.dilate(pred.astype(np.uint8), k) > 0
    near_label = cv2.dilate(label.astype(np.uint8), k) > 0
    grey = rgb.astype(np.float32).mean(2, keepdims=True) * 0.55 + 60
    out = np.repeat(grey, 3, 2)
    out[ignore] = 200
    out[pred & ~near_label & ~ignore] = (40, 90, 255)
    out[label & near_pred] = (30, 200, 30)
    out[label & ~near_pred] = (235, 30, 30)
    h, w = out.shape[:2]
    size = (max(1, round(w * HEIGHT / h)), HEIGHT)
    return cv2.resize(out.clip(0, 255).astype(np.uint8), size, interpolation=cv2.INTER_AREA)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--input", type=Path, default=REAL_OLD, help="folder the labels' paths are in")
    ap.add_argument("--json", type=Path, help="write the scores here")
    ap.add_argument("--sheet", type=Path, help="write the overlays here (JPEG)")
    ap.add_argument("--tol", type=int, default=2, help="match distance in pixels")
    add_detection_options(ap)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    options = detection_options(args)
    models = stage_models(args)
    pr = PhotoRestorer(device="cpu", models=models, **options)
    tiles: list[np.ndarray] = []

    def tile(name: str, rgb: np.ndarray, label: np.ndarray, ignore: np.ndarray, used: np.ndarray):
        tiles.append(overlay(rgb, label, ignore, used, args.tol))

    res = real_label_report(pr, args.labels, args.input, args.tol, tile if args.sheet else None)
    print("| print | labelled % | mask | recall | precision | IoU | masked % |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for row in res["prints"]:
        for kind in ("used", "raw"):
            s = row[kind]
            print(
                f"| {row['print']} | {100 * s['label_share']:.2f} | {kind} | {s['recall']:.3f} "
                f"| {s['precision']:.3f} | {s['iou']:.3f} | {100 * s['pred_share']:.2f} |"
            )
    for kind in ("used", "raw"):
        t, m = res["pooled"][kind], res["mean"][kind]
        print(
            f"{kind}: pooled recall {t['recall']:.3f} precision {t['precision']:.3f} "
            f"IoU {t['iou']:.3f}; mean over prints {m['recall']:.3f} / {m['precision']:.3f} "
            f"/ {m['iou']:.3f}"
        )
    if args.json:
        command = "python scripts/eval_real_labels.py " + " ".join(sys.argv[1:])
        atomic_write_json(args.json, {"command": command, "models": pr.model_names, **res})
    if args.sheet and tiles:
        gap = np.full((HEIGHT, 6, 3), 255, np.uint8)
        strip = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], 1)
        write_image(args.sheet, strip, quality=80)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
