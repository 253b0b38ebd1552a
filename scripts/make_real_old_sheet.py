"""Before/after contact sheet of `restore photo` on every real damaged print (issue 17).

    python scripts/make_real_old_sheet.py [--out docs/img/real_old_before_after.jpg]
                                          [--json docs/metrics/photo_real_old.json]
                                          [--model STAGE=MODEL ...] [--max-side N]
                                          [--detect-flips 1|2|4] [--threshold T]
                                          [--also-tone mono --kind colour]

Every image under ../shared/data/real_old (sorted) goes through ``restore.photo.PhotoRestorer``
with its defaults (the shipped models, automatic mask, no hints) at full resolution, exactly as
``restore photo IN -o OUT`` restores it. The sheet shows, per print, three thumbnails of the same
height: the scan | the restored photo | the detected damage mask in red over the dimmed scan (the
redder, the more of the thumbnail pixel was masked), with the print's name, the masked share of
the picture, and the tone the pipeline saw and what it did. ``--also-tone MODE`` adds a fourth
thumbnail, the photo restored with ``tone=MODE`` (``restore photo --tone MODE``), and ``--kind
KIND`` keeps only the prints whose tone the defaults measure as KIND: ``--also-tone mono --kind
colour`` shows what ``--tone mono`` does to the prints taken for colour photos.

The scans have no licence to be redistributed: only these thumbnails go into the repository, and
the sheet is kept under 2 MB (JPEG quality lowered until it fits).

Also prints (and with ``--json`` writes) per print: size, seconds, masked share, tone, the mean
change of the picture in 8-bit levels and the change of its mean colour (output - input, R G B,
in levels; a cast shows as one channel moving against the others), and for a grey scan the
output's mean |channel - grey|.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from photo_options import add_detection_options, detection_options, stage_models  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.data.color import rgb_to_gray  # noqa: E402
from restore.data.datasets import list_images  # noqa: E402
from restore.data.io import Image, from_tensor, read_image, to_tensor, write_image  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402

REAL_OLD = REPO.parent / "shared" / "data" / "real_old"
MAX_BYTES = 2_000_000
LABEL_H, GAP = 18, 4


def shrink(img: Image, max_side: int) -> Image:
    """The image with its longer side at most ``max_side`` pixels (0: unchanged)."""
    h, w = img.size
    if not max_side or max(h, w) <= max_side:
        return img
    s = max_side / max(h, w)
    px = cv2.resize(img.pixels, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    return img.with_pixels(px)


def thumb(a: np.ndarray, height: int) -> np.ndarray:
    """(H, W, C) array scaled to ``height`` rows (area averaging)."""
    h, w = a.shape[:2]
    return cv2.resize(a, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def overlay(x: torch.Tensor, mask: torch.Tensor | None, height: int) -> np.ndarray:
    """Thumbnail of the mask in red over the dimmed grey scan; red strength = masked share x 3."""
    grey = from_tensor(rgb_to_gray(x, keep_channels=True) * 0.6 + 0.2)
    bg = thumb(grey, height).astype(np.float32)
    if mask is None:
        return bg.astype(np.uint8)
    cover = thumb(mask[0, 0].float().numpy(), height)
    a = np.clip(cover * 3, 0, 1)[..., None]
    red = np.array([235, 20, 20], np.float32)
    return (bg * (1 - a) + red * a + 0.5).astype(np.uint8)


def cell(tiles: list[np.ndarray], label: str) -> np.ndarray:
    """Tiles side by side (GAP px apart) under a one-line label."""
    h = tiles[0].shape[0]
    row = []
    for t in tiles:
        row += [t, np.full((h, GAP, 3), 255, np.uint8)]
    body = np.concatenate(row[:-1], 1)
    head = np.full((LABEL_H, body.shape[1], 3), 255, np.uint8)
    cv2.putText(
        head, label, (2, LABEL_H - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA
    )
    return np.concatenate([head, body], 0)


def sheet(cells: list[np.ndarray], width: int) -> np.ndarray:
    """Cells packed left to right into rows of at most ``width`` px, on white, GAP * 3 apart."""
    rows: list[list[np.ndarray]] = [[]]
    for c in cells:
        used = sum(x.shape[1] + GAP * 3 for x in rows[-1])
        if rows[-1] and used + c.shape[1] > width:
            rows.append([])
        rows[-1].append(c)
    lines = []
    for part in rows:
        h = max(c.shape[0] for c in part) + GAP * 3
        pad = [
            np.pad(c, ((0, h - c.shape[0]), (0, GAP * 3), (0, 0)), constant_values=255)
            for c in part
        ]
        lines.append(np.concatenate(pad, 1))
    w = max(x.shape[1] for x in lines)
    lines = [np.pad(x, ((0, 0), (0, w - x.shape[1]), (0, 0)), constant_values=255) for x in lines]
    return np.concatenate(lines, 0)


def write_small(path: Path, a: np.ndarray) -> int:
    """Write a JPEG of at most :data:`MAX_BYTES`, lowering the quality as needed; returns it."""
    for q in (85, 78, 70, 62, 55, 48, 40):
        write_image(path, a, quality=q)
        if path.stat().st_size <= MAX_BYTES:
            return q
    raise RuntimeError(f"{path} is over {MAX_BYTES} bytes even at quality 40: lower --height")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--input", type=Path, default=REAL_OLD, help="folder of scans (recursive)")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "real_old_before_after.jpg")
    ap.add_argument("--json", type=Path, help="write the per-print numbers here")
    ap.add_argument(
        "--max-side", type=int, default=0, help="restore at most this long side (0: full size)"
    )
    ap.add_argument("--height", type=int, default=210, help="thumbnail height in pixels")
    ap.add_argument("--width", type=int, default=1600, help="sheet width in pixels (at most)")
    ap.add_argument(
        "--also-tone",
        choices=["keep", "neutral", "mono"],
        help="a fourth thumbnail: the photo restored with this tone mode",
    )
    ap.add_argument(
        "--kind", choices=["grey", "toned", "colour"], help="only prints of this measured tone"
    )
    add_detection_options(ap)
    args = ap.parse_args()
    t_start = time.perf_counter()
    torch.set_num_threads(args.threads)
    models = stage_models(args)
    options = detection_options(args)
    pr = PhotoRestorer(device="cpu", models=models, **options)
    also = None
    if args.also_tone:
        also = PhotoRestorer(device="cpu", models=models, tone=args.also_tone, **options)
    print(f"models: {pr.model_names}; warnings: {pr.warnings or 'none'}")
    paths = list_images(args.input)
    if not paths:
        raise SystemExit(f"no images under {args.input}")
    cells, rows = [], []
    print(
        "| print | size | s | masked % | tone -> action | mean abs change | mean colour change R G B | grey dev in -> out |"
    )
    print("|---|---|---:|---:|---|---:|---|---|")
    for p in paths:
        name = p.relative_to(args.input).as_posix()
        img = shrink(read_image(p), args.max_side)
        t0 = time.perf_counter()
        steps: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            out, report = pr.restore_image(img, steps=steps)
        secs = time.perf_counter() - t0
        x, y = to_tensor(img), to_tensor(out)
        mask = steps.get("mask")
        tone = report.get("tone", {})
        if args.kind and tone.get("kind") != args.kind:
            continue
        shift = ((y - x).mean((0, 2, 3)) * 255).tolist()
        row: dict[str, Any] = {
            "print": name,
            "size": list(img.size),
            "seconds": round(secs, 2),
            "masked": float(mask.mean()) if mask is not None else 0.0,
            "tone": tone.get("kind"),
            "action": tone.get("action"),
            "mean_abs_change": float((y - x).abs().mean()) * 255,
            "mean_colour_change": [round(v, 2) for v in shift],
            "grey_dev_in": float((x - rgb_to_gray(x)).abs().mean()) * 255,
            "grey_dev_out": float((y - rgb_to_gray(y)).abs().mean()) * 255,
        }
        rows.append(row)
        print(
            f"| {name} | {img.size[1]}x{img.size[0]} | {secs:.1f} | {100 * row['masked']:.1f} "
            f"| {row['tone']} -> {row['action']} | {row['mean_abs_change']:.1f} "
            f"| {' '.join(f'{v:+.1f}' for v in shift)} "
            f"| {row['grey_dev_in']:.2f} -> {row['grey_dev_out']:.2f} |",
            flush=True,
        )
        tiles = [thumb(from_tensor(x), args.height), thumb(from_tensor(y), args.height)]
        tiles.append(overlay(x, mask, args.height))
        label = f"{name}  mask {100 * row['masked']:.1f}%  {row['tone']}: {row['action']}"
        if also is not None:
            with torch.no_grad():
                other, rep2 = also.restore_image(img)
            tiles.append(thumb(from_tensor(to_tensor(other)), args.height))
            row["also_tone"] = {"mode": args.also_tone, **rep2.get("tone", {})}
            label += f" | tone={args.also_tone}: {rep2.get('tone', {}).get('action')}"
        cells.append(cell(tiles, label))
    if not cells:
        raise SystemExit(f"no prints of tone {args.kind} under {args.input}")
    q = write_small(args.out, sheet(cells, args.width))
    wall = time.perf_counter() - t_start
    size = args.out.stat().st_size
    mean_masked = sum(r["masked"] for r in rows) / len(rows)
    print(f"mean masked share: {100 * mean_masked:.2f}% of a print ({len(rows)} prints)")
    print(f"wrote {args.out.name} ({size / 1e6:.2f} MB, JPEG q{q}); wall time {wall:.0f} s")
    if args.json:
        atomic_write_json(
            args.json,
            {
                "command": "python scripts/make_real_old_sheet.py " + " ".join(sys.argv[1:]),
                "models": pr.model_names,
                "wall_seconds": round(wall, 1),
                "prints": rows,
            },
        )
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
