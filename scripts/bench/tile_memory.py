"""Peak memory per pixel and time of a U-Net model untiled and in tiles, CPU.

    python scripts/bench/tile_memory.py [--models damage enhance] [--sides 1024 2048]
                                        [--tiles 0 704] [--runs 3] [--threads 2]

Each (model, side, tile) runs in a fresh process: ``restore.load(model)`` with that tile side (0:
untiled), one warm-up on a 64 px image, then ``run_tensor`` on a random side x side image
``--runs`` times. Printed: the fastest run, and the growth of the process's peak resident
memory (``VmHWM``, see ``common.peak_rss_mib``) over the warm-up's, in MiB and in bytes per
input pixel: what ``restore.core.tiling.unet_bytes_per_pixel`` estimates and ``auto_tile``
sizes tiles with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from common import cpu_name, peak_rss_mib  # noqa: E402


def one(model: str, side: int, tile: int, runs: int, threads: int) -> dict:
    """The measurement in this process (the child's side)."""
    import torch

    import restore

    torch.set_num_threads(threads)
    r = restore.load(model, device="cpu", tile=tile)
    r.run_tensor(torch.rand(1, 3, 64, 64))
    before = peak_rss_mib()
    x = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r.run_tensor(x)
        times.append(time.perf_counter() - t0)
    grew = peak_rss_mib() - before - x.numel() * 4 / 2**20 * 2  # less the input and the output
    return {"seconds": min(times), "mib": grew, "bpp": grew * 2**20 / side**2}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--models", nargs="+", default=["damage", "enhance"])
    ap.add_argument("--sides", nargs="+", type=int, default=[1024, 2048])
    ap.add_argument("--tiles", nargs="+", type=int, default=[0, 704])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", nargs=3, metavar=("MODEL", "SIDE", "TILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        m, side, tile = args.child
        print(json.dumps(one(m, int(side), int(tile), args.runs, args.threads)))
        return 0
    print(f"machine: {cpu_name()}, {args.threads} threads")
    print("| model | side | tile | fastest s | peak RSS growth MiB | bytes per pixel |")
    print("|---|---:|---:|---:|---:|---:|")
    for m in args.models:
        for side in args.sides:
            for tile in args.tiles:
                cmd = [sys.executable, __file__, "--child", m, str(side), str(tile)]
                cmd += ["--runs", str(args.runs), "--threads", str(args.threads)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                name = "untiled" if tile == 0 else str(tile)
                print(
                    f"| {m} | {side} | {name} | {r['seconds']:.3f} | {r['mib']:.0f} "
                    f"| {r['bpp']:.0f} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
