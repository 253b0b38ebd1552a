"""Sharpness of SR outputs: mean gradient magnitude on Y, as a ratio to the HR image's.

    python scripts/sharpness.py --data ../shared/data/val/Set14/x4 --model sr-x4 --model sr-x4-gan

For every image of ``DATA/LR`` the model's (and MATLAB bicubic's) upscaling and ``DATA/HR`` are
converted to BT.601 studio Y, ``scale`` pixels are shaved, and the mean Sobel gradient magnitude
is taken. The reported ratio ``mean|grad SR| / mean|grad HR|`` (averaged over images) is 1 for an
output as sharp as the ground truth, below 1 for blurry outputs (bicubic, PSNR-trained models).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.data.color import rgb_to_y_studio  # noqa: E402
from restore.data.datasets import list_images  # noqa: E402
from restore.data.io import read_image, to_tensor  # noqa: E402
from restore.eval.baselines import bicubic_upscale  # noqa: E402


def gradient_magnitude(y: torch.Tensor) -> torch.Tensor:
    """Mean Sobel gradient magnitude of (B, 1, H, W) images (valid convolution), per image."""
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=y.dtype) / 8
    k = torch.stack([kx, kx.T])[:, None]
    g = F.conv2d(y, k)
    return g.pow(2).sum(1).sqrt().mean(dim=(1, 2))


def sharpness(upscale, data_dir: Path, scale: int) -> dict[str, float]:
    """Mean over images of the gradient-magnitude ratio SR / HR (and the two means)."""
    hr_files = {p.stem: p for p in list_images(data_dir / "HR", recursive=False)}
    lr_files = {p.stem: p for p in list_images(data_dir / "LR", recursive=False)}
    ratios, g_sr, g_hr = [], [], []
    for name, hr_path in hr_files.items():
        hr = to_tensor(read_image(hr_path))
        lr = to_tensor(read_image(lr_files[name]))
        with torch.no_grad():
            sr = upscale(lr).clamp(0, 1).cpu()
        sr = (sr * 255).round() / 255
        s = scale
        a = gradient_magnitude(rgb_to_y_studio(sr)[..., s:-s, s:-s])[0]
        b = gradient_magnitude(rgb_to_y_studio(hr)[..., s:-s, s:-s])[0]
        ratios.append(float(a / b))
        g_sr.append(float(a))
        g_hr.append(float(b))
    n = len(ratios)
    return {
        "grad_ratio": sum(ratios) / n,
        "grad_mean": sum(g_sr) / n,
        "grad_mean_hr": sum(g_hr) / n,
        "count": n,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, required=True, action="append", help="folder with HR/ LR/")
    ap.add_argument("--model", action="append", default=[], help="shipped name or weights path")
    ap.add_argument("--scale", type=int, default=None, help="default: the first model's scale")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args()
    import restore

    torch.set_num_threads(max(1, torch.get_num_threads()))
    models = {m: restore.load(m, device="cpu") for m in args.model}
    scale = args.scale or (next(iter(models.values())).scale if models else 4)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for d in args.data:
        key = f"{d.parent.name}_{d.name}"
        res = {"bicubic": sharpness(lambda lr: bicubic_upscale(lr, scale), d, scale)}
        for name, m in models.items():
            res[name] = sharpness(m.run_tensor, d, scale)
        out[key] = res
        print(f"{key}: gradient-magnitude ratio to HR (1 = as sharp as HR)")
        for name, r in res.items():
            print(f"  {name:<28} {r['grad_ratio']:.4f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
