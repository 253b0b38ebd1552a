"""Stains lifted off single-toned prints (restore.photo.stains, ``tone="mono"``): what it gives.

    python scripts/bench/stains.py [--json FILE]

The 19 held-out Set5 + Set14 photos as single-toned prints, stained four ways (seeded per photo):

- ``holdout``: :func:`restore.eval.holdout_damage.holdout_stains`, the independent generator's
  B&W or sepia base, elliptical blots that lose blue first and darker tide rings (which absorb
  red too), grain and JPEG q70-95;
- ``water`` and ``foxing``: :func:`restore.data.old_print_tone.water_stains` and
  :func:`~restore.data.old_print_tone.foxing` (the training generator's) on a grey or sepia base
  (odd / even photo), then JPEG q85;
- ``none``: the same bases, no stain, JPEG q85: what the stage costs a print without one.

Per kind, PSNR against the clean print (over the whole photo, and over the stained pixels: those
the stain moved by more than 2 levels of luma) of: the input; ``mono`` (the colour rebuilt from
the print's dominant tone: :func:`restore.photo.tone.apply_tone` with the curve of
:func:`~restore.photo.tone.measure_tone` ``single=True``, what ``tone="mono"`` did before this
stage); and ``mono + lift`` (:func:`restore.photo.stains.lift_stains` first, then the colour from
the tone it measured again). The stages alone, without the models, so the numbers are the
stage's; ``restore photo --tone mono`` runs both around the models.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

import eval_photo as E  # noqa: E402
from common import write_rows  # noqa: E402

from restore.data.color import rgb_to_gray  # noqa: E402
from restore.data.old_print_tone import foxing, water_stains  # noqa: E402
from restore.eval.holdout_damage import holdout_stains  # noqa: E402
from restore.photo.stains import lift_stains, mono_curve  # noqa: E402
from restore.photo.tone import apply_tone, measure_tone  # noqa: E402

SETS = ["Set5", "Set14"]
KINDS = ("holdout", "water", "foxing", "none")
SEPIA = torch.tensor([1.0, 0.82, 0.62]).view(1, 3, 1, 1)


def stained(kind: str, colour: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(the stained print, the clean print) for one photo."""
    if kind == "holdout":
        s, t = holdout_stains(colour[0].permute(1, 2, 0).numpy(), (seed, 7))
        return (torch.from_numpy(a).permute(2, 0, 1)[None] for a in (s, t))  # type: ignore[return-value]
    grey = rgb_to_gray(colour, True)
    clean = E.quantize(grey * SEPIA if seed % 2 == 0 else grey)
    g = torch.Generator().manual_seed(seed)
    dirty = {"water": lambda c: water_stains(c, g), "foxing": lambda c: foxing(c, g)}
    return E.cv2_jpeg(dirty[kind](clean) if kind in dirty else clean, 85, grey=False), clean


def psnr(a: torch.Tensor, b: torch.Tensor, where: torch.Tensor | None = None) -> float:
    a = E.quantize(a)
    if where is None:
        return float(peak_signal_noise_ratio(a, b, data_range=1.0))
    if not bool(where.any()):
        return float("nan")
    w = where.expand_as(a)
    return float(peak_signal_noise_ratio(a[w], b[w], data_range=1.0))


def run() -> list[dict]:
    rows = []
    for kind in KINDS:
        scores: dict[str, list[float]] = {}
        lifted = []
        for name, seed, p in E.held_out(SETS):
            x, clean = stained(kind, E.to_tensor(E.read_image(p)), seed)
            where = (rgb_to_gray(x) - rgb_to_gray(clean)).abs() * 255 > 2
            tones = measure_tone(x, single=True)
            mono = apply_tone(x, mono_curve(tones[0]))
            y, share, again = lift_stains(x, tones)
            out = apply_tone(y, mono_curve(again[0]))
            lifted.append(share[0])
            for label, img in (("input", x), ("mono", mono), ("mono + lift", out)):
                scores.setdefault(label, []).append(psnr(img, clean))
                scores.setdefault(label + " (stained px)", []).append(psnr(img, clean, where))
            print(kind, name, p.name, {k: round(v[-1], 2) for k, v in scores.items()}, share[0])
        row = {
            "kind": kind,
            "photos": len(lifted),
            "lifted_share": round(float(np.mean(lifted)), 4),
        }
        for k, v in scores.items():
            finite = [s for s in v if np.isfinite(s)]
            row[k] = round(float(np.mean(finite)), 3) if finite else None
        row["worst change (mono + lift - mono)"] = round(
            min(a - b for a, b in zip(scores["mono + lift"], scores["mono"])), 3
        )
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    rows = run()
    print(
        "| kind | photos | lifted share | input | mono | mono + lift | stained px: input / mono / mono + lift | worst change |"
    )
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['photos']} | {r['lifted_share']:.3f} | {r['input']:.2f} | {r['mono']:.2f} | "
            f"{r['mono + lift']:.2f} | {r['input (stained px)']} / {r['mono (stained px)']} / "
            f"{r['mono + lift (stained px)']} | {r['worst change (mono + lift - mono)']:+.2f} |"
        )
    if args.json:
        write_rows(args.json, "stains.py", sys.argv[1:], torch.get_num_threads(), rows)


if __name__ == "__main__":
    main()
