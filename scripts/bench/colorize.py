"""Speed of the shipped ``colorize`` model on a 1024x768 photo (target: median <= 1.5 s, 2 cores).

Rows (median and min over ``--runs`` timed runs after one warm-up, ``--threads`` torch threads):

- ``restore.load("colorize")(uint8 gray)``: the public API end to end, HxW uint8 -> HxWx3 uint8.
- ``colorize(G, tensor)``: the task function on a (1, 3, 768, 1024) float tensor.
- ``generator only``: the U-Net on the working-resolution L* (what the model itself costs).
- ``Lab round trip + gamut search``: the rest (full-resolution L*, upsampled chroma, per-pixel
  chroma reduction of out-of-gamut colours).

The photo is the first of ``train/photos_hr`` resized to 1024x768 and turned grey.

Usage: python scripts/bench/colorize.py [--model colorize] [--runs 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL.Image
import torch
from common import cpu_name  # noqa: E402

from restore.api import load
from restore.tasks.colorization import (
    colorize,
    lab_to_rgb_in_gamut,
    normalize_l,
    predict_ab,
    rgb_to_lab,
    work_shape,
)

REPO = Path(__file__).resolve().parents[2]
W, H, TARGET_S = 1024, 768, 1.5


def photo(data: Path) -> np.ndarray:
    f = sorted((data / "train" / "photos_hr").glob("*.png"))[0]
    with PIL.Image.open(f) as im:
        return np.asarray(im.convert("L").resize((W, H), PIL.Image.Resampling.LANCZOS))


def timeit(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm-up
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), min(ts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="colorize")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model = load(args.model, device="cpu")
    G = model.modules["G"]
    inf = model.inference  # the card's runtime.inference
    work, gain = int(inf.get("work_size", 256)), float(inf.get("chroma_gain", 1.0))
    gray = photo(args.data)
    x = torch.from_numpy(gray.astype(np.float32) / 255)[None, None].expand(1, 3, H, W).contiguous()
    lum = rgb_to_lab(x)[:, :1]
    size = work_shape(H, W, work, int(G.size_multiple))
    small = torch.nn.functional.interpolate(lum, size=size, mode="bilinear", antialias=True)
    with torch.inference_mode():
        ab = predict_ab(G, lum, size) * gain
        out = model(gray)
        assert out.shape == (H, W, 3) and out.dtype == np.uint8
        rows = [
            ("restore.load(model)(uint8 gray)", timeit(lambda: model(gray), args.runs)),
            (
                "colorize(G, tensor)",
                timeit(lambda: colorize(G, x, work_size=work, chroma_gain=gain), args.runs),
            ),
            (
                f"generator only ({size[0]}x{size[1]})",
                timeit(lambda: G(normalize_l(small)), args.runs),
            ),
            (
                "Lab round trip + gamut search",
                timeit(lambda: lab_to_rgb_in_gamut(rgb_to_lab(x)[:, :1], ab), args.runs),
            ),
        ]
    n_params = sum(p.numel() for p in G.parameters())
    print(f"colorize bench: {W}x{H} grey photo, {args.threads} threads, {args.runs} runs")
    print(
        f"machine: {cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f} (on a shared machine "
        "with load above the core count, 1 thread beats 2)"
    )
    print(f"model: {args.model} ({n_params:,} parameters, work size {size[0]}x{size[1]})")
    print("what                                   | median s | min s")
    for name, (med, mn) in rows:
        print(f"{name:38} | {med:8.3f} | {mn:.3f}")
    med = rows[0][1][0]
    print(f"target <= {TARGET_S} s median: {'met' if med <= TARGET_S else 'MISSED'} ({med:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
