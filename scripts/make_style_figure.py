"""Before/after figure of photo -> painting style transfer: rows of (photo | output) pairs.

    python scripts/make_style_figure.py --model style-painting --out docs/img/style_painting.jpg

A few held-out content photos (``--data``/content: never trained on) are shrunk to a 192-px
shorter side and cut to a square (top-left); two (photo | output) pairs per row, JPEG quality 88.
The numbers behind the figure come from ``restore eval --model style-painting --data
../shared/data/style`` (KID to the style domain beside the photos and a colour-statistics
baseline, :mod:`restore.eval.style`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

import restore
from restore.data.datasets import list_images
from restore.eval.style import load_resized

REPO = Path(__file__).resolve().parents[1]
FIGURE_PHOTOS = ("chicago", "golden_gate", "sailboat", "flowers")


def figure(model, content_dir: Path, out: Path, short_side: int = 192) -> None:
    """Rows of (photo | output) pairs, two pairs per row, saved as JPEG quality 88."""
    paths = [p for p in list_images(content_dir) if p.stem in FIGURE_PHOTOS]
    paths = paths or list_images(content_dir)[:4]
    tiles = []
    with torch.no_grad():
        for p in paths:
            x = load_resized(p, short_side)
            x = x[..., :short_side, :short_side]  # square crop, top-left
            tiles.append(torch.cat([x, model.run_tensor(x).cpu()], -1))
    pad = 4
    rows = []
    for i in range(0, len(tiles), 2):
        row = tiles[i : i + 2]
        while len(row) < 2:
            row.append(torch.ones_like(tiles[0]))
        rows.append(torch.cat([row[0], torch.ones(1, 3, row[0].shape[2], pad), row[1]], -1))
    grid = torch.cat([torch.cat([r, torch.ones(1, 3, pad, r.shape[-1])], -2) for r in rows], -2)
    arr = (grid[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype("uint8")
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(out, quality=88, optimize=True)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="style-painting", help="shipped name or weights path")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "style")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "style_painting.jpg")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    model = restore.load(args.model, device=args.device, tile=0)
    figure(model, args.data / "content", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
