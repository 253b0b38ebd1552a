"""Where ``restore photo``'s error is left on the independent damage, kind by kind.

    python scripts/bench/photo_breakdown.py [--json docs/metrics/photo_breakdown.json]
                                            [--model STAGE=MODEL ...]

The 19 held-out photos of ``scripts/eval_photo.py --damage holdout`` (Set5 + Set14 HR, the same
seeds), each restored twice by ``restore photo`` with its defaults: with the mask it detects, and
given the true mask. Every pixel belongs to one group:

- a kind of masked damage (:data:`restore.eval.holdout_damage.HOLDOUT_KINDS`: the kind that
  painted it last);
- outside the true mask: **unmasked** (stains, grain, JPEG: only the tone stages change it),
  **masked near** (within 3 px of true damage: the grown rim around a crack or fold) or **masked
  far** (false alarms).

Per group: its share of the pixels; the squared RGB error against the clean print, summed over
the group and divided by all pixels (x 1000; the groups add up to the image's MSE, so PSNR =
10 log10(3000 / total)), for the damaged input, ``restore photo`` and ``restore photo`` given the
true mask; and, for the kinds, the share of their pixels the detected mask covers. Means over
the photos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from common import write_rows  # noqa: E402
from eval_photo import held_out, holdout, quantize  # noqa: E402
from photo_options import stage_models  # noqa: E402

from restore.data.io import read_image, to_tensor  # noqa: E402
from restore.eval.holdout_damage import HOLDOUT_KINDS, holdout_image  # noqa: E402
from restore.eval.photo_protocol import HOLDOUT_SEED  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402

NEAR_PX = 3
OUTSIDE = ("unmasked", "masked near", "masked far")


def damaged_with_kinds(
    clean: torch.Tensor, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, np.ndarray]]:
    """:func:`eval_photo.holdout` of one photo, and its mask split by kind."""
    damaged, mask, target = holdout(clean, seed)
    kinds: dict[str, np.ndarray] = {}
    rgb = clean[0].float().clamp(0, 1).permute(1, 2, 0).numpy()
    again = holdout_image(rgb, (HOLDOUT_SEED + seed, 0), kinds=kinds)
    if not np.array_equal(again[1], mask[0, 0].numpy()):  # the protocol's draws, checked
        raise RuntimeError("holdout_image and the protocol's holdout disagree")
    return damaged, mask, target, kinds


def sq_error(y: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """(H, W) squared RGB error summed over the channels."""
    return ((y - target) ** 2).sum(1)[0].numpy()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    ap.add_argument("--model", action="append", default=[], metavar="STAGE=MODEL")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    pr = PhotoRestorer(device="cpu", models=stage_models(args))
    groups = (*HOLDOUT_KINDS, *OUTSIDE)
    sums = {g: np.zeros(5) for g in groups}  # share, input, restore, restore_true, covered
    n = 0
    for _, seed, path in held_out(args.sets):
        clean = to_tensor(read_image(path))
        damaged, true, target, kinds = damaged_with_kinds(clean, seed)
        steps: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            y = quantize(pr.restore_tensor(damaged, steps=steps)[0])
            y_true = quantize(pr.restore_tensor(damaged, mask=true)[0])
        used = steps["mask"][0, 0].numpy() > 0.5
        t = true[0, 0].numpy() > 0.5
        near = cv2.dilate(t.astype(np.uint8), np.ones((2 * NEAR_PX + 1,) * 2, np.uint8)) > 0
        where = dict(kinds)
        where.update(
            {
                "unmasked": ~t & ~used,
                "masked near": ~t & used & near,
                "masked far": ~t & used & ~near,
            }
        )
        errors = [sq_error(v, target) for v in (damaged, y, y_true)]
        for g in groups:
            sel = where[g]
            sums[g] += [
                sel.mean(),
                *(float(e[sel].sum()) / sel.size for e in errors),
                (sel & used).sum() / max(1, sel.sum()) if g in HOLDOUT_KINDS else 0.0,
            ]
        n += 1
    rows = {}
    print("| pixels | share | input | restore photo | given the true mask | covered by the mask |")
    print("|---|---:|---:|---:|---:|---:|")
    for g in groups:
        share, e_in, e_out, e_true, cov = sums[g] / n
        rows[g] = {
            "share": share,
            "error_input": 1000 * e_in,
            "error_restore": 1000 * e_out,
            "error_restore_true": 1000 * e_true,
        }
        if g in HOLDOUT_KINDS:
            rows[g]["covered"] = cov
        cover = f"{cov:.2f}" if g in HOLDOUT_KINDS else "-"
        print(
            f"| {g} | {100 * share:.2f}% | {1000 * e_in:.2f} | {1000 * e_out:.2f} "
            f"| {1000 * e_true:.2f} | {cover} |"
        )
    totals = {
        k: sum(r[k] for r in rows.values())
        for k in ("error_input", "error_restore", "error_restore_true")
    }
    print(
        "| all | 100% | " + " | ".join(f"{v:.2f}" for v in totals.values()) + " | - |\n"
        f"(squared RGB error x 1000 per pixel of the image, mean over {n} photos)"
    )
    if args.json:
        table = [{"group": g, **r} for g, r in rows.items()] + [{"group": "all", **totals}]
        write_rows(args.json, "photo_breakdown.py", sys.argv[1:], args.threads, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
