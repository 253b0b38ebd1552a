"""Inference latency and peak memory of every shipped model, and tiled memory vs image size.

    python scripts/bench/inference.py [--threads 2] [--runs 3] [--mp 1 4 16 64] [--device cpu] [--only-tiled]

Table 1: for each shipped model, the median latency of ``restore.load(name)(array)`` on a
512x512 and a 1024x1024 RGB uint8 image, with the model's default memory layout (channels-last)
and with ``channels_last=False`` (inpainting gets a 10% stroke mask; generators time
``sample(64)``), and the peak RSS of the fresh process that ran it (``VmHWM``, see ``common.peak_rss_mib``). Real-ESRGAN's
RRDBNet x4plus layout (random weights, from ``scripts/bench/sr.py``) is timed beside the SR models
on a 64x64 input and scaled by pixel count.

Table 2: peak RSS of ``restore.load("enhance", tile=512)`` on 1, 4, 16 and 64 MP images, each in a
fresh process, against the 1 MP figure (the issue asks for <= 1.5x), three ways: the API on an
in-memory array (the caller holds input and output), ``run_file`` from a PNG (decoded into memory,
output streamed into a PNG), ``run_file`` from a binary PPM (rows streamed in and out), and
``restore enhance`` (``enhance_folder``) on a folder holding the PNG (streams from 16 MP up).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def child(spec: dict) -> None:
    """Run one measurement in this (fresh) process and print a JSON line."""
    import numpy as np
    import torch

    import restore

    torch.set_num_threads(spec["threads"])
    kind = spec["kind"]
    rng = np.random.default_rng(0)
    times = []
    if kind == "file":  # file to file (restore.streaming.run_file)
        model = restore.load(spec["model"], device=spec["device"], tile=spec.get("tile"))
        t0 = time.perf_counter()
        model.run_file(spec["src"], spec["dst"])
        times.append(time.perf_counter() - t0)
    elif kind == "folder":  # restore enhance on a folder holding the one image
        from restore.batch import enhance_folder

        t0 = time.perf_counter()
        rep = enhance_folder(
            spec["src"], spec["dst"], model="enhance", tile=spec.get("tile"), progress=False
        )
        assert rep.ok and rep.written == 1, rep.failed
        times.append(time.perf_counter() - t0)
    elif kind == "gen":
        model = restore.load(spec["model"], device=spec["device"])
        model.sample(8, seed=0)
        for i in range(spec["runs"]):
            t0 = time.perf_counter()
            model.sample(64, seed=i)
            times.append(time.perf_counter() - t0)
    else:
        model = restore.load(
            spec["model"],
            device=spec["device"],
            tile=spec.get("tile"),
            channels_last=spec.get("channels_last"),
        )
        h, w = spec["h"], spec["w"]
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        kw = {}
        if kind == "inpaint":
            from restore.data.masks import stroke_masks

            m = stroke_masks(
                1,
                h,
                w,
                width="medium",
                hole_range=(0.08, 0.12),
                generator=torch.Generator().manual_seed(0),
            )
            kw["mask"] = m[0, 0].numpy() > 0
        runs = spec["runs"]
        if runs > 1:
            model(img, **kw)  # warm-up
        for _ in range(runs):
            t0 = time.perf_counter()
            model(img, **kw)
            times.append(time.perf_counter() - t0)
    from common import peak_rss_mib

    rss = peak_rss_mib()
    print(json.dumps({"median_s": statistics.median(times), "rss_mib": rss}))


def run_child(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if out.returncode != 0:
        return {
            "error": out.stderr.strip().splitlines()[-1]
            if out.stderr.strip()
            else f"exit {out.returncode}"
        }
    return json.loads(out.stdout.strip().splitlines()[-1])


def rrdb_time(threads: int, side: int = 64) -> float:
    import torch

    sys.path.insert(0, str(REPO / "scripts" / "bench"))
    from sr import RRDBNet  # the same minimal RRDBNet the SR bench uses

    torch.set_num_threads(threads)
    net = RRDBNet().eval()
    x = torch.rand(1, 3, side, side)
    with torch.inference_mode():
        net(x)
        t0 = time.perf_counter()
        net(x)
        return time.perf_counter() - t0


def tiled_memory(args: argparse.Namespace) -> None:
    """Table 2: peak RSS of enhance (512 px tiles) for each size, three ways."""
    import os
    import shutil
    import tempfile

    import cv2
    import numpy as np

    from restore.data.io import write_image

    photo = cv2.imread(str(REPO / "assets" / "old_photo.jpg"))[..., ::-1]
    modes = {
        "array": "API on an in-memory array",
        "png": "`run_file` PNG -> PNG",
        "ppm": "`run_file` PPM -> PNG",
        "folder": "`restore enhance` on a folder of the PNG",
    }
    print()
    print("| image | " + " | ".join(f"{v}: peak RSS MiB (vs 1 MP)" for v in modes.values()) + " |")
    print("|---" * (len(modes) + 1) + "|")
    ref: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mp in args.mp:
            side = int((mp * 1_000_000) ** 0.5)
            # real content (the sample photo, resized), not noise: the PNG encoder sees a photo
            img = np.ascontiguousarray(
                cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC)
            )
            shutil.rmtree(f"{tmp}/folder", ignore_errors=True)
            shutil.rmtree(f"{tmp}/folder_out", ignore_errors=True)
            cv2.imwrite(f"{tmp}/in.png", img[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fast
            write_image(f"{tmp}/in.ppm", img)
            del img
            cells = []
            for mode in modes:
                spec = {
                    "model": "enhance",
                    "threads": args.threads,
                    "runs": 1,
                    "device": args.device,
                    "tile": 512,
                }
                if mode == "array":
                    spec.update(kind="image", h=side, w=side)
                elif mode == "folder":
                    Path(f"{tmp}/folder").mkdir(exist_ok=True)
                    os.replace(f"{tmp}/in.png", f"{tmp}/folder/in.png")
                    spec.update(kind="folder", src=f"{tmp}/folder", dst=f"{tmp}/folder_out")
                else:
                    spec.update(kind="file", src=f"{tmp}/in.{mode}", dst=f"{tmp}/out.png")
                r = run_child(spec)
                if "error" in r:
                    cells.append(f"error: {r['error']}")
                    continue
                ref.setdefault(mode, r["rss_mib"])
                cells.append(f"{r['rss_mib']:.0f} ({r['rss_mib'] / ref[mode]:.2f}x)")
            print(f"| {mp} MP ({side}x{side}) | " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--mp",
        type=int,
        nargs="*",
        default=[1, 4, 16, 64],
        help="image sizes (megapixels) of table 2",
    )
    ap.add_argument("--models", nargs="*", default=None, help="default: every shipped model")
    ap.add_argument("--only-tiled", action="store_true", help="table 2 only")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return 0

    from restore.models import available, list_models

    cards = list_models()
    names = args.models or [n for n in available() if cards[n]["kind"] == "model"]
    from common import cpu_name

    print(
        f"machine: {cpu_name()}, {args.threads} threads, device {args.device}, median of {args.runs}"
    )
    if args.only_tiled:
        tiled_memory(args)
        return 0
    print(
        "| model | task | 512x512 s | 1024x1024 s | 512x512 s, contiguous | "
        "1024x1024 s, contiguous | peak RSS MiB (1024) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in names:
        task = cards[name]["task"]
        kind = {"generation": "gen", "inpainting": "inpaint"}.get(task, "image")
        base = {
            "model": name,
            "threads": args.threads,
            "runs": args.runs,
            "device": args.device,
            "kind": kind,
        }
        if kind == "gen":
            r = run_child(base)
            print(
                f"| {name} | {task} | sample(64): {r.get('median_s', float('nan')):.3f} | | | | {r.get('rss_mib', float('nan')):.0f} |"
            )
            continue
        cells, rss = [], None
        for layout in (None, False):  # the model's default (channels-last), then contiguous
            for side in (512, 1024):
                r = run_child({**base, "h": side, "w": side, "channels_last": layout})
                cells.append(f"{r['median_s']:.3f}" if "error" not in r else f"error: {r['error']}")
                if layout is None and side == 1024:
                    rss = r.get("rss_mib")
        rss_cell = f"{rss:.0f}" if rss is not None else ""
        print(f"| {name} | {task} | " + " | ".join(cells) + f" | {rss_cell} |", flush=True)
    t = rrdb_time(args.threads)
    print(
        f"| RRDBNet x4plus (random, Real-ESRGAN layout) | super_resolution | {t * 64:.1f} (scaled from 64x64: {t:.3f} s) | {t * 256:.1f} (scaled) | | | |"
    )

    if args.mp:
        tiled_memory(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
