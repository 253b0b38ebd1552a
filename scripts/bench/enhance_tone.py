"""The enhance stage as the model makes it vs as ``restore photo`` applies it (one global tone
curve per channel, :mod:`restore.photo.global_tone`), with all, half or none of the model's local
change (``restore photo`` keeps ``PIPELINE_LOCAL`` of it), and the curve alone through tone gates
(curves moving the photo less than ``lo`` levels RMS dropped, more than ``hi`` kept whole;
``restore photo`` uses ``PIPELINE_GATE``).

    python scripts/bench/enhance_tone.py [--scenes 20] [--json FILE]

The ``enhance`` model alone on: the 19 held-out Set5 + Set14 photos clean (colour and 8-bit
grey), mildly degraded (``scripts/eval_photo.py``'s blur + noise + JPEG, colour and grey), with
the project's own fading + scratch damage and with the independent old-print damage (its target is
the clean B&W / sepia print); and the held-out face scenes of ``scripts/eval_faces.py photo`` (grey
or sepia BSDS400 scenes aged by blur, grain, scratches and JPEG). PSNR (dB, RGB, whole image,
outputs rounded to 8 bits) against the clean target; ``input`` is the untouched input.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import eval_faces  # noqa: E402
import eval_photo  # noqa: E402

import restore  # noqa: E402
from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.data.color import rgb_to_gray  # noqa: E402
from restore.eval.face_protocol import to_t  # noqa: E402
from restore.eval.metrics import psnr  # noqa: E402
from restore.photo.global_tone import PIPELINE_GATE, PIPELINE_LOCAL, global_enhance  # noqa: E402
from restore.tasks.face import face_split  # noqa: E402

#: The columns: the tone curve plus this share of the model's local change.
LOCAL = {"curve + local": 1.0, "curve + half local": 0.5, "curve only": 0.0}
#: More columns: the curve alone (local 0) through these gates (lo, hi), 8-bit levels RMS.
GATES = {"gate 3-8": (3.0, 8.0), "gate 4-10": (4.0, 10.0), "gate 5-12": (5.0, 12.0)}


def groups(scenes: int):
    """(group, input, target) over every test input."""
    for _, seed, p in eval_photo.held_out(["Set5", "Set14"]):
        clean = eval_photo.to_tensor(eval_photo.read_image(p))
        g = eval_photo.quantize(rgb_to_gray(clean, True))
        yield "clean colour", clean, clean
        yield "clean grey", g, g
        mild = eval_photo.MILD_SEED + seed
        yield "mild colour", eval_photo.mild_degrade(clean, mild, False), clean
        yield "mild grey", eval_photo.mild_degrade(g, mild, True), g
        d, _, t = eval_photo.own_damage(clean, seed)
        yield "own damage", d, t
        d, _, t = eval_photo.holdout(clean, seed)
        yield "independent damage", d, t
    test = face_split(eval_faces.FACES)["test"]
    for j in range(200, 200 + scenes):
        clean, _, _, rng = eval_faces.compose_scene(j, test)
        yield "aged grey / sepia scenes", to_t(eval_faces.age_scene(clean, rng)), to_t(clean)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenes", type=int, default=20, help="face scenes (200, 201, ...)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    enh = restore.load("enhance", device="cpu")
    scores: dict[str, dict[str, list[float]]] = {}
    for group, x, target in groups(args.scenes):
        with torch.no_grad():
            e = enh.run_tensor(x).clamp(0, 1)
        outs = {"input": x, "enhance model": e}
        for name, share in LOCAL.items():
            outs[name] = global_enhance(x, e, local=share)
        for name, gate in GATES.items():
            outs[name] = global_enhance(x, e, local=PIPELINE_LOCAL, gate=gate)
        for k, y in outs.items():
            y = (y.clamp(0, 1) * 255).round() / 255
            scores.setdefault(group, {}).setdefault(k, []).append(float(psnr(y, target)[0]))
    rows = {
        g: {k: round(float(np.mean(np.minimum(v, 100.0))), 3) for k, v in d.items()}
        | {"n": len(d["input"])}
        for g, d in scores.items()
    }
    cols = ["enhance model", *LOCAL, *GATES]
    shipped = next(k for k, v in GATES.items() if v == PIPELINE_GATE) if PIPELINE_GATE else None
    shipped = shipped or next(k for k, v in LOCAL.items() if v == PIPELINE_LOCAL)
    head = " | ".join(f"{c} (restore photo)" if c == shipped else c for c in cols)
    print(f"| input | n | input | {head} |")
    print("|---|---:|---:|" + "---:|" * len(cols))
    for g, r in rows.items():
        inp = "(clean)" if g.startswith("clean") else f"{r['input']:.2f}"
        print(f"| {g} | {r['n']} | {inp} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    if args.json:
        atomic_write_json(
            args.json,
            {"machine": platform.processor() or platform.machine(), "rows": rows, "doc": __doc__},
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
