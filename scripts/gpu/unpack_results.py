"""Back on the CPU: unpack what the GPU call brought back into runs/gpu/<name>/.

    python scripts/gpu/unpack_results.py /work/.device/<call>/   # the files_at folder (or files)

Each run folder then holds ``model.safetensors`` + ``model.json`` (the card, with its
``training.legs``), ``log.csv``, ``gpu_leg.json`` (steps, it/s, the device-side check) and the
last sample grid, so ``restore eval --model runs/gpu/<name> --data ../shared/data/val/...`` or
``restore relay --judge runs/gpu/<name> --models <shipped name>`` can decide what ships (both
lines are printed per run). Nothing here ships anything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundle import unpack  # noqa: E402

# where the CPU evaluation of each task looks (printed as the next command to run)
VAL = {
    "super_resolution": "../shared/data/val/Set5/x{scale}",
    "inpainting": "../shared/data/val/Set14/x4/HR",
    "colorization": "../shared/data/val/Set14/x4/HR",
    "damage": "../shared/data/val/Set14/x4/HR",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("inputs", nargs="+", type=Path, help="the call's files, or their folder")
    ap.add_argument("--runs", type=Path, default=Path("runs/gpu"), help="default runs/gpu")
    ap.add_argument("--overwrite", action="store_true", help="replace existing run folders")
    args = ap.parse_args(argv)

    missing = [str(i) for i in args.inputs if not i.exists()]
    if missing:
        print(f"unpack_results: not found: {missing}", file=sys.stderr)
        return 2
    tars = sorted(
        {t for i in args.inputs for t in (i.glob("*.tar") if i.is_dir() else [i])},
        key=lambda p: p.name,
    )
    logs = [f for i in args.inputs if i.is_dir() for f in i.glob("log.txt")]
    if not tars:
        print(f"unpack_results: no .tar files in {[str(i) for i in args.inputs]}", file=sys.stderr)
        return 2
    staging = args.runs.with_name(args.runs.name + ".unpack")
    shutil.rmtree(staging, ignore_errors=True)
    names: set[str] = set()
    for t in tars:
        names |= {n.split("/")[0] for n in unpack(t, staging)}
    runs = sorted(n for n in names if (staging / n).is_dir())
    busy = [n for n in runs if (args.runs / n).exists()]
    if busy and not args.overwrite:
        print(
            f"unpack_results: {args.runs} already has {busy} (--overwrite replaces them); "
            f"the unpacked files are in {staging}",
            file=sys.stderr,
        )
        return 1
    args.runs.mkdir(parents=True, exist_ok=True)
    for n in sorted(names):
        dst = args.runs / n
        if (staging / n).is_dir():
            shutil.rmtree(dst, ignore_errors=True)
        elif dst.exists():
            dst.unlink()
        (staging / n).rename(dst)
    shutil.rmtree(staging, ignore_errors=True)
    for f in logs:
        shutil.copy2(f, args.runs / "gpu_call_log.txt")

    for n in runs:
        d = args.runs / n
        card = json.loads((d / "model.json").read_text()) if (d / "model.json").is_file() else {}
        leg = json.loads((d / "gpu_leg.json").read_text()) if (d / "gpu_leg.json").is_file() else {}
        has = "weights" if (d / "model.safetensors").is_file() else "NO WEIGHTS"
        print(f"{d}: {has}, {leg.get('steps', '?')} steps, {leg.get('status', 'no report')}")
        val = VAL.get(str(card.get("task")))
        if val and has == "weights":
            scale = ((card.get("runtime") or {}).get("task_args") or {}).get("scale", 4)
            print(f"    restore eval --model {d} --data {val.format(scale=scale)}")
        if has == "weights" and leg.get("model"):  # score beside the shipped one, ship if better
            print(f"    restore relay --judge {d} --models {leg['model']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
