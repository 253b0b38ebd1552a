"""Build docs/img/contact_sheet.jpg: every mask kind and degradation of restore.data on one photo.

Reproducible: fixed seeds, fixed photo. Tiles are 256x256 crops; masks are shown as a red overlay,
the Real-ESRGAN second-order LR (64x64) is shown upsampled x4 with nearest neighbour, and each
old-photo effect is shown alone, then all together with their damage mask.

Usage: python scripts/make_contact_sheet.py [--data ../shared/data] [--out docs/img/contact_sheet.jpg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from restore.data import masks as M
from restore.data.degrade import (
    OLD_PHOTO_EFFECTS,
    OldPhotoConfig,
    old_photo_damage,
    second_order_degradation,
)

REPO = Path(__file__).resolve().parents[1]
TILE, COLS = 256, 6


def load_photo(path: Path) -> torch.Tensor:
    """A (1, 3, 256, 256) crop of the photo, downscaled so the crop shows a good part of it."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    s = 384 / min(bgr.shape[:2])
    bgr = cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    h, w = bgr.shape[:2]
    y0, x0 = (h - TILE) // 2, (w - TILE) // 2
    rgb = cv2.cvtColor(bgr[y0 : y0 + TILE, x0 : x0 + TILE], cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def overlay(img: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    red = torch.tensor([1.0, 0.1, 0.1]).view(1, 3, 1, 1)
    return img * (1 - 0.65 * mask) + red * 0.65 * mask


def to_tile(img: torch.Tensor, label: str) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] -> labelled BGR uint8 tile."""
    if img.shape[-1] != TILE:
        img = F.interpolate(img, size=(TILE, TILE), mode="nearest")
    tile = (img[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    tile = np.ascontiguousarray(cv2.cvtColor(tile, cv2.COLOR_RGB2BGR))
    cv2.rectangle(tile, (0, 0), (TILE, 20), (0, 0, 0), -1)
    cv2.putText(
        tile, label, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA
    )
    return tile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--photo", default="train/photos_hr/005.png", help="relative to --data")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "contact_sheet.jpg")
    args = ap.parse_args()

    x = load_photo(args.data / args.photo)
    tiles = [to_tile(x, "original")]

    def gen(seed: int) -> torch.Generator:
        return torch.Generator().manual_seed(seed)

    hole = (0.2, 0.3)
    mask_rows = [
        (
            "stroke thin",
            M.stroke_masks(1, TILE, TILE, width="thin", hole_range=hole, generator=gen(1)),
        ),
        (
            "stroke medium",
            M.stroke_masks(1, TILE, TILE, width="medium", hole_range=hole, generator=gen(2)),
        ),
        (
            "stroke thick",
            M.stroke_masks(1, TILE, TILE, width="thick", hole_range=hole, generator=gen(3)),
        ),
        ("box", M.box_masks(1, TILE, TILE, hole_range=hole, generator=gen(4))),
        ("blob", M.blob_masks(1, TILE, TILE, hole_range=hole, generator=gen(5))),
        ("scratch 1-3%", M.scratch_masks(1, TILE, TILE, hole_range=(0.01, 0.03), generator=gen(6))),
        ("dust 0.5-1%", M.dust_masks(1, TILE, TILE, hole_range=(0.005, 0.01), generator=gen(7))),
        (
            "random mix 40-50%",
            M.random_masks(1, TILE, TILE, hole_range=(0.4, 0.5), generator=gen(8)),
        ),
    ]
    for name, m in mask_rows:
        tiles.append(to_tile(overlay(x, m), f"mask: {name} ({m.mean():.0%})"))

    for seed in (10, 11, 12):
        lr = second_order_degradation(x, 4, generator=gen(seed))
        tiles.append(to_tile(lr, f"2nd-order x4, seed {seed} (nearest)"))

    for i, effect in enumerate(OLD_PHOTO_EFFECTS):
        out, _ = old_photo_damage(x, generator=gen(20 + i), config=OldPhotoConfig.only(effect))
        tiles.append(to_tile(out, f"old photo: {effect}"))
    out, mask = old_photo_damage(
        x, generator=gen(40), config=OldPhotoConfig.only(*OLD_PHOTO_EFFECTS)
    )
    tiles.append(to_tile(out, "old photo: all effects"))
    tiles.append(to_tile(mask.expand(1, 3, TILE, TILE), f"its damage mask ({mask.mean():.1%})"))

    while len(tiles) % COLS:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.hstack(tiles[i : i + COLS]) for i in range(0, len(tiles), COLS)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 75])
    if not ok:
        raise SystemExit("JPEG encoding failed")
    args.out.write_bytes(buf.tobytes())
    print(f"wrote {args.out} ({len(buf) / 1024:.0f} KB, {len(tiles)} tiles)")


if __name__ == "__main__":
    main()
