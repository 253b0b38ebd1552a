"""Throughput of the batched torch/kornia data path against a per-image OpenCV/NumPy path.

Pipelines, on 256x256 crops of real photos (T91, upscaled where smaller), batch 16:

- ``augment``: random flips and quarter turns of image + mask.
- ``augment + 2nd-order x4``: that, then Real-ESRGAN's second-order degradation to 64x64.
- ``old-photo damage``: grain, blur, fading, sepia, scratches, dust, creases, JPEG.

The batched path is ``restore.data`` on each available device (CPU; CUDA when present). The
baseline does the equivalent operations one image at a time on the CPU as a classic data loader
would: ``cv2.filter2D`` with a 21x21 random anisotropic Gaussian kernel, ``cv2.resize``, NumPy
noise, ``cv2.imencode``/``imdecode`` JPEG, ``cv2.GaussianBlur``, ``cv2.line``/``cv2.circle``.
Both use the same thread count. Prints the median images/s over ``--runs`` timed runs.

Usage: python scripts/bench/augment_degrade.py [--data ../shared/data] [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch

from restore.data.augment import joint_augment
from restore.data.degrade import OldPhotoConfig, old_photo_damage, second_order_degradation

REPO = Path(__file__).resolve().parents[2]
SIZE, BATCH, SCALE = 256, 16, 4


def load_batch(data: Path, n: int) -> np.ndarray:
    """n RGB uint8 256x256 crops of T91 photos (upscaled with INTER_CUBIC where smaller)."""
    files = sorted((data / "train" / "T91").glob("*.png"))[:n]
    if len(files) < n:
        raise SystemExit(f"need {n} images in {data / 'train' / 'T91'}, found {len(files)}")
    out = []
    for f in files:
        img = cv2.cvtColor(cv2.imread(str(f), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        s = max(1.0, SIZE / min(img.shape[:2]))
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC) if s > 1 else img
        out.append(img[:SIZE, :SIZE])
    return np.stack(out)


# ------------------------------------------------------------ per-image baseline


def _aniso_kernel(rng: np.random.Generator, size: int = 21) -> np.ndarray:
    sx, sy, t = rng.uniform(0.2, 3.0), rng.uniform(0.2, 3.0), rng.uniform(-np.pi, np.pi)
    ax = np.arange(size) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    c, s = np.cos(t), np.sin(t)
    u, v = c * xx + s * yy, -s * xx + c * yy
    k = np.exp(-0.5 * (u**2 / sx**2 + v**2 / sy**2))
    return (k / k.sum()).astype(np.float32)


def _jpeg_cv2(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u8 = np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255


def _noise_cv2(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.uniform() < 0.5:
        return np.clip(
            x + rng.normal(0, rng.uniform(1, 30) / 255, x.shape).astype(np.float32), 0, 1
        )
    return np.clip(rng.poisson(np.clip(x, 0, 1) * 256).astype(np.float32) / 256, 0, 1)


def _interp(rng: np.random.Generator) -> int:
    return (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC)[int(rng.integers(3))]


def _augment_cv2(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> tuple:
    if rng.uniform() < 0.5:
        img, mask = img[:, ::-1], mask[:, ::-1]
    if rng.uniform() < 0.5:
        img, mask = img[::-1], mask[::-1]
    k = int(rng.integers(4))
    return np.ascontiguousarray(np.rot90(img, k)), np.ascontiguousarray(np.rot90(mask, k))


def second_order_cv2(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The Real-ESRGAN pipeline one image at a time, float32 HWC in [0, 1]."""
    h, w = img.shape[:2]
    x = cv2.filter2D(img, -1, _aniso_kernel(rng), borderType=cv2.BORDER_REFLECT_101)
    f = rng.uniform(0.15, 1.5)
    x = cv2.resize(x, (max(1, int(w * f)), max(1, int(h * f))), interpolation=_interp(rng))
    x = _jpeg_cv2(_noise_cv2(x, rng), rng)
    x = cv2.filter2D(x, -1, _aniso_kernel(rng), borderType=cv2.BORDER_REFLECT_101)
    f = rng.uniform(0.3, 1.2)
    x = cv2.resize(
        x, (max(1, int(w / SCALE * f)), max(1, int(h / SCALE * f))), interpolation=_interp(rng)
    )
    x = _noise_cv2(x, rng)
    x = cv2.resize(x, (w // SCALE, h // SCALE), interpolation=_interp(rng))
    x = cv2.filter2D(x, -1, _aniso_kernel(rng), borderType=cv2.BORDER_REFLECT_101)  # sinc stand-in
    return _jpeg_cv2(x, rng)


def old_photo_cv2(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Old-photo damage one image at a time, float32 HWC in [0, 1]."""
    h, w = img.shape[:2]
    y = img @ np.array([0.299, 0.587, 0.114], np.float32)
    std = rng.uniform(0.01, 0.05) * (0.25 + 1.5 * np.sqrt(y * (1 - y)))
    x = np.clip(img + (rng.standard_normal((h, w)).astype(np.float32) * std)[..., None], 0, 1)
    x = cv2.GaussianBlur(x, (7, 7), rng.uniform(0.3, 1.2))
    grey, a = rng.uniform(0.55, 0.8), rng.uniform(0.1, 0.5)
    x = grey + (x - grey) * (1 - a)
    sepia = np.array(
        [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32
    )
    k = rng.uniform(0.3, 1.0)
    x = x * (1 - k) + np.clip(x @ sepia.T, 0, 1) * k
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(2, 6))):  # scratches
        x0 = int(rng.integers(w))
        cv2.line(
            mask, (x0, 0), (x0 + int(rng.integers(-20, 21)), h - 1), 1, int(rng.integers(1, 4))
        )
    for _ in range(int(rng.integers(1, 3))):  # creases
        p0, p1 = rng.integers(0, [w, h]), rng.integers(0, [w, h])
        cv2.line(
            mask, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), 1, int(rng.integers(2, 5))
        )
    for _ in range(int(rng.integers(20, 60))):  # dust
        cv2.circle(
            mask, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(0, 3)), 1, -1
        )
    m = mask.astype(bool)
    x[m] = 0.8 * rng.uniform(0.8, 1.0) + 0.2 * x[m]
    return _jpeg_cv2(x, rng), mask


# ------------------------------------------------------------------------ timing


def median_rate(
    fn: Callable[[], object], n_images: int, runs: int, sync: Callable[[], None]
) -> float:
    fn()  # warm-up
    sync()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return n_images / statistics.median(times)


def batched_pipelines(
    x: torch.Tensor, m: torch.Tensor, g: torch.Generator, cfg: OldPhotoConfig
) -> dict[str, Callable[[], object]]:
    """The restore.data pipelines on a whole batch, keyed like the baseline."""
    return {
        "augment (flip/rot90 + mask)": lambda: joint_augment(x, m, generator=g),
        "augment + 2nd-order x4": lambda: second_order_degradation(
            joint_augment(x, m, generator=g)[0], SCALE, generator=g
        ),
        "old-photo damage": lambda: old_photo_damage(x, generator=g, config=cfg),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)

    u8 = load_batch(args.data, BATCH)
    f32 = [im.astype(np.float32) / 255 for im in u8]
    masks_np = [(im[..., 0] > 128).astype(np.float32) for im in u8]
    rng = np.random.default_rng(0)

    def cpu_augment() -> None:
        for im, m in zip(f32, masks_np):
            _augment_cv2(im, m, rng)

    def cpu_second_order() -> None:
        for im, m in zip(f32, masks_np):
            second_order_cv2(_augment_cv2(im, m, rng)[0], rng)

    def cpu_old_photo() -> None:
        for im in f32:
            old_photo_cv2(im, rng)

    baseline = {
        "augment (flip/rot90 + mask)": median_rate(cpu_augment, BATCH, args.runs, lambda: None),
        "augment + 2nd-order x4": median_rate(cpu_second_order, BATCH, args.runs, lambda: None),
        "old-photo damage": median_rate(cpu_old_photo, BATCH, args.runs, lambda: None),
    }

    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    rows = []
    for dev in devices:
        x = torch.from_numpy(u8).to(dev).permute(0, 3, 1, 2).float() / 255
        m = (x[:, :1] > 0.5).float()
        g = torch.Generator(dev).manual_seed(0)
        cfg = OldPhotoConfig.only(
            "grain", "blur", "fade", "sepia", "scratch", "dust", "crease", "jpeg"
        )
        sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
        batched = batched_pipelines(x, m, g, cfg)
        for name, fn in batched.items():
            rate = median_rate(fn, BATCH, args.runs, sync)
            rows.append((dev.type, name, rate, baseline[name]))

    cpu_name = platform.processor() or platform.machine()
    print(
        f"# {SIZE}x{SIZE}, batch {BATCH}, median of {args.runs} runs, {args.threads} threads "
        f"(torch {torch.__version__}, OpenCV {cv2.__version__}, {cpu_name})"
    )
    print(
        "| device | pipeline | batched torch/kornia img/s | per-image OpenCV/NumPy (CPU) img/s | ratio |"
    )
    print("|---|---|---:|---:|---:|")
    for dev, name, rate, base in rows:
        print(f"| {dev} | {name} | {rate:.1f} | {base:.1f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
