"""Where `restore photo` harms photos that need no help (the do-no-harm rows of eval_photo.py).

    python scripts/bench/photo_harm.py stages [--no-gate]  # each stage switched off in turn
    python scripts/bench/photo_harm.py curves            # how far the enhance curve moves each input
    python scripts/bench/photo_harm.py regions [--model detect=RUN]   # large detected regions
    python scripts/bench/photo_harm.py half --model detect=RUN        # half-size regions
    python scripts/bench/photo_harm.py kinds [--model detect=RUN] [--no-corners]  # per damage kind

All on the 19 held-out Set5 + Set14 photos with ``scripts/eval_photo.py``'s inputs and seeds.

- ``stages``: the do-no-harm rows (clean and mildly degraded, colour and grey) with the default
  pipeline, without detection, without enhance, and without both: mean / worst PSNR and gain
  (``--no-gate``: the enhance curve as it was before its gate).
- ``curves``: the enhance tone curve's RMS move S (8-bit levels) with the gate off, and what it
  does to PSNR, per input group (clean, mild, own damage, independent damage). Clean rows' PSNR
  change is against an unchanged photo (infinite): only S is shown for them.
- ``regions``: the detected regions covering >= 0.1% of the photo, on the clean colour and clean
  grey versions (all false alarms): count per group.
- ``half``: every large half-size region (restore.photo.scales) on clean colour, clean grey and
  independently damaged photos, with the mean full-size probability inside it and, on the damage,
  the share of it that is truly damaged.
- ``kinds``: on the independent damage, the recall of the detector's raw mask and of the mask the
  pipeline used, per kind of damage (cracks, fold ridges and shadows, dust, torn corner), pooled
  over pixels, with each kind's share of the true mask, and the share of the squared error left in
  ``restore photo``'s output that lies on that kind's pixels (or on undamaged ones).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import eval_photo as E  # noqa: E402

import restore.eval.holdout_damage as H  # noqa: E402
from restore.data.color import rgb_to_gray  # noqa: E402
from restore.photo import PhotoRestorer  # noqa: E402
from restore.photo.scales import large_regions  # noqa: E402

SETS = ["Set5", "Set14"]
NO_GATE = {"enhance_gate": None}


def photos():
    """(label, clean colour, clean grey, seed) of each held-out photo."""
    for name, seed, p in E.held_out(SETS):
        clean = E.to_tensor(E.read_image(p))
        yield f"{name}/{p.name}", clean, E.quantize(rgb_to_gray(clean, True)), seed


def stages(models: dict[str, str], gate: bool = True) -> None:
    configs = {
        "default": {},
        "no detect": {"detect": False},
        "no enhance": {"enhance": False},
        "neither": {"detect": False, "enhance": False},
    }
    print("| pipeline | input | mean PSNR | worst PSNR | mean gain | made worse |")
    print("|---|---|---:|---:|---:|---:|")
    for name, opts in configs.items():
        pr = PhotoRestorer(device="cpu", models=models, **opts, **({} if gate else NO_GATE))
        rows = E.eval_harm(pr, SETS)
        for group in ("clean colour", "clean grey", "mild colour", "mild grey"):
            rs = [r for r in rows if r["input"] == group]
            ps = [min(r["psnr_restore"], 100.0) for r in rs]
            gains = [r["gain_input"] for r in rs if "gain_input" in r]
            g = f"{np.mean(gains):+.2f}" if gains else "-"
            worse = f"{sum(x < 0 for x in gains)}" if gains else "-"
            print(f"| {name} | {group} | {np.mean(ps):.2f} | {min(ps):.2f} | {g} | {worse} |")


def curves(models: dict[str, str]) -> None:
    pr = PhotoRestorer(device="cpu", models=models, enhance_gate=None)
    out: dict[str, list[tuple[float, float]]] = {}
    for _, clean, grey, seed in photos():
        cases = [
            ("clean colour", clean, clean),
            ("clean grey", grey, grey),
            ("mild colour", E.mild_degrade(clean, E.MILD_SEED + seed, False), clean),
            ("mild grey", E.mild_degrade(grey, E.MILD_SEED + seed, True), grey),
        ]
        d, _, t = E.own_damage(clean, seed)
        cases.append(("own damage", d, t))
        d, _, t = E.holdout(clean, seed)
        cases.append(("independent damage", d, t))
        for group, x, target in cases:
            steps: dict[str, torch.Tensor] = {}
            with torch.no_grad():
                pr.restore_tensor(x, steps=steps)
            pre, post = steps.get("inpaint", x), steps["enhance"]
            s = float((post - pre).pow(2).mean().sqrt()) * 255
            dp = E.psnr_db(post, target) - E.psnr_db(pre, target)
            out.setdefault(group, []).append((s, dp))
    print("| input | n | S min | S median | S max | PSNR change of the curve, mean (min / max) |")
    print("|---|---:|---:|---:|---:|---|")
    for group, v in out.items():
        s = sorted(a for a, _ in v)
        d = [b for _, b in v]
        dd = (
            "-"
            if group.startswith("clean")
            else f"{np.mean(d):+.2f} ({min(d):+.2f} / {max(d):+.2f})"
        )
        print(f"| {group} | {len(v)} | {s[0]:.1f} | {s[len(s) // 2]:.1f} | {s[-1]:.1f} | {dd} |")


def regions(models: dict[str, str]) -> None:
    pr = PhotoRestorer(device="cpu", models=models)
    count = {"clean colour": 0, "clean grey": 0}
    for label, clean, grey, _ in photos():
        for group, x in (("clean colour", clean), ("clean grey", grey)):
            with torch.no_grad():
                m = (pr.detect_mask(x)[0, 0] > 0.5).numpy().astype(np.uint8)
            _, _, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
            big = [a for a in stats[1:, cv2.CC_STAT_AREA] if a >= 0.001 * m.size]
            count[group] += len(big)
            if big:
                print(f"  {group} {label}: {len(big)} region(s), {100 * sum(big) / m.size:.2f}%")
    print(f"regions >= 0.1% of the photo: {count}")


def half(models: dict[str, str]) -> None:
    det = PhotoRestorer(device="cpu", models=models, inpaint=False, enhance=False)
    model = det.models["detect"]
    print("| input | photo | area % | mean full-size probability | truly damaged share |")
    print("|---|---|---:|---:|---:|")
    for label, clean, grey, seed in photos():
        d, m, _ = E.holdout(clean, seed)
        for group, x, true in (
            ("clean colour", clean, None),
            ("clean grey", grey, None),
            ("damage", d, m),
        ):
            with torch.no_grad():
                prob = model.run_tensor(x)[0, 0].numpy()
                h, w = x.shape[-2:]
                small = F.interpolate(x, size=(h // 2, w // 2), mode="area")
                hp = F.interpolate(
                    model.run_tensor(small)[:, :1].float(), size=(h, w), mode="bilinear"
                )
            reg = large_regions(hp)[0, 0].numpy() > 0
            n, lab = cv2.connectedComponents(reg.astype(np.uint8), connectivity=8)
            for i in range(1, n):
                c = lab == i
                tp = f"{float(true[0, 0].numpy()[c].mean()):.2f}" if true is not None else "-"
                print(f"| {group} | {label} | {100 * c.mean():.2f} | {prob[c].mean():.3f} | {tp} |")


HOLDOUT_KINDS = ("_cracks", "_folds", "_dust", "_torn_corner")


def holdout_by_kind(clean: torch.Tensor, seed: int) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """``E.holdout`` with each kind's own mask: each painter draws into a fresh mask, which is
    then added to the true one, so the damaged image and its draws are unchanged."""
    parts: dict[str, np.ndarray] = {}
    originals = {k: getattr(H, k) for k in HOLDOUT_KINDS}

    def recording(kind):
        def paint(img, mask, rng):
            own = np.zeros_like(mask)
            originals[kind](img, own, rng)
            mask[own > 0] = 1
            parts[kind.strip("_")] = own > 0

        return paint

    try:
        for k in HOLDOUT_KINDS:
            setattr(H, k, recording(k))
        damaged, true, _ = E.holdout(clean, seed)
    finally:
        for k, f in originals.items():
            setattr(H, k, f)
    return damaged, true, parts


def kinds(models: dict[str, str], corners: bool = True) -> None:
    pr = PhotoRestorer(device="cpu", models=models, detect_corners=corners)
    hits: dict[str, np.ndarray] = {}
    err: dict[str, float] = {}
    for _, clean, _, seed in photos():
        damaged, true, parts = holdout_by_kind(clean, seed)
        out, used = E.restore_run(pr, damaged)
        raw = E.raw_mask(pr, damaged)
        masks = [m[0, 0].numpy() > 0.5 for m in (raw, used) if m is not None]
        for kind, part in {**parts, "all": true[0, 0].numpy() > 0.5}.items():
            row = [part.sum()] + [(part & m).sum() for m in masks] + [0] * (2 - len(masks))
            hits[kind] = hits.get(kind, 0) + np.array(row, np.float64)
        # the squared error left in the output, by the kind that painted each pixel last
        target = E.holdout(clean, seed)[2]
        sq = ((out - target) ** 2).sum(1)[0].numpy()
        sq /= sq.size  # each photo's mean, summed over photos
        seen = np.zeros(sq.shape, bool)
        for kind in ("torn_corner", "dust", "folds", "cracks"):  # painted last first
            own = parts[kind] & ~seen
            seen |= own
            err[kind] = err.get(kind, 0.0) + float(sq[own].sum())
        err["undamaged"] = err.get("undamaged", 0.0) + float(sq[~seen].sum())
    total, left = hits["all"][0], sum(err.values())
    print(
        "| kind | share of true mask | recall, raw mask | recall, used mask | share of the error left |"
    )
    print("|---|---:|---:|---:|---:|")
    for kind, (n, raw_tp, used_tp) in hits.items():
        e = f"{err[kind] / left:.3f}" if kind in err else "1.000"
        print(f"| {kind} | {n / total:.3f} | {raw_tp / n:.3f} | {used_tp / n:.3f} | {e} |")
    print(f"| undamaged pixels | | | | {err['undamaged'] / left:.3f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["stages", "curves", "regions", "half", "kinds"])
    ap.add_argument("--model", action="append", default=[], metavar="STAGE=MODEL")
    ap.add_argument("--no-gate", action="store_true", help="stages: the enhance curve ungated")
    ap.add_argument("--no-corners", action="store_true", help="kinds: without the corner rule")
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = dict(s.split("=", 1) for s in args.model)
    if args.what == "stages":
        stages(models, gate=not args.no_gate)
    elif args.what == "kinds":
        kinds(models, corners=not args.no_corners)
    else:
        {"curves": curves, "regions": regions, "half": half, "kinds": kinds}[args.what](models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
