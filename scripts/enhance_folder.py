"""Enhance a folder with the Python API and make a before/after contact sheet.

    python scripts/enhance_folder.py IN_DIR OUT_DIR [--task sr | --model NAME_OR_PATH] [--sheet FILE]

The folder run is :func:`restore.batch.enhance_folder` (what ``restore enhance`` runs: recursive,
resumable, a report in ``OUT_DIR/restore_report.json``). The sheet shows up to ``--n`` pairs,
input (resized to the output's size, nearest, so an upscale shows its pixels) beside output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import PIL.Image

from restore.batch import TASK_MODELS, enhance_folder, plan
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
    ap.add_argument("--task", choices=sorted(TASK_MODELS), default=None)
    ap.add_argument("--model", help="model name or weights path (default: the task's)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--sheet", help="contact sheet file (default OUT_DIR/contact_sheet.jpg)")
    ap.add_argument("--n", type=int, default=6, help="pairs on the sheet")
    args = ap.parse_args(argv)

    rep = enhance_folder(args.in_dir, args.out_dir, args.model, task=args.task, device=args.device)
    print(f"{rep.written} written, {rep.skipped} already done, {len(rep.failed)} failed")
    for f in rep.failed:
        print(f"  failed {f['input']}: {f['reason']}", file=sys.stderr)
    jobs, _, _ = plan(args.in_dir, args.out_dir)
    pairs = [(j.src, j.dst) for j in jobs if j.dst.is_file()][: args.n]
    if pairs:
        sheet = Path(args.sheet or Path(args.out_dir) / "contact_sheet.jpg")
        contact_sheet(pairs).save(sheet, quality=92)
        print(f"contact sheet: {sheet} ({len(pairs)} pairs: before | after)")
    return 0 if rep.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
