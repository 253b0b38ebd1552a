"""`restore photo` on held-out photos: own vs independent damage, and do-no-harm (issues 9, 17).

    python scripts/eval_photo.py [--damage own|holdout|both|scan] [--sets Set5 Set14]
                                 [--json docs/metrics/photo.json] [--skip-harm] [--figures]
                                 [--model STAGE=MODEL ...]

Held-out photos: the HR images of ../shared/data/val/{Set5,Set14}/x4/HR (never trained on).
``restore`` is ``restore.photo.PhotoRestorer()`` with its defaults (the shipped models, automatic
mask, no hints; ``--model`` swaps a stage's model), its output rounded to 8 bits as saved.

Damage (``--damage``), image ``i`` of a set seeded with ``i`` + 0 (Set5) / + 100 (Set14):

- ``own``      the project's issue-9 protocol, ``restore.data.degrade.old_photo_damage`` with
               ``eval_damage_config()`` (scratches + dust + grain + fading on the colour photo);
               target: the clean photo.
- ``holdout``  ``restore.eval.holdout_damage`` (seed + 1000): an independent generator that
               training never sees (branching cracks, folds, a torn corner, stains, dust, grain,
               JPEG on a B&W or sepia base); target: the clean B&W or sepia print.
- ``scan``     (only when asked: ``--damage scan``) the same damaged prints scanned at
               ``SCAN_SCALE`` (4) times the resolution: damaged photo and target enlarged
               (bicubic, the damaged one rounded to 8 bits), the true mask with them (nearest).
               Real scans are made at 600-1200 dpi, so a crack is 10-30 px wide there, not the
               1-4 px it is on a 256-px training crop.

Each damaged photo is scored (PSNR / SSIM, RGB in [0, 1], whole image, no shave) as

- ``input``               the damaged photo itself;
- ``restore``             ``restore photo`` with defaults;
- ``restore_true``        the same pipeline given the true mask (no detection): the gap to
                          ``restore`` is what detection costs, the gap to ``classical_true`` what
                          the models' fill and tone gain over OpenCV's;
- ``classical_true``      the *true* damage mask + ``cv2.inpaint`` (Telea, radius 3) +
                          ``cv2.fastNlMeansDenoisingColored`` (h = hColor = 7, 7, 21): issue 17's
                          baseline;
- ``classical_detected``  the same with the mask ``restore photo`` detected.

Mask scores compare the mask the pipeline used (thresholded and grown) with the true mask, pooled
over the pixels of all images (``IoU raw``: before the pipeline grows it, as issue 9 reported).
``grey dev`` is the output's mean |channel - grey| (8-bit levels) where the target is grey (B&W
holdout bases, grey Set14 photos); holdout B&W inputs are not grey themselves (stains tint them).

Do no harm (skip with ``--skip-harm``): the clean photos in colour and as grey (BT.601 luma,
8-bit; with ``--damage scan`` enlarged as the damaged ones are, and no mild rows), and mildly
degraded versions of both (Gaussian blur sigma 0.6, Gaussian noise sigma 0.01,
OpenCV JPEG q 80; no damage; seed + 2000): PSNR of the output against the clean photo (goal
>= 32 dB for clean ones; for mild ones, never below the input's own PSNR). Grey check: the mean
|channel - grey| of the output of grey inputs, in 8-bit levels (goal <= 0.5). Identical images
count as 100 dB.

Prints Markdown tables and the wall time; ``--json`` writes every per-image row
(``docs/metrics/photo.json``). ``--figures`` writes docs/img/photo_*.jpg (damaged | restored | clean).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from photo_options import add_detection_options, detection_options, stage_models  # noqa: E402

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.data.color import rgb_to_gray  # noqa: E402
from restore.data.datasets import list_images  # noqa: E402
from restore.data.degrade import add_gaussian_noise, gaussian_blur, old_photo_damage  # noqa: E402
from restore.data.io import from_tensor, read_image, to_tensor, write_image  # noqa: E402
from restore.eval.holdout_damage import holdout_damage  # noqa: E402
from restore.eval.metrics import psnr, ssim  # noqa: E402
from restore.eval.photo_protocol import HOLDOUT_SEED  # noqa: E402
from restore.photo import PhotoRestorer, cv2_inpaint  # noqa: E402
from restore.tasks.damage import eval_damage_config  # noqa: E402

VAL = REPO.parent / "shared" / "data" / "val"
SEED_OFFSET = {"Set5": 0, "Set14": 100}
MILD_SEED = 2000  # (HOLDOUT_SEED is the library protocol's: both score the same photos)
MILD_BLUR, MILD_NOISE, MILD_JPEG = 0.6, 0.01, 80
PSNR_CAP = 100.0  # dB given to identical images (PSNR is infinite there)
GOAL_CLEAN_DB, GOAL_GREY_LEVELS = 32.0, 0.5
METHODS = ("input", "restore", "restore_true", "classical_true", "classical_detected")


# ------------------------------------------------------------------ images and baselines
def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round images in [0, 1] to 8-bit levels, as a saved photo is."""
    return (x.clamp(0, 1) * 255).round() / 255


def classical(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Telea inpainting of the mask, then OpenCV non-local-means colour denoising (one image).

    The denoiser works in 8-bit CIELAB, whose round trip alone moves some levels by one (a flat
    128 grey comes back as 127: 48 dB).
    """
    y = cv2_inpaint(x, mask)
    img = (y[0].permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
    den = cv2.fastNlMeansDenoisingColored(img, None, 7, 7, 7, 21)
    return torch.from_numpy(den).permute(2, 0, 1)[None].float() / 255


def cv2_jpeg(x: torch.Tensor, quality: int, grey: bool) -> torch.Tensor:
    """OpenCV JPEG round trip of one image (a grey image as one channel, so it stays grey)."""
    a = from_tensor(x[:, :1] if grey else x)
    if not grey:
        a = a[..., ::-1]  # OpenCV is BGR
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(a), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    b = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    return to_tensor(b if grey else np.ascontiguousarray(b[..., ::-1]))


def mild_degrade(x: torch.Tensor, seed: int, grey: bool) -> torch.Tensor:
    """Slight blur, noise and JPEG, no damage; a grey photo stays grey (one image)."""
    g = torch.Generator().manual_seed(seed)
    y = add_gaussian_noise(gaussian_blur(x, MILD_BLUR), MILD_NOISE, generator=g, gray=grey)
    return cv2_jpeg(quantize(y), MILD_JPEG, grey)


def is_grey(x: torch.Tensor) -> bool:
    """R = G = B everywhere."""
    return bool((x.amax(1) - x.amin(1)).max() == 0)


# ------------------------------------------------------------------ metrics and bookkeeping
def psnr_db(pred: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR of one image in dB, capped at :data:`PSNR_CAP` (identical images)."""
    return min(float(psnr(pred.clamp(0, 1), target)[0]), PSNR_CAP)


def grey_deviation(x: torch.Tensor) -> float:
    """Mean |channel - grey| (BT.601 luma) of images in [0, 1], in 8-bit levels."""
    return float((x - rgb_to_gray(x)).abs().mean()) * 255


def mask_counts(pred: torch.Tensor, true: torch.Tensor) -> dict[str, int]:
    """True positive, false positive and false negative pixel counts of {0, 1} masks."""
    p, t = pred > 0.5, true > 0.5
    return {"tp": int((p & t).sum()), "fp": int((p & ~t).sum()), "fn": int((~p & t).sum())}


def mask_ratios(tp: float, fp: float, fn: float) -> dict[str, float]:
    """IoU, precision, recall from counts (as ``restore.tasks.damage.mask_scores``)."""
    return {
        "iou": tp / max(tp + fp + fn, 1.0),
        "precision": tp / max(tp + fp, 1.0),
        "recall": tp / max(tp + fn, 1.0),
    }


def add_gains(row: dict[str, Any]) -> dict[str, Any]:
    """Add ``gain_<m>`` = PSNR(restore) - PSNR(m) for every other method ``m`` in the row."""
    for m in METHODS:
        if m != "restore" and f"psnr_{m}" in row and "psnr_restore" in row:
            row[f"gain_{m}"] = row["psnr_restore"] - row[f"psnr_{m}"]
    return row


def summarize(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means of the per-image numbers, worst cases, and mask scores pooled over all pixels.

    A float present in only some rows is averaged over those. ``tp`` / ``fp`` / ``fn`` (and ``raw_*``) counts are summed, then turned into IoU, precision and
    recall (``raw_iou`` for the raw ones); ``min_psnr_restore`` and ``worst_gain_input`` are the
    smallest per-image PSNR and gain, ``worse`` counts images whose output scores below their input.
    """
    out: dict[str, Any] = {"n": len(rows)}
    if not rows:
        return out
    keys = dict.fromkeys(k for r in rows for k, v in r.items() if isinstance(v, float))
    for k in keys:
        out[k] = float(np.mean([r[k] for r in rows if k in r]))
    if "psnr_restore" in keys:
        out["min_psnr_restore"] = min(r["psnr_restore"] for r in rows)
    if "gain_input" in rows[0]:
        out["worst_gain_input"] = min(r["gain_input"] for r in rows)
        out["worse"] = sum(r["gain_input"] < 0 for r in rows)
    for prefix in ("", "raw_"):
        if f"{prefix}tp" in rows[0]:
            c = [sum(r[f"{prefix}{k}"] for r in rows) for k in ("tp", "fp", "fn")]
            ratios = mask_ratios(*c)
            out.update({f"pooled_{prefix}{k}": v for k, v in ratios.items()})
    return out


# ------------------------------------------------------------------ running restore photo
def restore_run(pr: PhotoRestorer, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``restore photo`` with defaults: (output rounded to 8 bits, the damage mask it used)."""
    steps: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        y, _ = pr.restore_tensor(x, steps=steps)
    return quantize(y), steps.get("mask")


def raw_mask(pr: PhotoRestorer, x: torch.Tensor) -> torch.Tensor | None:
    """The detector's thresholded mask before the pipeline grows it (``None``: no detector)."""
    if "detect" not in pr.models:
        return None
    with torch.no_grad():
        return pr.raw_mask(x)


def own_damage(clean: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Issue 9's protocol: (damaged, true mask, target = the clean photo)."""
    g = torch.Generator().manual_seed(seed)
    damaged, mask = old_photo_damage(clean, generator=g, config=eval_damage_config())
    return damaged, mask, clean


def holdout(clean: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The independent generator: (damaged, true mask, target = the clean B&W / sepia print)."""
    return holdout_damage(clean, seed=HOLDOUT_SEED + seed)


SCAN_SCALE = 4


def holdout_scan(clean: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The independent damage (:func:`holdout`) scanned at ``SCAN_SCALE`` x the resolution."""
    damaged, mask, target = holdout(clean, seed)

    def up(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=SCAN_SCALE, mode="bicubic").clamp(0, 1)

    return quantize(up(damaged)), F.interpolate(mask, scale_factor=SCAN_SCALE), up(target)


DAMAGES: dict[str, Callable[[torch.Tensor, int], tuple[torch.Tensor, ...]]] = {
    "own": own_damage,
    "holdout": holdout,
    "scan": holdout_scan,
}


def score_damaged(
    pr: PhotoRestorer, damaged: torch.Tensor, true: torch.Tensor, target: torch.Tensor
) -> tuple[dict[str, Any], torch.Tensor]:
    """One damaged photo: PSNR / SSIM of every method and mask counts; returns (row, restored)."""
    out, used = restore_run(pr, damaged)
    used = used if used is not None else torch.zeros_like(true)
    with torch.no_grad():  # the same pipeline given the true mask: what detection costs
        given, _ = pr.restore_tensor(damaged, mask=true)
    images = {
        "input": damaged,
        "restore": out,
        "restore_true": quantize(given),
        "classical_true": classical(damaged, true),
        "classical_detected": classical(damaged, used),
    }
    row: dict[str, Any] = {}
    for m, img in images.items():
        row[f"psnr_{m}"] = psnr_db(img, target)
        row[f"ssim_{m}"] = float(ssim(img.clamp(0, 1), target)[0])
    add_gains(row)
    row["true_fraction"] = float(true.mean())
    row.update(mask_counts(used, true))
    raw = raw_mask(pr, damaged)
    if raw is not None:
        row.update({f"raw_{k}": v for k, v in mask_counts(raw, true).items()})
    row.update(mask_ratios(row["tp"], row["fp"], row["fn"]))
    if is_grey(target):
        row["grey_dev_restore"] = grey_deviation(out)
    return row, out


def figure(path: Path, *images: torch.Tensor, height: int = 300) -> None:
    """Side-by-side JPEG of same-size images, each scaled to ``height`` rows, 4 px gaps."""
    tiles = []
    for t in images:
        a = from_tensor(t[:1])
        h, w = a.shape[:2]
        a = cv2.resize(a, (round(w * height / h), height), interpolation=cv2.INTER_AREA)
        tiles += [a, np.full((height, 4, 3), 255, np.uint8)]
    write_image(path, np.concatenate(tiles[:-1], 1), quality=85)


def held_out(sets: Iterable[str]) -> Iterable[tuple[str, int, Path]]:
    """(set, seed, path) of every held-out photo."""
    for name in sets:
        for i, p in enumerate(list_images(VAL / name / "x4" / "HR")):
            yield name, SEED_OFFSET.get(name, 0) + i, p


def eval_damage(
    pr: PhotoRestorer, kind: str, sets: Sequence[str], figures: bool
) -> list[dict[str, Any]]:
    """Per-image rows of one damage kind over the held-out photos."""
    rows = []
    for name, seed, p in held_out(sets):
        clean = to_tensor(read_image(p))
        damaged, true, target = DAMAGES[kind](clean, seed)
        row, out = score_damaged(pr, damaged, true, target)
        base = "colour" if kind == "own" else ("bw" if is_grey(target) else "sepia")
        figures = figures and kind != "scan"
        rows.append({"image": f"{name}/{p.name}", "set": name, "base": base, **row})
        if figures and seed - SEED_OFFSET.get(name, 0) < 2:
            tag = "" if kind == "own" else f"{kind}_"
            figure(
                REPO / "docs" / "img" / f"photo_{tag}{name.lower()}_{p.stem}.jpg",
                damaged,
                out,
                target,
            )
    return rows


def eval_harm(pr: PhotoRestorer, sets: Sequence[str], scan: bool = False) -> list[dict[str, Any]]:
    """Per-image rows of the do-no-harm check: clean and mildly degraded, colour and grey (with
    ``scan``: the clean photos only, enlarged ``SCAN_SCALE`` times as a scan of them would be)."""
    rows = []
    for name, seed, p in held_out(sets):
        clean = to_tensor(read_image(p))
        if scan:
            clean = quantize(F.interpolate(clean, scale_factor=SCAN_SCALE, mode="bicubic"))
        for tone, base in (("colour", clean), ("grey", quantize(rgb_to_gray(clean, True)))):
            grey = tone == "grey"
            mild = mild_degrade(base, MILD_SEED + seed, grey)
            for state, x in (("clean", base),) if scan else (("clean", base), ("mild", mild)):
                out, _ = restore_run(pr, x)
                row: dict[str, Any] = {"image": f"{name}/{p.name}", "set": name}
                row["input"] = f"{state} {tone}"
                if state == "mild":
                    row["psnr_input"] = psnr_db(x, base)
                row["psnr_restore"] = psnr_db(out, base)
                add_gains(row)
                if grey:
                    row["grey_dev_input"] = grey_deviation(x)
                    row["grey_dev_restore"] = grey_deviation(out)
                rows.append(row)
    return rows


def groups(
    rows: Sequence[dict[str, Any]], key: str, sets: Sequence[str]
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(kind, photos, rows) per value of ``key``: each set, all sets and, by base, all sets."""
    out = []
    for kind in dict.fromkeys(r[key] for r in rows):
        mine = [r for r in rows if r[key] == kind]
        out += [(kind, s, [r for r in mine if r["set"] == s]) for s in sets]
        if len(sets) > 1:
            out.append((kind, "all", mine))
        bases = sorted({r["base"] for r in mine if "base" in r})
        if len(bases) > 1:
            out += [(kind, f"all, {b}", [r for r in mine if r["base"] == b]) for b in bases]
    return out


def fmt(v: Any, spec: str = ".2f") -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def damage_table(summaries: list[tuple[str, str, dict[str, Any]]]) -> str:
    head = (
        "| damage | photos | n | PSNR input | classical, true mask | classical, detected mask "
        "| restore, true mask | restore | gain vs input | vs classical (true mask) | vs classical (detected) "
        "| SSIM input / restore | mask recall | precision | IoU | IoU raw | grey dev, grey target |"
    )
    lines = [head, "|---|---|" + "---:|" * (head.count("|") - 3)]
    for kind, photos, m in summaries:
        g = m.get
        lines.append(
            f"| {kind} | {photos} | {m['n']} | {fmt(g('psnr_input'))} "
            f"| {fmt(g('psnr_classical_true'))} | {fmt(g('psnr_classical_detected'))} "
            f"| {fmt(g('psnr_restore_true'))} | {fmt(g('psnr_restore'))} | {fmt(g('gain_input'), '+.2f')} "
            f"| {fmt(g('gain_classical_true'), '+.2f')} | {fmt(g('gain_classical_detected'), '+.2f')} "
            f"| {fmt(g('ssim_input'), '.3f')} / {fmt(g('ssim_restore'), '.3f')} "
            f"| {fmt(g('pooled_recall'), '.3f')} | {fmt(g('pooled_precision'), '.3f')} "
            f"| {fmt(g('pooled_iou'), '.3f')} | {fmt(g('pooled_raw_iou'), '.3f')} "
            f"| {fmt(g('grey_dev_restore'))} |"
        )
    return "\n".join(lines)


def harm_table(summaries: list[tuple[str, str, dict[str, Any]]]) -> str:
    head = (
        "| input | photos | n | PSNR input | PSNR restore | min PSNR restore | gain vs input "
        "| worst gain | made worse | grey dev restore (levels) |"
    )
    lines = [head, "|---|---|" + "---:|" * (head.count("|") - 3)]
    for kind, photos, m in summaries:
        g = m.get
        lines.append(
            f"| {kind} | {photos} | {m['n']} | {fmt(g('psnr_input')) if 'psnr_input' in m else 'clean'} "
            f"| {fmt(g('psnr_restore'))} | {fmt(g('min_psnr_restore'))} "
            f"| {fmt(g('gain_input'), '+.2f')} | {fmt(g('worst_gain_input'), '+.2f')} "
            f"| {fmt(g('worse'), 'd')} | {fmt(g('grey_dev_restore'))} |"
        )
    return "\n".join(lines)


def goals(summary: Mapping[str, Mapping[str, dict[str, Any]]]) -> str:
    """Issue 17's "Done when" numbers that this script measures, with met / not met."""
    checks: list[tuple[str, float | None, str, float]] = []
    hold, own, harm = (summary.get(k, {}) for k in ("holdout", "own", "harm"))
    if hold:
        a = hold.get("all") or next(iter(hold.values()))
        checks += [
            ("holdout: gain over the damaged input (dB)", a.get("gain_input"), ">=", 4.0),
            (
                "holdout: gain over classical, true mask (dB)",
                a.get("gain_classical_true"),
                ">=",
                1.5,
            ),
            ("holdout: mask recall", a.get("pooled_recall"), ">=", 0.7),
            ("holdout: mask IoU", a.get("pooled_iou"), ">=", 0.5),
        ]
    if own:
        a = own.get("all") or next(iter(own.values()))
        checks += [
            ("own: gain over the damaged input (dB)", a.get("gain_input"), ">=", 3.0),
            (
                "own: gain over classical, detected mask (dB)",
                a.get("gain_classical_detected"),
                ">=",
                1.0,
            ),
            ("own: mask IoU", a.get("pooled_iou"), ">=", 0.5),
            (
                "own: mask IoU raw (before growing; issue 9's measure)",
                a.get("pooled_raw_iou"),
                ">=",
                0.5,
            ),
        ]
    if harm:
        grey = [m.get("grey_dev_restore") for k, m in harm.items() if "grey" in k]
        checks += [
            (
                "grey inputs: mean abs(channel - grey) of the output, worst group (levels)",
                max(grey),
                "<=",
                GOAL_GREY_LEVELS,
            ),
            (
                "clean colour: min PSNR vs itself (dB)",
                harm["clean colour"].get("min_psnr_restore"),
                ">=",
                GOAL_CLEAN_DB,
            ),
            (
                "clean grey: min PSNR vs itself (dB)",
                harm["clean grey"].get("min_psnr_restore"),
                ">=",
                GOAL_CLEAN_DB,
            ),
            (
                "mild colour: worst gain over its input (dB)",
                harm["mild colour"].get("worst_gain_input"),
                ">=",
                0.0,
            ),
            (
                "mild grey: worst gain over its input (dB)",
                harm["mild grey"].get("worst_gain_input"),
                ">=",
                0.0,
            ),
        ]
    lines = ["| goal (issue 17) | measured | target | met |", "|---|---:|---:|---|"]
    for what, v, op, target in checks:
        met = v is not None and (v >= target if op == ">=" else v <= target)
        lines.append(
            f"| {what} | {fmt(v, '.3f')} | {op} {target:g} | {'yes' if met else '**no**'} |"
        )
    return "\n".join(lines)


def machine(threads: int) -> str:
    """CPU model, cores, torch version and threads used (no paths)."""
    name = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        name = next(ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} threads"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--damage", choices=["own", "holdout", "both", "scan"], default="both")
    ap.add_argument("--sets", nargs="+", default=["Set5", "Set14"])
    ap.add_argument("--json", type=Path, help="write every per-image row here")
    ap.add_argument("--skip-harm", action="store_true", help="no do-no-harm / grey rows")
    ap.add_argument("--figures", action="store_true", help="write docs/img/photo_*.jpg")
    add_detection_options(ap)
    ap.add_argument(
        "--faces",
        choices=["default", "on", "off"],
        default="default",
        help="the faces stage: restore photo's default, or forced on / off (to measure it)",
    )
    ap.add_argument(
        "--enhance-local",
        type=float,
        default=None,
        help="share of the enhance model's local change kept (default: restore photo's)",
    )
    ap.add_argument(
        "--enhance-gate",
        default=None,
        metavar="LO,HI|off",
        help="the enhance tone curve's gate in 8-bit levels (default: restore photo's; off: none)",
    )
    ap.add_argument(
        "--no-half-size",
        action="store_true",
        help="detect at full size only (restore photo also looks at half size)",
    )
    ap.add_argument(
        "--enhance-full-size",
        action="store_true",
        help="fit the enhance curve on large photos at full size (restore photo shrinks them)",
    )
    ap.add_argument(
        "--fix-casts",
        action="store_true",
        help="per-channel enhance curves on colour photos too (PhotoRestorer(fix_casts=True); "
        "the default before 2026-11-30 session 4)",
    )
    ap.add_argument(
        "--half-support",
        type=float,
        default=None,
        metavar="P",
        help="a half-size region joins where the full-size map's mean inside it is >= P "
        "(restore.photo.scales.SUPPORT; 0 = every large region, as before 2026-11-30)",
    )
    ap.add_argument(
        "--no-pyramid",
        action="store_true",
        help="on large photos, detect at full and half size only (restore.photo.scales)",
    )
    ap.add_argument(
        "--no-corners",
        action="store_true",
        help="no missing-corner rule (restore.photo.corners), the detector alone",
    )
    args = ap.parse_args()
    t_start = time.perf_counter()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    models = stage_models(args)
    options = detection_options(args)
    if args.faces != "default":
        options["faces"] = args.faces == "on"
    if args.enhance_local is not None:
        options["enhance_local"] = args.enhance_local
    if args.enhance_gate is not None:
        off = args.enhance_gate == "off"
        options["enhance_gate"] = None if off else tuple(map(float, args.enhance_gate.split(",")))
    if args.no_half_size:
        options["detect_half_size"] = False
    if args.enhance_full_size:
        options["enhance_side"] = None
    if args.fix_casts:
        options["fix_casts"] = True
    if args.half_support is not None:
        import restore.photo.scales as scales

        scales.SUPPORT = args.half_support
    if args.no_pyramid:
        options["detect_pyramid"] = False
    if args.no_corners:
        options["detect_corners"] = False
    pr = PhotoRestorer(device="cpu", models=models, **options)
    print(f"models: {pr.model_names}; warnings: {pr.warnings or 'none'}")
    kinds = ["own", "holdout"] if args.damage == "both" else [args.damage]
    rows: dict[str, list[dict[str, Any]]] = {}
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    tables = []
    for kind in kinds:
        rows[kind] = eval_damage(pr, kind, args.sets, args.figures)
        for r in rows[kind]:
            r["damage"] = kind
    damaged = [r for k in kinds for r in rows[k]]
    if damaged:
        s = [(k, photos, summarize(rs)) for k, photos, rs in groups(damaged, "damage", args.sets)]
        for k, photos, m in s:
            summary.setdefault(k, {})[photos] = m
        tables.append(damage_table(s))
    if not args.skip_harm:
        rows["harm"] = eval_harm(pr, args.sets, scan=args.damage == "scan")
        s = [
            (k, photos, summarize(rs)) for k, photos, rs in groups(rows["harm"], "input", args.sets)
        ]
        summary["harm"] = {k: m for k, photos, m in s if photos == "all" or len(args.sets) == 1}
        tables.append(harm_table(s))
    if args.damage != "scan":  # issue 17's goals are stated on the held-out photos as they are
        tables.append(goals(summary))
    if args.figures:
        x = to_tensor(read_image(REPO / "assets" / "old_photo.jpg"))
        y, _ = restore_run(pr, x)
        figure(REPO / "docs" / "img" / "photo_sample.jpg", x, y, height=400)
        print("figures: docs/img/photo_*.jpg")
    wall = time.perf_counter() - t_start
    print("\n\n".join(tables))
    print(f"\nwall time: {wall:.0f} s ({args.threads} threads)")
    if args.json:
        atomic_write_json(
            args.json,
            {
                "command": "python scripts/eval_photo.py " + " ".join(sys.argv[1:]),
                "machine": machine(args.threads),
                "models": pr.model_names,
                "warnings": pr.warnings,
                "wall_seconds": round(wall, 1),
                "summary": summary,
                "images": rows,
            },
        )
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
