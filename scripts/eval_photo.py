"""Issue 9 benchmark: `restore photo` (automatic mask) vs the damaged input and a classical pipeline.

    python scripts/eval_photo.py [--sets Set5 Set14] [--json docs/metrics/photo.json] [--figures]

For every HR image of ../shared/data/val/{Set5,Set14}/x4/HR, seeded synthetic old-photo damage
(scratches + dust + grain + fading: ``restore.tasks.damage.eval_damage_config``, generator seed =
the image's index in the sorted set, + 100 for Set14) is applied; then

- ``input``     the damaged photo itself;
- ``restore``   ``restore.photo.PhotoRestorer()`` (the shipped models, automatic mask, no hints);
- ``classical`` the same detected mask + ``cv2.inpaint`` (Telea, radius 3) +
                ``cv2.fastNlMeansDenoisingColored`` (h = hColor = 7, template 7, search 21).

PSNR / SSIM are on RGB in [0, 1], whole image, no shave. The damage mask is scored against the
synthetic ground truth by IoU / precision / recall, thresholded as the pipeline does but before
its dilation (``iou``) and after it (``iou_dilated``). ``--figures`` writes before/after figures
docs/img/photo_*.jpg (damaged | restored | clean).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from restore.data.datasets import list_images  # noqa: E402
from restore.data.degrade import old_photo_damage  # noqa: E402
from restore.data.io import from_tensor, read_image, to_tensor, write_image  # noqa: E402
from restore.eval.metrics import psnr, ssim  # noqa: E402
from restore.photo import PhotoRestorer, cv2_inpaint  # noqa: E402
from restore.tasks.damage import binarize, eval_damage_config, mask_scores  # noqa: E402

VAL = REPO.parent / "shared" / "data" / "val"
SEED_OFFSET = {"Set5": 0, "Set14": 100}


def classical(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Telea inpainting of the mask, then OpenCV non-local-means colour denoising."""
    y = cv2_inpaint(x, mask)
    img = (y[0].permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
    den = cv2.fastNlMeansDenoisingColored(img, None, 7, 7, 7, 21)
    return torch.from_numpy(den).permute(2, 0, 1)[None].float() / 255


def damaged_pair(path: Path, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    clean = to_tensor(read_image(path))
    g = torch.Generator().manual_seed(seed)
    damaged, mask = old_photo_damage(clean, generator=g, config=eval_damage_config())
    return clean, damaged, mask


def figure(path: Path, *images: torch.Tensor, height: int = 300) -> None:
    """Side-by-side JPEG of same-size images, each scaled to ``height`` rows, 4 px gaps."""
    tiles = []
    for t in images:
        a = from_tensor(t[:1])
        h, w = a.shape[:2]
        a = cv2.resize(a, (round(w * height / h), height), interpolation=cv2.INTER_AREA)
        tiles += [a, np.full((height, 4, 3), 255, np.uint8)]
    write_image(path, np.concatenate(tiles[:-1], 1), quality=85)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    ap.add_argument("--json", type=Path)
    ap.add_argument("--figures", action="store_true", help="write docs/img/photo_*.jpg")
    ap.add_argument("--model", action="append", default=[], metavar="STAGE=MODEL")
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = dict(s.split("=", 1) for s in args.model)
    pr = PhotoRestorer(device="cpu", models=models)
    print(f"models: {pr.model_names}; warnings: {pr.warnings or 'none'}")
    results: dict[str, dict] = {}
    for name in args.sets:
        rows, preds, targets, preds_d = [], [], [], []
        for i, p in enumerate(list_images(VAL / name / "x4" / "HR")):
            clean, damaged, gt = damaged_pair(p, SEED_OFFSET.get(name, 0) + i)
            with torch.no_grad():
                prob = pr.models["detect"].run_tensor(damaged)
            raw = binarize(prob, pr.threshold, 0)
            mask = binarize(prob, pr.threshold, pr.dilate)
            ours, _ = pr.restore_tensor(damaged, mask=mask)
            base = classical(damaged, mask)
            row = {"image": p.name}
            for key, img in (("input", damaged), ("restore", ours), ("classical", base)):
                row[f"psnr_{key}"] = float(psnr(img.clamp(0, 1), clean)[0])
                row[f"ssim_{key}"] = float(ssim(img.clamp(0, 1), clean)[0])
            row.update({k: v for k, v in mask_scores(raw, gt).items() if k != "f1"})
            row["iou_dilated"] = mask_scores(mask, gt)["iou"]
            rows.append(row)
            preds.append(raw.flatten())
            preds_d.append(mask.flatten())
            targets.append(gt.flatten())
            if args.figures and i < 2:
                out = REPO / "docs" / "img" / f"photo_{name.lower()}_{p.stem}.jpg"
                figure(out, damaged, ours, clean)
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "image"}
        t = torch.cat(targets)[None, None]
        pooled = mask_scores(torch.cat(preds)[None, None], t)
        mean.update({f"pooled_{k}": v for k, v in pooled.items() if k != "f1"})
        mean["pooled_iou_dilated"] = mask_scores(torch.cat(preds_d)[None, None], t)["iou"]
        results[name] = {"mean": mean, "images": rows}

    hdr = "| set | PSNR input | PSNR classical | PSNR restore | gain vs input | vs classical | SSIM input / classical / restore | mask IoU (pooled) | precision | recall | IoU dilated |"
    print(hdr)
    print("|---" * (hdr.count("|") - 1) + "|")
    for name, r in results.items():
        m = r["mean"]
        print(
            f"| {name} | {m['psnr_input']:.2f} | {m['psnr_classical']:.2f} | {m['psnr_restore']:.2f} "
            f"| {m['psnr_restore'] - m['psnr_input']:+.2f} | {m['psnr_restore'] - m['psnr_classical']:+.2f} "
            f"| {m['ssim_input']:.3f} / {m['ssim_classical']:.3f} / {m['ssim_restore']:.3f} "
            f"| {m['pooled_iou']:.3f} | {m['pooled_precision']:.3f} | {m['pooled_recall']:.3f} "
            f"| {m['pooled_iou_dilated']:.3f} |"
        )
    if args.figures:
        sample = REPO / "assets" / "old_photo.jpg"
        img = read_image(sample)
        x = to_tensor(img)
        y, _ = pr.restore_tensor(x)
        figure(REPO / "docs" / "img" / "photo_sample.jpg", x, y, height=400)
        print("figures: docs/img/photo_*.jpg")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"models": pr.model_names, "results": results}, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
