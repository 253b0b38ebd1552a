"""Where `restore photo` harms photos that need no help (the do-no-harm rows of eval_photo.py).

    python scripts/bench/photo_harm.py stages [--no-gate]  # each stage switched off in turn
    python scripts/bench/photo_harm.py curves            # how far the enhance curve moves each input
    python scripts/bench/photo_harm.py regions [--model detect=RUN]   # large detected regions
    python scripts/bench/photo_harm.py half --model detect=RUN        # half-size regions

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["stages", "curves", "regions", "half"])
    ap.add_argument("--model", action="append", default=[], metavar="STAGE=MODEL")
    ap.add_argument("--no-gate", action="store_true", help="stages: the enhance curve ungated")
    args = ap.parse_args()
    torch.set_num_threads(2)
    models = dict(s.split("=", 1) for s in args.model)
    if args.what == "stages":
        stages(models, gate=not args.no_gate)
    else:
        {"curves": curves, "regions": regions, "half": half}[args.what](models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
