"""Build docs/img/real_vs_synthetic.jpg: real damaged prints next to synthetic old-print damage.

The top block holds small thumbnails of every real print in ``<data>/real_old`` (the only form in
which those scans may enter the repository); the bottom block holds the same number of training
photos (``<data>/train/photos_hr``, never ``val/``) damaged by
:func:`restore.data.old_print.old_print_damage` with the print damage the detector trains on
(``configs/damage.yaml``'s print options: :func:`restore.tasks.damage.print_config`; ``--recipe``
for another). Fixed seeds: the sheet is reproducible. ``--effects-out`` also writes a sheet of
every damage function alone with its mask (for tuning; not committed).

Usage: python scripts/make_damage_sheet.py [--data ../shared/data] [--out docs/img/real_vs_synthetic.jpg]
                                           [--recipe configs/damage.yaml]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from restore.config import from_dict, load_config
from restore.data import old_print as P
from restore.tasks.damage import DamageOptions, print_config

REPO = Path(__file__).resolve().parents[1]
TILE_W, TILE_H, COLS = 210, 280, 7
WORK = 1.5  # synthetic damage is drawn at 1.5x the tile size, then downscaled like the real scans
# training photos with people or old-photo subjects, in the order they appear on the sheet
PHOTOS = (
    "027 038 029 044 037 045 020 025 033 024 022 014 039 002 012 030 005 001 032 035 009"
).split()
EFFECTS = {
    "crack_network": P.crack_network,
    "emulsion_flaking": P.emulsion_flaking,
    "fold_creases": P.fold_creases,
    "torn_edges": lambda x, g: P.torn_edges(x, g, corners=(1, 2), wear=(0.005, 0.02)),
    "scratches": P.scratches,
    "crazing": P.crazing,
    "dust_and_hair": lambda x, g: P.dust_and_hair(x, g, hairs=(1, 3)),
    "mould_spots": P.mould_spots,
    "fade": P.fade,
    "yellowing": P.yellowing,
    "uneven_exposure": P.uneven_exposure,
    "vignette": P.vignette,
    "silvering": P.silvering,
    "foxing": P.foxing,
    "water_stains": P.water_stains,
    "paper_texture": P.paper_texture,
    "halftone": P.halftone,
    "low_resolution": P.low_resolution,
}


def fit(bgr: np.ndarray, w: int = TILE_W, h: int = TILE_H) -> np.ndarray:
    """Downscale to fit in (w, h) and centre on a dark tile."""
    s = min(w / bgr.shape[1], h / bgr.shape[0])
    small = cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    tile = np.full((h, w, 3), 24, np.uint8)
    y0, x0 = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    tile[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return tile


def crop(bgr: np.ndarray, w: int, h: int, rng: np.random.Generator) -> torch.Tensor:
    """A random (w, h) crop of the photo downscaled to 1.3x the crop, as (1, 3, h, w) RGB."""
    s = 1.3 * max(w / bgr.shape[1], h / bgr.shape[0])
    bgr = cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    y0 = int(rng.integers(0, bgr.shape[0] - h + 1))
    x0 = int(rng.integers(0, bgr.shape[1] - w + 1))
    rgb = cv2.cvtColor(bgr[y0 : y0 + h, x0 : x0 + w], cv2.COLOR_BGR2RGB)
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255


def to_bgr(img: torch.Tensor) -> np.ndarray:
    rgb = (img[0].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def header(text: str, width: int) -> np.ndarray:
    bar = np.full((30, width, 3), 0, np.uint8)
    cv2.putText(bar, text, (8, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return bar


def grid(tiles: list[np.ndarray]) -> np.ndarray:
    while len(tiles) % COLS:
        tiles.append(np.full_like(tiles[0], 24))
    return np.vstack([np.hstack(tiles[i : i + COLS]) for i in range(0, len(tiles), COLS)])


def effects_sheet(photo: Path, out: Path) -> None:
    """Every damage function alone on one photo: damaged image, then its mask (or |change| x4)."""
    bgr = cv2.imread(str(photo))
    x = crop(bgr, 384, 384, np.random.default_rng(0))
    x, _ = P.print_base(x, torch.Generator().manual_seed(0), probs=(0, 1, 0, 0, 0))
    tiles = []
    for i, (name, fn) in enumerate(EFFECTS.items()):
        r = fn(x, torch.Generator().manual_seed(i))
        y, m = r if isinstance(r, tuple) else (r, ((r - x).abs().amax(1, keepdim=True) * 4))
        for img, label in ((y, name), (m.expand(-1, 3, -1, -1), "mask" if r is not y else "|d|x4")):
            t = to_bgr(img)
            cv2.putText(
                t, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 255), 1, cv2.LINE_AA
            )
            tiles.append(t)
    cols = 6
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    sheet = np.vstack([np.hstack(tiles[i : i + cols]) for i in range(0, len(tiles), cols)])
    cv2.imwrite(str(out), sheet)
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "real_vs_synthetic.jpg")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quality", type=int, default=80, help="JPEG quality of the sheet")
    ap.add_argument("--effects-out", type=Path, help="also write the one-effect-each sheet here")
    ap.add_argument(
        "--recipe",
        type=Path,
        default=REPO / "configs" / "damage.yaml",
        help="damage recipe whose print options (flakes, crazing) the synthetic prints take",
    )
    args = ap.parse_args()
    cfg = load_config(args.recipe, [])
    prints = print_config(from_dict(DamageOptions, cfg.task_args, "task_args."))

    real_dir, photo_dir = args.data / "real_old", args.data / "train" / "photos_hr"
    real = sorted(p for p in real_dir.rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
    if not real:
        raise SystemExit(f"no real prints under {real_dir}")
    real_tiles = [fit(cv2.imread(str(p))) for p in real]

    rng = np.random.default_rng(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    synth_tiles = []
    for i in range(len(real)):
        bgr = cv2.imread(str(photo_dir / f"{PHOTOS[i % len(PHOTOS)]}.png"))
        if bgr is None:
            raise SystemExit(f"cannot read {photo_dir / PHOTOS[i % len(PHOTOS)]}.png")
        w, h = (TILE_H, TILE_W) if rng.uniform() < 0.25 else (TILE_W, TILE_H)
        x = crop(bgr, round(w * WORK), round(h * WORK), rng)
        damaged, _, _ = P.old_print_damage(x, g, prints)
        synth_tiles.append(fit(to_bgr(damaged)))

    width = TILE_W * COLS
    sheet = np.vstack(
        [
            header(f"real damaged prints ({len(real)}, shared/data/real_old, thumbnails)", width),
            grid(real_tiles),
            header(
                f"synthetic: restore.data.old_print.old_print_damage as {args.recipe.name} "
                "trains on, on train/photos_hr",
                width,
            ),
            grid(synth_tiles),
        ]
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".jpg", sheet, [cv2.IMWRITE_JPEG_QUALITY, args.quality])
    if not ok:
        raise SystemExit("JPEG encoding failed")
    args.out.write_bytes(buf.tobytes())
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}, {len(buf) / 1e6:.2f} MB)")
    if args.effects_out:
        effects_sheet(photo_dir / f"{PHOTOS[0]}.png", args.effects_out)


if __name__ == "__main__":
    main()
