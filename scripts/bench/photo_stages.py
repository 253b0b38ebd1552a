"""Which stage of ``restore photo`` costs the clean photos, and which one earns the gain (issue 17).

    python scripts/bench/photo_stages.py [--max-side 256] [--json FILE]

The relay's photo protocol (``restore.eval.photo_protocol.photo_scores``: independent old-print
damage on Set5 + Set14, the project's own scratch + dust damage on the colour photos, and the clean
photos against themselves) with the shipped models, for the
whole pipeline and with a stage switched off: enhance only (no mask), detect + inpaint only (no
enhance), and all of it. ``--max-side`` centre-crops larger photos first (faster; the relay
scores full size). PSNR in dB, RGB, whole image.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from restore.eval.photo_protocol import photo_scores  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402

VARIANTS = {
    "enhance only": {"detect": False, "inpaint": False},
    "detect + inpaint only": {"enhance": False},
    "all stages (default)": {},
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    data = REPO.parent / "shared" / "data" / "val"
    ap.add_argument(
        "--sets", nargs="+", default=[str(data / s / "x4" / "HR") for s in ("Set5", "Set14")]
    )
    ap.add_argument("--max-side", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = {}
    print(
        "| stages | clean photos vs themselves, dB | independent damage: input -> restored (gain)"
        ", dB | own damage (scratch, dust, grain, fading): input -> restored (gain), dB |"
    )
    print("|---|---:|---:|---:|")
    for name, kw in VARIANTS.items():
        pr = PhotoRestorer(device="cpu", **kw)
        r = photo_scores(
            lambda x, pr=pr: pr.restore_tensor(x)[0],
            args.sets,
            kinds=("clean", "holdout", "own"),
            max_side=args.max_side,
        )
        out[name] = {k: v for k, v in r.items() if k != "rows"}
        c, h, o = r["clean"], r["holdout"], r["own"]
        print(
            f"| {name} | {c['restored']:.2f} | {h['input']:.2f} -> {h['restored']:.2f} "
            f"({h['gain']:+.2f}) | {o['input']:.2f} -> {o['restored']:.2f} ({o['gain']:+.2f}) |",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps({"max_side": args.max_side, "results": out}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
