"""Before/after figure of x4 super-resolution: bicubic | sr-x4 | sr-x4-gan | HR, on crops.

    python scripts/make_sr_figure.py --out docs/img/sr_x4.jpg

Each row is one Set14 x4 image (LR from ``LR/``, MATLAB bicubic) cropped to the same HR window,
shown at 2x with nearest-neighbour zoom so the texture is visible. The model columns are given by
``--model`` (default: the shipped sr-x4 and sr-x4-gan).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.data.io import read_image, to_tensor  # noqa: E402
from restore.eval.baselines import bicubic_upscale  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "val" / "Set14" / "x4"
# (file, top, left) of the HR crops: textured regions
CROPS = (("001.png", 200, 200), ("005.png", 150, 60), ("014.png", 150, 250))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", action="append", default=None)
    ap.add_argument("--size", type=int, default=128, help="HR crop side")
    ap.add_argument("--zoom", type=int, default=2)
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "sr_x4.jpg")
    args = ap.parse_args()
    import restore

    names = args.model or ["sr-x4", "sr-x4-gan"]
    models = [restore.load(n, device="cpu") for n in names]
    labels = ["LR bicubic", *names, "HR"]
    s, z = args.size, args.zoom
    rows = []
    for file, top, left in CROPS:
        hr = to_tensor(read_image(DATA / "HR" / file))
        lr = to_tensor(read_image(DATA / "LR" / file))
        top = min(top, hr.shape[-2] - s) // 4 * 4
        left = min(left, hr.shape[-1] - s) // 4 * 4
        # upscale an LR window with context, then cut the crop (no border effects in the crop)
        pad = 8
        t0, l0 = max(0, top // 4 - pad), max(0, left // 4 - pad)
        lr_win = lr[..., t0 : top // 4 + s // 4 + pad, l0 : left // 4 + s // 4 + pad]
        oy, ox = top - 4 * t0, left - 4 * l0
        outs = [bicubic_upscale(lr_win, 4)]
        with torch.no_grad():
            outs += [m.run_tensor(lr_win) for m in models]
        crops = [o[..., oy : oy + s, ox : ox + s] for o in outs]
        crops.append(hr[..., top : top + s, left : left + s])
        rows.append(crops)
    gap, head = 4, 18
    w = len(labels) * (s * z + gap) - gap
    h = head + len(rows) * (s * z + gap) - gap
    canvas = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(canvas)
    for j, lab in enumerate(labels):
        draw.text((j * (s * z + gap) + 4, 3), lab, fill="black")
    for i, crops in enumerate(rows):
        for j, c in enumerate(crops):
            a = (c[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
            im = Image.fromarray(a).resize((s * z, s * z), Image.NEAREST)
            canvas.paste(im, (j * (s * z + gap), head + i * (s * z + gap)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(args.out, quality=88)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
