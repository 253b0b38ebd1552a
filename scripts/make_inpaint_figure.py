"""Before/after figure of the shipped inpainting model: masked input | Telea | ours | ground truth.

    python scripts/make_inpaint_figure.py [--model inpaint] [--out docs/img/inpaint.jpg]

Rows are 256 px centre crops of Set14 / Set5 HR images with the same seeded masks as
``restore eval --model inpaint`` (hole ratios 20-50%); holes are shown white in the input column.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "val"
ROWS = (("Set14", "001", 0.2), ("Set14", "011", 0.3), ("Set5", "002", 0.4), ("Set14", "009", 0.5))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="inpaint")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "inpaint.jpg")
    ap.add_argument("--crop", type=int, default=256)
    args = ap.parse_args()

    import restore
    from restore.data.io import read_image, to_tensor, write_image
    from restore.eval.baselines import inpaint_telea
    from restore.eval.inpaint_buckets import bucket_mask

    r = restore.load(args.model)
    lines = []
    for folder, stem, low in ROWS:
        path = next((DATA / folder / "x4" / "HR").glob(f"{stem}.*"))
        x = to_tensor(read_image(path))
        h, w = x.shape[-2:]
        c = min(args.crop, h, w)
        x = x[..., (h - c) // 2 : (h - c) // 2 + c, (w - c) // 2 : (w - c) // 2 + c]
        m = bucket_mask(f"{folder}_{path.stem}.png", (c, c), low, low + 0.1, 0)
        masked = x * (1 - m) + m
        ours = r.run_tensor(x * (1 - m), mask=m)
        telea = inpaint_telea(x * (1 - m), m)
        gap = torch.ones(1, 3, c, 4)
        lines.append(torch.cat([masked, gap, telea, gap, ours, gap, x], -1))
        lines.append(torch.ones(1, 3, 4, lines[-1].shape[-1]))
    grid = torch.cat(lines[:-1], -2)[0].clamp(0, 1)
    arr = (grid.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_image(args.out, arr, quality=80)
    print(f"{args.out}: {arr.shape[1]}x{arr.shape[0]}, {args.out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
