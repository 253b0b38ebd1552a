"""Before/after figure of the shipped ``colorize`` model: grey input | ours | ground truth.

    python scripts/make_colorize_figure.py [--model colorize] [--out docs/img/colorize.jpg]

Rows are validation photos (Set5 / Set14 HR, never trained on), greyed with BT.601 luma as in
the evaluation protocol, each panel scaled to ``--width`` pixels; saved as JPEG (kept < 400 KB).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import PIL.Image  # noqa: E402
import PIL.ImageDraw  # noqa: E402
import torch  # noqa: E402

from restore.api import load  # noqa: E402

VAL = REPO.parent / "shared" / "data" / "val"
PHOTOS = ["Set14/x4/HR/005.png", "Set14/x4/HR/013.png", "Set5/x4/HR/003.png", "Set14/x4/HR/002.png"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="colorize")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "colorize.jpg")
    ap.add_argument("--photos", nargs="+", default=PHOTOS, help="paths under ../shared/data/val")
    ap.add_argument("--width", type=int, default=256, help="width of each panel")
    ap.add_argument("--quality", type=int, default=82)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = load(args.model, device="cpu")
    rows, gap = [], 4
    for rel in args.photos:
        with PIL.Image.open(VAL / rel) as im:
            rgb = np.asarray(im.convert("RGB"))
        grey = np.asarray(PIL.Image.fromarray(rgb).convert("L"))  # BT.601 luma
        ours = model(grey)
        panels = [np.repeat(grey[..., None], 3, 2), ours, rgb]
        h, w = rgb.shape[:2]
        size = (args.width, round(h * args.width / w))
        panels = [
            np.asarray(PIL.Image.fromarray(p).resize(size, PIL.Image.Resampling.LANCZOS))
            for p in panels
        ]
        sep = np.full((size[1], gap, 3), 255, np.uint8)
        rows.append(np.concatenate([panels[0], sep, panels[1], sep, panels[2]], 1))
    width = max(r.shape[1] for r in rows)
    header = 22
    canvas = PIL.Image.new("RGB", (width, header + sum(r.shape[0] + gap for r in rows)), "white")
    draw = PIL.ImageDraw.Draw(canvas)
    third = args.width
    for i, label in enumerate(["grey input", f"ours ({args.model})", "ground truth"]):
        draw.text((i * (third + gap) + 6, 5), label, fill=(0, 0, 0))
    y = header
    for r in rows:
        canvas.paste(PIL.Image.fromarray(r), (0, y))
        y += r.shape[0] + gap
    args.out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(args.out, quality=args.quality, optimize=True)
    kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({canvas.size[0]}x{canvas.size[1]}, {kb:.0f} KB)")
    return 0 if kb < 400 else 1


if __name__ == "__main__":
    raise SystemExit(main())
