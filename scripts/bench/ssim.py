"""Benchmark: restore's batched torchmetrics SSIM against a per-image skimage loop.

Same numbers (max absolute difference per image) and speed (median of several runs), on a random
batch of 16 RGB 256 x 256 images and on 16 crops of Set14, 240 x 240 (its narrowest image is 248 px; if ../shared/data is present).

    python scripts/bench/ssim.py [--runs 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import structural_similarity

from restore.eval.metrics import ssim

DATA = Path(
    os.environ.get("RESTORE_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data")
)


def skimage_loop(pred: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """The reference: skimage per image (gaussian sigma 1.5, population covariance)."""
    out = []
    for p, t in zip(pred.double().numpy(), target.double().numpy()):
        out.append(
            structural_similarity(
                t,
                p,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                data_range=1.0,
                channel_axis=0,
            )
        )
    return np.array(out)


def median_time(fn, runs: int) -> tuple[float, object]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def random_batch(n: int = 16, size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    target = torch.rand(n, 3, size, size, generator=gen)
    pred = (target + 0.1 * torch.randn(n, 3, size, size, generator=gen)).clamp(0, 1)
    return pred, target


def set14_batch(n: int = 16, size: int = 240) -> tuple[torch.Tensor, torch.Tensor] | None:
    from PIL import Image

    from restore.data.resize import imresize

    hr_dir = DATA / "val" / "Set14" / "x4" / "HR"
    if not hr_dir.is_dir():
        return None
    crops = []
    for path in sorted(hr_dir.glob("*.png")):
        arr = np.array(Image.open(path).convert("RGB"), dtype=np.float32) / 255
        x = torch.from_numpy(arr).permute(2, 0, 1)
        crops.append(x[:, :size, :size])
        crops.append(x[:, -size:, -size:])
    target = torch.stack(crops[:n])
    # pred: bicubic round trip through x4 LR, a realistic SR-like degradation.
    pred = imresize(imresize(target, scale=0.25), scale=4).clamp(0, 1)
    return pred, target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    cases = {"random 16x3x256x256": random_batch()}
    set14 = set14_batch()
    if set14 is not None:
        cases["Set14 crops 16x3x240x240"] = set14

    print(
        f"torch {torch.__version__}, {args.threads} threads, {platform.processor() or platform.machine()}"
    )
    print(f"median of {args.runs} runs")
    header = (
        f"{'data':<26} | {'method':<32} | {'median s':>8} | {'ms/image':>8} | {'max |diff|':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, (pred, target) in cases.items():
        n = pred.shape[0]
        t_sk, ref = median_time(lambda p=pred, t=target: skimage_loop(p, t), args.runs)
        t_tm, ours = median_time(lambda p=pred, t=target: ssim(p, t), args.runs)
        t_loop, ours_loop = median_time(
            lambda p=pred, t=target: torch.cat(
                [ssim(p[i : i + 1], t[i : i + 1]) for i in range(p.shape[0])]
            ),
            args.runs,
        )
        rows = [
            ("skimage loop (float64, baseline)", t_sk, ref),
            ("torchmetrics batch (float32)", t_tm, ours.numpy()),
            ("torchmetrics per image (float32)", t_loop, ours_loop.numpy()),
        ]
        for method, seconds, values in rows:
            diff = float(np.abs(np.asarray(values, dtype=np.float64) - ref).max())
            print(
                f"{name:<26} | {method:<32} | {seconds:>8.3f} | {1000 * seconds / n:>8.1f} | {diff:>10.2e}"
            )
        print(f"{'':<26} | speed-up batch vs skimage: {t_sk / t_tm:.1f}x")


if __name__ == "__main__":
    main()
