"""Make assets/old_photo.jpg: a free-licence photo aged with seeded synthetic old-photo damage.

    python scripts/make_sample.py            # writes assets/old_photo.jpg (+ its damage mask)

The source is ../shared/data/train/photos_hr/035.png, "Production of B-24 bombers and C-87
transports" (1942, U.S. Office of War Information; public domain, see assets/ATTRIBUTION.md). It
is downscaled to 768 px on its long side (area filter), then gets fading, sepia toning, grain,
scratches, dust and a crease from ``old_photo_damage`` with a fixed seed, and is saved as JPEG
(quality 92). The same command always writes the same pixels.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import torch  # noqa: E402

from restore.data.degrade import OldPhotoConfig, old_photo_damage  # noqa: E402
from restore.data.io import from_tensor, read_image, to_tensor, write_image  # noqa: E402

SOURCE = REPO.parent / "shared" / "data" / "train" / "photos_hr" / "035.png"
SEED = 9
LONG_SIDE = 768


def make(src: Path, long_side: int = LONG_SIDE, seed: int = SEED):
    """(clean, damaged, mask) tensors of the sample photo."""
    px = read_image(src).pixels
    h, w = px.shape[:2]
    k = long_side / max(h, w)
    px = cv2.resize(px, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    clean = to_tensor(px)
    cfg = replace(
        OldPhotoConfig.only("fade", "sepia", "grain", "scratch", "dust", "crease"),
        fade_range=(0.3, 0.35),
        sepia_range=(0.8, 0.9),
        grain_sigma=(0.03, 0.035),
    )
    damaged, mask = old_photo_damage(
        clean, generator=torch.Generator().manual_seed(seed), config=cfg
    )
    return clean, damaged, mask


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--src", type=Path, default=SOURCE)
    ap.add_argument("--out", type=Path, default=REPO / "assets" / "old_photo.jpg")
    args = ap.parse_args()
    _, damaged, mask = make(args.src)
    write_image(args.out, from_tensor(damaged), quality=92)
    write_image(args.out.with_name(args.out.stem + "_mask.png"), from_tensor(mask))
    print(
        f"wrote {args.out} ({damaged.shape[-1]}x{damaged.shape[-2]}, {float(mask.mean()):.2%} damaged)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
