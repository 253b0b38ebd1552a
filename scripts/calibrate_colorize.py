"""Calibrate a colorization model's chroma gain on TRAINING images (never on val/).

    python scripts/calibrate_colorize.py runs/colorize --data ../shared/data/train --write

A colour GAN trained briefly predicts chroma that is too weak (regression towards grey). The
model card's ``inference.chroma_gain`` multiplies the predicted a*b* before the user's
``saturation=`` (default 1.0). This script greys ``--images`` training photos (every k-th of the
sorted list, short side resized to ``--short-side``; BT.601 luma, as the evaluation protocol), runs
the model once per image, and for each gain in a grid prints the mean RGB PSNR and the mean
colourfulness ratio (output / ground truth, Hasler-Suesstrunk). The chosen gain is the smallest one
whose mean ratio reaches ``--target`` (default 0.8: colourful enough, while a larger gain costs
PSNR wherever the hue guess is wrong), capped at ``--max-gain``. With ``--write`` it
is stored in the run's ``model.json`` (the weights, and so their SHA-256, are unchanged).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.card import strip_machine_paths, upgrade_card  # noqa: E402
from restore.data.datasets import list_images  # noqa: E402
from restore.data.io import read_image, to_tensor  # noqa: E402
from restore.eval.baselines import grayscale_baseline  # noqa: E402
from restore.eval.metrics import colorfulness, psnr  # noqa: E402
from restore.models import load_predictor  # noqa: E402
from restore.tasks.colorization import (  # noqa: E402
    lab_to_rgb_in_gamut,
    predict_ab,
    rgb_to_lab,
    work_shape,
)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("run", type=Path, help="run folder (model.safetensors + model.json)")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train"))
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--short-side", type=int, default=320)
    ap.add_argument("--target", type=float, default=0.8)
    ap.add_argument("--max-gain", type=float, default=3.0)
    ap.add_argument("--write", action="store_true", help="store the gain in RUN/model.json")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if "/val" in str(Path(args.data).resolve()):
        print("error: calibrate on training images, never on val/", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)

    _, card, modules = load_predictor(args.run)
    G = modules["G"]
    work = int(card["runtime"]["inference"].get("work_size", 256))
    paths = list_images(args.data)
    step = max(1, len(paths) // args.images)
    gains = [0.0] + [round(0.3 + 0.05 * i, 2) for i in range(int((args.max_gain - 0.3) / 0.05) + 1)]
    ps = {g: [] for g in gains}
    cr = {g: [] for g in gains}
    used = 0
    with torch.inference_mode():
        for p in paths[::step][: args.images]:
            img = read_image(p)
            if img.grayscale:
                continue
            x = to_tensor(img)
            s = args.short_side / min(x.shape[-2:])
            if s < 1:
                size = (round(x.shape[-2] * s), round(x.shape[-1] * s))
                x = F.interpolate(x, size=size, mode="bilinear", antialias=True).clamp(0, 1)
            cf_gt = float(colorfulness(x)[0])
            if cf_gt < 1.0:
                continue
            lum = rgb_to_lab(grayscale_baseline(x))[:, :1]
            mult = int(getattr(G, "size_multiple", 1))
            ab = predict_ab(G, lum, work_shape(x.shape[-2], x.shape[-1], work, mult))
            for g in gains:
                y = lab_to_rgb_in_gamut(lum, ab * g)
                ps[g].append(float(psnr(y, x)[0]))
                cr[g].append(float(colorfulness(y)[0]) / cf_gt)
            used += 1
    print(f"{used} training images from {args.data} (short side <= {args.short_side})")
    print("gain | psnr    | colorfulness ratio")
    for g in gains:
        label = "grey" if g == 0 else f"{g:4.2f}"
        print(f"{label:4} | {sum(ps[g]) / used:7.3f} | {sum(cr[g]) / used:6.3f}")
    mean_ratio = {g: sum(cr[g]) / used for g in gains}
    # gain 0 (grey) is only printed for reference; below the target ratio, a smaller gain buys
    # PSNR with colour the user asked for, so the first gain that reaches it is the best trade
    ok = [g for g in gains if g > 0 and mean_ratio[g] >= args.target]
    chosen = ok[0] if ok else gains[-1]
    print(f"chosen chroma_gain: {chosen} (ratio {mean_ratio[chosen]:.3f}, target {args.target})")
    if args.write:
        path = args.run / "model.json" if args.run.is_dir() else args.run.with_suffix(".json")
        data = upgrade_card(json.loads(path.read_text()))
        data["runtime"]["inference"]["chroma_gain"] = chosen  # what runs; how it was chosen:
        data.setdefault("calibration", {})["chroma_gain"] = {
            "data": args.data,
            "images": used,
            "short_side": args.short_side,
            "target_colorfulness_ratio": args.target,
            "ratio": round(mean_ratio[chosen], 4),
            "psnr": round(sum(ps[chosen]) / used, 4),
            "command": " ".join(["python", "scripts/calibrate_colorize.py", *sys.argv[1:]]),
        }
        atomic_write_json(path, strip_machine_paths(data))
        print(f"wrote inference.chroma_gain={chosen} to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
