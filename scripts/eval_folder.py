"""Evaluate a model on a folder of clean images: degrade, restore, score, beside a baseline.

    python scripts/eval_folder.py --model NAME_OR_PATH --data DIR [--n 20] [--size 128] [--seed 0]

Each image is centre-cropped to ``--size`` (a multiple of the model's scale) and degraded the
way the model's task expects, with a fixed seed:

=================  ===============================================  ==========================
task               input                                            baseline
=================  ===============================================  ==========================
super_resolution   MATLAB bicubic downscale by the model's scale    bicubic upscale
enhance            old-photo damage (fading, grain, blur, JPEG)     the damaged input
inpainting         random stroke/box/blob masks, 10-50 % holes      cv2.inpaint (Telea)
colorization       BT.601 gray                                      the gray image
=================  ===============================================  ==========================

PSNR (capped at 100 dB for identical images) / SSIM are RGB, per image, averaged (``restore eval`` runs the published protocols; this
script is for any folder of your own photos). Prints a table; ``--json FILE`` saves it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

import restore
from restore.data.datasets import list_images
from restore.data.io import read_image, to_tensor
from restore.eval.metrics import psnr, ssim


def degrade(task: str, clean: torch.Tensor, scale: int, g: torch.Generator):
    """(model input, keywords, baseline output) for one clean (1, 3, H, W) image."""
    from restore.eval import baselines

    if task == "super_resolution":
        from restore.data.resize import imresize

        lr = imresize(clean, 1 / scale).clamp(0, 1)
        return lr, {}, baselines.bicubic_upscale(lr, scale).clamp(0, 1)
    if task == "inpainting":
        from restore.data.masks import random_masks

        m = random_masks(1, *clean.shape[-2:], generator=g).float()
        holed = clean * (1 - m)
        return holed, {"mask": m}, baselines.inpaint_telea(holed, m)
    if task == "colorization":
        from restore.data.degrade import to_gray

        gray = to_gray(clean).expand(-1, 3, -1, -1)
        return gray, {}, gray
    from dataclasses import replace

    from restore.data.degrade import OldPhotoConfig, old_photo_damage

    cfg = replace(OldPhotoConfig(), scratch_prob=0.0, dust_prob=0.0, crease_prob=0.0)
    damaged, _ = old_photo_damage(clean, generator=g, config=cfg)
    return damaged, {}, damaged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", required=True, help="folder of clean images (recursive)")
    ap.add_argument("--n", type=int, default=20, help="images used (sorted, first n)")
    ap.add_argument("--size", type=int, default=128, help="centre crop side")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)

    model = restore.load(args.model, device=args.device)
    s = args.size // model.scale * model.scale
    rows = {"model": [], "baseline": []}
    g = torch.Generator().manual_seed(args.seed)
    used = 0
    for path in list_images(args.data):
        if used == args.n:
            break
        x = to_tensor(read_image(path))
        h, w = x.shape[-2:]
        if min(h, w) < s:
            continue
        top, left = (h - s) // 2, (w - s) // 2
        clean = x[..., top : top + s, left : left + s]
        inp, kw, base = degrade(model.task, clean, model.scale, g)
        out = model.run_tensor(inp, **kw).clamp(0, 1)
        for name, y in (("model", out), ("baseline", base)):
            rows[name].append((min(float(psnr(y, clean)), 100.0), float(ssim(y, clean))))
        used += 1
    if not used:
        raise SystemExit(f"no image of at least {s}x{s} in {args.data}")
    result = {
        "model": args.model,
        "task": model.task,
        "data": args.data,
        "images": used,
        "size": s,
        **{
            k: {"psnr": sum(r[0] for r in v) / used, "ssim": sum(r[1] for r in v) / used}
            for k, v in rows.items()
        },
    }
    print(f"{model.task} on {used} crops of {s}x{s} from {args.data}")
    print(f"{'':10s} {'PSNR dB':>8s} {'SSIM':>7s}")
    for k in ("baseline", "model"):
        print(f"{k:10s} {result[k]['psnr']:8.2f} {result[k]['ssim']:7.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
