"""SR speed and memory on the CPU: the shipped SRNet beside Real-ESRGAN's RRDBNet (x4plus layout).

    python scripts/bench/sr.py                       # sr-x4 / sr-x2 shipped weights
    python scripts/bench/sr.py --x4 runs/sr_x4 --x2 runs/sr_x2 --threads 2 --runs 5
    python scripts/bench/sr.py --baseline OLD.safetensors --no-rss   # shipped vs an older x4

Rows:
- x4 of a 512x512 image through ``restore.load(...).run_tensor`` (tiling as shipped), median of
  ``--runs`` runs after one warm-up.
- RRDBNet x4plus (23 RRDB blocks, 64 features, 32 growth; random weights, defined below) on the
  same work. It is about 100x heavier, so it is timed on a ``--rrdb-size`` square input and the
  time is scaled by the pixel count to 512x512 (convolution cost is linear in pixels); the table
  says so.
- Peak RSS (``VmHWM``, ``common.peak_rss_mib``) of a fresh subprocess that upscales a
  4000x3000 RGB uint8 array x2 through ``restore.load(model)(array)`` (tiled), and its wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


# -- Real-ESRGAN's RRDBNet (ESRGAN layout), minimal -------------------------------------------


class RDB(nn.Module):
    def __init__(self, nf: int = 64, gc: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            [nn.Conv2d(nf + i * gc, gc, 3, padding=1) for i in range(4)]
            + [nn.Conv2d(nf + 4 * gc, nf, 3, padding=1)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i, conv in enumerate(self.convs):
            y = conv(torch.cat(feats, 1))
            if i < 4:
                feats.append(F.leaky_relu(y, 0.2))
        return x + 0.2 * y


class RRDB(nn.Module):
    def __init__(self, nf: int = 64, gc: int = 32) -> None:
        super().__init__()
        self.rdbs = nn.Sequential(RDB(nf, gc), RDB(nf, gc), RDB(nf, gc))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.rdbs(x)


class RRDBNet(nn.Module):
    """RRDBNet_arch of Real-ESRGAN x4plus: 23 blocks, 64 features, growth 32, two x2 upsamplings."""

    def __init__(self, nb: int = 23, nf: int = 64, gc: int = 32) -> None:
        super().__init__()
        self.conv_first = nn.Conv2d(3, nf, 3, padding=1)
        self.body = nn.Sequential(*[RRDB(nf, gc) for _ in range(nb)])
        self.conv_body = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_last = nn.Conv2d(nf, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        act = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        feat = act(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
        feat = act(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
        return self.conv_last(act(self.conv_hr(feat)))


# -- measurements ------------------------------------------------------------------------------


def median_time(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def rss_child(model: str, h: int, w: int) -> None:
    """In a fresh process: upscale an (h, w, 3) uint8 array; print JSON with peak RSS."""
    import numpy as np
    from common import peak_rss_mib

    import restore

    sr = restore.load(model, device="cpu")
    base = peak_rss_mib() * 1024
    img = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    t = time.perf_counter()
    out = sr(img)
    dt = time.perf_counter() - t
    peak = peak_rss_mib() * 1024
    print(
        json.dumps(
            {
                "peak_mib": peak / 1024,
                "after_load_mib": base / 1024,
                "seconds": dt,
                "out_shape": list(out.shape),
            }
        )
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--x4", default="sr-x4", help="x4 model (shipped name, weights or run)")
    ap.add_argument("--x2", default="sr-x2", help="x2 model for the 4000x3000 memory run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--rrdb-size", type=int, default=64)
    ap.add_argument("--big", default="3000x4000", help="HxW of the memory run")
    ap.add_argument("--baseline", help="another x4 model, timed in the same run (a ratio row)")
    ap.add_argument("--no-rss", action="store_true", help="skip the 4000x3000 memory run")
    ap.add_argument("--rss-child", nargs=3, metavar=("MODEL", "H", "W"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]), int(args.rss_child[2]))
        return 0

    import restore

    s = args.size
    x = torch.rand(1, 3, s, s)
    ours = restore.load(args.x4, device="cpu")
    n_ours = sum(p.numel() for m in ours.modules.values() for p in m.parameters())
    t_ours = median_time(lambda: ours.run_tensor(x), args.runs)
    if args.baseline:  # the two models alternate, so load changes hit both alike
        base = restore.load(args.baseline, device="cpu")
        n_base = sum(p.numel() for m in base.modules.values() for p in m.parameters())
        t_base = median_time(lambda: base.run_tensor(x), args.runs)
        t_ours = min(t_ours, median_time(lambda: ours.run_tensor(x), args.runs))

    rrdb = RRDBNet().eval()
    n_rrdb = sum(p.numel() for p in rrdb.parameters())
    r = args.rrdb_size
    xr = torch.rand(1, 3, r, r)
    with torch.inference_mode():
        t_small = median_time(lambda: rrdb(xr), max(1, args.runs // 2))
    t_rrdb = t_small * (s * s) / (r * r)

    h, w = (int(v) for v in args.big.split("x"))
    child = (
        None
        if args.no_rss
        else subprocess.run(
            [
                sys.executable,
                __file__,
                "--threads",
                str(args.threads),
                "--rss-child",
                args.x2,
                str(h),
                str(w),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    )
    mem = json.loads(child.stdout.strip().splitlines()[-1]) if child else None

    from common import cpu_name

    cpu = cpu_name()
    print(
        f"machine: {cpu}; torch {torch.__version__}; {args.threads} threads; median of "
        f"{args.runs} runs (shared VM: expect jitter)"
    )
    print(f"| model | params | x4 {s}x{s} (s) | note |")
    print("|---|---|---|---|")
    print(f"| SRNet ({args.x4}) | {n_ours:,} | {t_ours:.2f} | restore.load(...).run_tensor |")
    print(
        f"| RRDBNet x4plus (random) | {n_rrdb:,} | {t_rrdb:.1f} | timed on {r}x{r} "
        f"({t_small:.2f} s), scaled x{(s * s) // (r * r)} by pixels |"
    )
    print(f"| speed-up | | {t_rrdb / t_ours:.0f}x | |")
    if args.baseline:
        print(f"| SRNet ({args.baseline}) | {n_base:,} | {t_base:.2f} | same run |")
        print(f"| {args.x4} / baseline | | {t_ours / t_base:.2f}x | time ratio |")
    print()
    if mem:
        print(
            f"x2 of {w}x{h} uint8 through restore.load({args.x2!r})(array), fresh process: "
            f"peak RSS {mem['peak_mib']:.0f} MiB (after loading {mem['after_load_mib']:.0f} MiB), "
            f"{mem['seconds']:.1f} s, output {tuple(mem['out_shape'])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
