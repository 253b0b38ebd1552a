"""Score a style-transfer model: KID to the style domain of its outputs vs of the input photos.

    python scripts/eval_style.py --model style-painting --data ../shared/data/style \
        --json docs/metrics/style-painting.json --figure docs/img/style_painting.jpg

``--data`` holds ``content/`` (held-out photos: never used for training) and ``style/`` (the
painting domain). The protocol (:func:`restore.tasks.style_transfer.style_kid_protocol`): every
image shrunk to a 256-px shorter side, 16 seeded random 96-px crops per image, features from
:class:`~restore.tasks.style_transfer.StyleFeatures` (colour statistics + Gram matrices of a
seeded random conv net, offline), KID with 100 subsets of 100. Lower is closer to the style.
Beside the model, a trivial baseline: per-channel colour-statistics transfer (each photo's RGB
mean / std set to the style images' average), to show what colour alone buys.

``--figure`` writes a before/after JPEG (rows: photo | model output) of a few content photos.
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

import restore  # noqa: E402
from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.data.datasets import list_images  # noqa: E402
from restore.data.io import read_image, to_tensor  # noqa: E402
from restore.tasks.style_transfer import style_kid_protocol  # noqa: E402

FIGURE_PHOTOS = ("chicago", "golden_gate", "sailboat", "flowers")


def load_resized(path: Path, short_side: int) -> torch.Tensor:
    """(1, 3, h, w) in [0, 1], shorter side at most ``short_side`` (bilinear, antialiased): the
    resize of style_kid_protocol (a private helper of restore.tasks.style_transfer, so copied)."""
    x = to_tensor(read_image(path))
    h, w = x.shape[-2:]
    s = short_side / min(h, w)
    if s < 1:
        size = (max(1, round(h * s)), max(1, round(w * s)))
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(0, 1)


def colour_stats_baseline(style_dir: Path, short_side: int = 256):
    """A function mapping photos to the style images' average per-channel mean and std."""
    means, stds = [], []
    for p in list_images(style_dir):
        x = load_resized(p, short_side)
        means.append(x.mean((0, 2, 3)))
        stds.append(x.std((0, 2, 3)))
    mu, sd = torch.stack(means).mean(0).view(1, 3, 1, 1), torch.stack(stds).mean(0).view(1, 3, 1, 1)

    def run(x: torch.Tensor) -> torch.Tensor:
        m, s = x.mean((2, 3), keepdim=True), x.std((2, 3), keepdim=True).clamp_min(1e-3)
        return ((x - m) / s * sd + mu).clamp(0, 1)

    return run


def figure(model, content_dir: Path, out: Path, short_side: int = 192) -> None:
    """Rows of (photo | output) pairs, two pairs per row, saved as JPEG quality 88."""
    from PIL import Image

    paths = [p for p in list_images(content_dir) if p.stem in FIGURE_PHOTOS] or list_images(
        content_dir
    )[:4]
    tiles = []
    with torch.no_grad():
        for p in paths:
            x = load_resized(p, short_side)
            h, w = x.shape[-2:]
            x = x[..., : min(h, short_side), : min(w, short_side)]  # square crop, top-left
            tiles.append(torch.cat([x, model.run_tensor(x).cpu()], -1))
    pad = 4
    rows = []
    for i in range(0, len(tiles), 2):
        row = tiles[i : i + 2]
        while len(row) < 2:
            row.append(torch.ones_like(tiles[0]))
        rows.append(torch.cat([row[0], torch.ones(1, 3, row[0].shape[2], pad), row[1]], -1))
    grid = torch.cat([torch.cat([r, torch.ones(1, 3, pad, r.shape[-1])], -2) for r in rows], -2)
    arr = (grid[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype("uint8")
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(out, quality=88, optimize=True)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", required=True, help="shipped name, weights file or run folder")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "style")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--figure", type=Path, help="write a before/after JPEG here")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(1)

    model = restore.load(args.model, device=args.device, tile=0)
    content, style = args.data / "content", args.data / "style"
    res = style_kid_protocol(model.run_tensor, content, style)
    base = style_kid_protocol(colour_stats_baseline(style), content, style)
    res["kid_colour_baseline_style"] = base["kid_outputs_style"]
    res["kid_colour_baseline_style_std"] = base["kid_outputs_style_std"]
    res["model"] = model.card.get("name", str(args.model))
    res["data"] = str(args.data)
    print(f"{'images vs style':<34}{'KID':>10}{'std':>10}")
    for label, key in (
        ("content photos (input)", "kid_photos_style"),
        ("model outputs", "kid_outputs_style"),
        ("colour-statistics baseline", "kid_colour_baseline_style"),
    ):
        print(f"{label:<34}{res[key]:>10.4f}{res[key + '_std']:>10.4f}")
    print(res["protocol"])
    if args.json:
        atomic_write_json(args.json, res)
        print(f"wrote {args.json}")
    if args.figure:
        figure(model, content, args.figure)
    print(json.dumps({k: v for k, v in res.items() if k.startswith("kid")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
