"""How a damage detector's recall depends on the width of a crack, and on its strength.

    python scripts/bench/crack_width.py [--model damage --model runs/X/damage ...]
                                        [--widths 1,2,3,4,6,8] [--json OUT]
    python scripts/bench/crack_width.py --strengths 0.35,0.5,0.7,1 [--width 2] ...

The held-out photos (Set5 + Set14 HR, centre 256-px crops, made sepia: ``common.sepia_crops``)
get the same cracks at each width: for every kind (:func:`restore.data.old_print_holes.crack_network`,
:func:`restore.data.old_print_marks.crazing`, :func:`restore.data.old_print_marks.scratches`)
one seed, so only the width changes from column to column (``width=(w, w)``: the widest part of
each crack; along a crack it is thinner). Per width, the recall of the damage pixels by

- **raw**: the detector's map at full size (mean of 4 mirror views, > 0.4, as ``restore photo``
  thresholds it);
- **used**: the mask ``restore photo`` inpaints (with its half-size regions, grown 1 px).

A scan of a real print at 600-1200 px has cracks 2-8 px wide (``real_old/civi0411/real_0014``:
3-6 px), while the print damage the detector trained on drew them at most 2.5-3 px at their
widest: this shows where its recall falls off.

``--strengths``: the columns are how much of the picture the crack's core replaces (the
functions' ``strength``, 1 = bare paper or dirt only) at one width (``--width``): a scratch 1-2 px
wide on a small scan is a faint grey line, not a white one (``real_old/dip2025/scanned2``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from common import sepia_crops, write_rows  # noqa: E402

from restore.data.old_print_holes import crack_network  # noqa: E402
from restore.data.old_print_marks import crazing, scratches  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402

KINDS = {"cracks": crack_network, "crazing": crazing, "scratches": scratches}


def damaged(clean: torch.Tensor, kind: str, width: float, seed: int, strength: float | None = None):
    """``(damaged, mask)`` of ``clean`` with ``kind`` drawn ``width`` px wide (same seed), its
    core replacing ``strength`` of the picture (None: the function's default range)."""
    extra = {} if strength is None else {"strength": (strength, strength)}
    return KINDS[kind](clean, torch.Generator().manual_seed(seed), width=(width, width), **extra)


def recall(pred: torch.Tensor, true: torch.Tensor) -> float:
    """Share of the true mask's pixels that ``pred`` marks (both {0, 1} masks)."""
    t = true > 0.5
    return float((pred > 0.5)[t].float().mean()) if t.any() else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", action="append", default=[], help="detector(s); default damage")
    ap.add_argument("--widths", default="1,2,3,4,6,8", help="crack widths in px, comma-separated")
    ap.add_argument("--strengths", help="columns of strengths (comma-separated) at --width")
    ap.add_argument("--width", type=float, default=2.0, help="the width with --strengths")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.strengths:  # (width, strength) per column
        cols = [(args.width, float(s)) for s in args.strengths.split(",")]
        head = " | ".join(f"strength {s:g}" for _, s in cols)
    else:
        cols = [(float(w), None) for w in args.widths.split(",")]
        head = " | ".join(f"{w:g} px" for w, _ in cols)
    clean = sepia_crops()
    cases = {
        (kind, col): damaged(clean, kind, col[0], args.seed + i, col[1])
        for i, kind in enumerate(KINDS)
        for col in cols
    }
    rows = []
    print(f"| detector | damage | mask | {head} |")
    print("|---|---|---|" + "---:|" * len(cols))
    for name in args.model or ["damage"]:
        pr = PhotoRestorer(device="cpu", models={"detect": name})
        for kind in KINDS:
            got: dict[str, list[float]] = {"raw": [], "used": []}
            for col in cols:
                x, mask = cases[kind, col]
                with torch.no_grad():
                    got["raw"].append(recall(pr.raw_mask(x), mask))
                    got["used"].append(recall(pr.detect_mask(x), mask))
            for which, vals in got.items():
                rows.append(
                    {
                        "model": name,
                        "kind": kind,
                        "mask": which,
                        "widths": [w for w, _ in cols],
                        "strengths": [s for _, s in cols],
                        "recall": vals,
                    }
                )
                cells = " | ".join(f"{v:.3f}" for v in vals)
                print(f"| {name} | {kind} | {which} | {cells} |", flush=True)
    print(f"({clean.shape[0]} crops of 256 px, sepia)")
    if args.json:
        write_rows(args.json, "crack_width.py", sys.argv[1:], args.threads, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
