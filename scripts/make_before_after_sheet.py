"""A before/after contact sheet of a folder run: rows of (input | output).

    restore enhance IN_DIR OUT_DIR --task sr
    python scripts/make_before_after_sheet.py IN_DIR OUT_DIR [--sheet FILE] [--n 6]

The pairs are matched as ``restore enhance`` / ``restore photo`` wrote them
(:func:`restore.batch_plan.plan`); each input is resized to its output's size with nearest neighbour
(so an upscale shows its pixels) and both are fitted into a ``--cell`` box.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import PIL.Image

from restore.batch_plan import plan
from restore.data.io import read_image


def contact_sheet(pairs: list[tuple[Path, Path]], cell: int = 256) -> PIL.Image.Image:
    """Rows of (before | after), each image fitted into a ``cell`` x ``cell`` box."""
    rows = []
    for src, dst in pairs:
        after = read_image(dst)
        before = read_image(src)
        ah, aw = after.size
        f = cell / max(ah, aw)
        size = (max(1, round(aw * f)), max(1, round(ah * f)))
        ims = []
        for img in (before, after):
            px = img.pixels if img.bit_depth == 8 else (img.pixels // 257).astype(np.uint8)
            ims.append(PIL.Image.fromarray(px).resize(size, PIL.Image.Resampling.NEAREST))
        row = PIL.Image.new("RGB", (2 * cell + 8, cell), "white")
        row.paste(ims[0], (0, 0))
        row.paste(ims[1], (cell + 8, 0))
        rows.append(row)
    sheet = PIL.Image.new("RGB", (2 * cell + 8, max(1, len(rows)) * (cell + 8)), "white")
    for i, r in enumerate(rows):
        sheet.paste(r, (0, i * (cell + 8)))
    return sheet


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("in_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--sheet", help="contact sheet file (default OUT_DIR/contact_sheet.jpg)")
    ap.add_argument("--n", type=int, default=6, help="pairs on the sheet")
    ap.add_argument("--cell", type=int, default=256, help="box side per image")
    args = ap.parse_args(argv)
    jobs, _, _ = plan(args.in_dir, args.out_dir)
    pairs = [(j.src, j.dst) for j in jobs if j.dst.is_file()][: args.n]
    if not pairs:
        print(f"no finished outputs under {args.out_dir}: run restore enhance first")
        return 1
    sheet = Path(args.sheet or Path(args.out_dir) / "contact_sheet.jpg")
    contact_sheet(pairs, args.cell).save(sheet, quality=92)
    print(f"contact sheet: {sheet} ({len(pairs)} pairs: before | after)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
