"""A print's screen taken out (restore.photo.screen): when it is found, and what it gives.

    python scripts/bench/descreen.py calibrate [--json FILE]   # photos without a screen
    python scripts/bench/descreen.py synthetic [--json FILE]   # screened Set5 + Set14 photos
    python scripts/bench/descreen.py speed [--runs 5] [--size 1024x768] [--piece 1024 100000]

- ``calibrate``: the lattice height (the largest height two peaks at least
  :data:`restore.photo.screen.CROSS` degrees apart both reach; a screen needs
  :data:`restore.photo.screen.PEAK`) of every photo of ``../shared/data/train``, Set5 + Set14 and
  the real prints of ``real_old``: the largest ones, and how many would be descreened; and the
  same for the largest height of any one peak (what the lattice rule is there to discount).
- ``synthetic``: the 19 held-out Set5 + Set14 photos, colour and grey, each under three screens
  drawn here and nowhere in training (seeded per photo): ``silk`` (a hexagonal relief of flat-topped
  cells, period 4.5-9 px), ``linen`` (a square weave, 4.5-9 px) and ``halftone``
  (:func:`restore.data.old_print_tone.halftone`, period 3-6 px), all at 6-18% strength on a
  slowly warping paper. Per screen: how many are found, and PSNR against the clean photo of the
  input, of :func:`restore.photo.screen.descreen`, and of the best of five Gaussian blurs
  (sigma 0.5-3 px, the best one picked per photo knowing the clean photo: an oracle); and the
  clean photos themselves (none may change).
- ``speed``: :func:`restore.photo.screen.descreen` on a ``--size`` photo (1024 x 768) without
  a screen (the check every photo pays) and with one (the filter), median of ``--runs``; per
  ``--piece`` (the side of the pieces a large photo is filtered in), in its own process, with
  that process's peak resident memory (torch itself included). A photo larger than 1024 px is
  screened with periods scaled to its size, as a higher-resolution scan of the print.
"""

from __future__ import annotations

import argparse
import glob
import math
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torchmetrics.functional.image import peak_signal_noise_ratio

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

import eval_photo as E  # noqa: E402
from common import DATA, cpu_name  # noqa: E402

from restore.data.color import rgb_to_gray  # noqa: E402
from restore.data.old_print_tone import halftone  # noqa: E402
from restore.photo import screen as S  # noqa: E402

SETS = ["Set5", "Set14"]
KINDS = ("silk", "linen", "halftone")
SIGMAS = (0.5, 1.0, 1.5, 2.0, 3.0)


def lattice_height(heights: torch.Tensor) -> float:
    """The largest height that two local maxima of ``heights`` (screen_heights) at least
    ``S.CROSS`` degrees apart both reach (-inf without two)."""
    h = heights[None, None]
    top = (heights > 0) & (F.max_pool2d(h, 3, 1, 1)[0, 0] == heights)
    peaks = [(y - S.TILE // 2, x - S.TILE // 2, float(heights[y, x])) for y, x in top.nonzero()]
    best = -math.inf
    for i, (ay, ax, ah) in enumerate(peaks):
        for by, bx, bh in peaks[:i]:
            if S.is_lattice([(ay, ax), (by, bx)]):
                best = max(best, min(ah, bh))
    return best


def screen_factor(
    h: int, w: int, g: torch.Generator, kind: str, scale: float = 1.0
) -> torch.Tensor:
    """A multiplicative paper screen (1, 1, h, w) of ``kind`` silk or linen on warping paper
    (``scale``: its periods times this, as a scan at that many times the resolution)."""

    def u(a: float, b: float) -> float:
        return a + (b - a) * float(torch.rand((), generator=g))

    period, theta, strength = scale * u(4.5, 9.0), u(0, math.pi), u(0.06, 0.18)
    ys, xs = torch.meshgrid(torch.arange(h * 1.0), torch.arange(w * 1.0), indexing="ij")
    ph = [u(0, 2 * math.pi) for _ in range(4)]  # the paper warps: up to 1.5 px, slowly
    xs = xs + 1.5 * torch.sin(2 * math.pi * ys / u(150, 400) + ph[0]) * torch.cos(
        2 * math.pi * xs / u(200, 500) + ph[1]
    )
    ys = ys + 1.5 * torch.sin(2 * math.pi * xs / u(150, 400) + ph[2]) * torch.cos(
        2 * math.pi * ys / u(200, 500) + ph[3]
    )
    turns = (0, math.pi / 3, 2 * math.pi / 3) if kind == "silk" else (0, math.pi / 2)
    t = sum(
        torch.cos(2 * math.pi / period * (xs * math.cos(theta + a) + ys * math.sin(theta + a)))
        for a in turns
    ) / len(turns)
    if kind == "silk":
        t = torch.tanh(2 * t)  # cells with flat tops: harmonics, as a real relief has
    return (1 + strength * t / t.abs().amax())[None, None]


def screened(clean: torch.Tensor, kind: str, seed: int, scale: float = 1.0) -> torch.Tensor:
    """``clean`` (1, 3, H, W) under a screen of ``kind``, 8-bit (``scale``: silk and linen only,
    :func:`screen_factor`)."""
    g = torch.Generator().manual_seed(seed * len(KINDS) + KINDS.index(kind))
    if kind == "halftone":
        x = halftone(clean, g, period=(3.0, 6.0), strength=(0.06, 0.18))
    else:
        x = clean * screen_factor(*clean.shape[-2:], g, kind, scale)
    return E.quantize(x)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(peak_signal_noise_ratio(E.quantize(a), b, data_range=1.0))


def best_blur(x: torch.Tensor, clean: torch.Tensor) -> float:
    """The PSNR of the best of :data:`SIGMAS` Gaussian blurs of ``x`` (an oracle)."""
    import kornia

    def blur(s: float) -> torch.Tensor:
        k = 2 * math.ceil(3 * s) + 1
        return kornia.filters.gaussian_blur2d(x, (k, k), (s, s), border_type="reflect")

    return max(psnr(blur(s), clean) for s in SIGMAS)


def calibrate(args: argparse.Namespace) -> dict:
    groups = {
        "train": sorted(glob.glob(str(DATA / "train" / "*" / "*"))),
        "Set5 + Set14": [str(p) for _, _, p in E.held_out(SETS)],
        "real_old": sorted(glob.glob(str(DATA / "real_old" / "*" / "*"))),
    }
    out = {}
    for name, files in groups.items():
        rows = []
        for f in files:
            if not f.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")):
                continue
            x = E.to_tensor(E.read_image(Path(f)))
            lum, _ = S.working_luma(x[0])
            heights = S.screen_heights(lum)
            rows.append((lattice_height(heights), float(heights.max()), Path(f).relative_to(DATA)))
        rows.sort(key=lambda r: r[0])
        top = [{"photo": str(p), "lattice_height": round(h, 3)} for h, _, p in rows[-5:]]
        n_found = sum(h > S.PEAK for h, _, _ in rows)
        single = sorted(rows, key=lambda r: r[1])
        top_single = [{"photo": str(p), "height": round(h, 3)} for _, h, p in single[-5:]]
        n_single = sum(h > S.PEAK for _, h, _ in rows)
        print(f"{name}: {len(rows)} photos, {n_found} over {S.PEAK}; largest:")
        for t in reversed(top):
            print(f"  {t['lattice_height']:6.2f}  {t['photo']}")
        print(f"  without the lattice rule (any one peak): {n_single} over {S.PEAK}; largest:")
        for t in reversed(top_single):
            print(f"  {t['height']:6.2f}  {t['photo']}")
        out[name] = {
            "photos": len(rows),
            "found": n_found,
            "largest": top,
            "any_one_peak": {"found": n_single, "largest": top_single},
        }
    return out


def synthetic(args: argparse.Namespace) -> dict:
    rows = []
    for name, seed, p in E.held_out(SETS):
        colour = E.to_tensor(E.read_image(p))
        for tone, clean in (("colour", colour), ("grey", E.quantize(rgb_to_gray(colour, True)))):
            y, s = S.descreen(clean)
            row = {"photo": f"{name}/{p.name}", "tone": tone, "clean_changed": bool(s[0].found)}
            for kind in KINDS:
                x = screened(clean, kind, seed)
                y, s = S.descreen(x)
                row[kind] = {
                    "found": bool(s[0].found),
                    "input": psnr(x, clean),
                    "descreen": psnr(y, clean),
                    "blur_oracle": best_blur(x, clean),
                }
            rows.append(row)
            print(
                row["photo"],
                tone,
                " ".join(
                    f"{k}: {'found' if row[k]['found'] else 'none '} {row[k]['input']:.2f} -> "
                    f"{row[k]['descreen']:.2f} (blur {row[k]['blur_oracle']:.2f})"
                    for k in KINDS
                ),
                flush=True,
            )
    summary = {"clean photos changed": sum(r["clean_changed"] for r in rows), "n": len(rows)}
    print(
        f"\n{len(rows)} photos (19 colour + 19 grey); clean ones changed: "
        f"{summary['clean photos changed']}"
    )
    print(
        "| screen | found | PSNR input | descreen | best blur (oracle) | found: input -> descreen |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        r = [row[kind] for row in rows]
        hit = [x for x in r if x["found"]]
        mean = {k: statistics.fmean(x[k] for x in r) for k in ("input", "descreen", "blur_oracle")}
        hit_s = (
            f"{statistics.fmean(x['input'] for x in hit):.2f} -> "
            f"{statistics.fmean(x['descreen'] for x in hit):.2f}"
            if hit
            else "-"
        )
        print(
            f"| {kind} | {len(hit)} / {len(r)} | {mean['input']:.2f} | {mean['descreen']:.2f} | "
            f"{mean['blur_oracle']:.2f} | {hit_s} |"
        )
        summary[kind] = {"found": len(hit), **{k: round(v, 3) for k, v in mean.items()}}
    return {"summary": summary, "rows": rows}


def _timed(size: tuple[int, int], piece: int, runs: int) -> dict:
    """In a fresh process: descreen timed on a photo of ``size`` (h, w) without and with a
    screen, with ``S.PIECE`` = ``piece``; and the process's peak resident memory."""
    import resource

    torch.set_num_threads(THREADS)
    S.PIECE = piece
    g = torch.Generator().manual_seed(0)
    clean = F.interpolate(torch.rand(1, 3, 96, 128, generator=g), size=size, mode="bicubic")
    clean = clean.clamp(0, 1)
    out = {}
    # a large photo is a scan at a higher resolution: its screen's cells are larger in px
    scale = max(1.0, max(size) / S.WORK_SIDE)
    for label, x in (("no screen", clean), ("silk screen", screened(clean, "silk", 1, scale))):
        S.descreen(x)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            _, s = S.descreen(x)
            times.append(time.perf_counter() - t0)
        out[label] = {"found": bool(s[0].found), "seconds": round(statistics.median(times), 4)}
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


THREADS = torch.get_num_threads()


def speed(args: argparse.Namespace) -> dict:
    import multiprocessing

    w, h = (int(v) for v in args.size.lower().split("x"))
    out = {}
    for piece in args.piece:  # each in its own process, for its own peak memory
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            r = pool.apply(_timed, ((h, w), piece, args.runs))
        out[f"piece {piece}"] = r
        for label in ("no screen", "silk screen"):
            print(
                f"{w}x{h}, PIECE {piece}: {label}: found {r[label]['found']}, "
                f"{r[label]['seconds']:.3f} s (median of {args.runs})"
            )
        print(f"{w}x{h}, PIECE {piece}: peak resident memory {r['peak_rss_mib']} MiB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=("calibrate", "synthetic", "speed"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--size", default="1024x768", help="speed: the photo's W x H")
    ap.add_argument(
        "--piece",
        type=int,
        nargs="+",
        default=[S.PIECE],
        help="speed: restore.photo.screen.PIECE values, each timed in its own process (a value "
        "over the photo's side filters it whole, as before pieces)",
    )
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    result = {"calibrate": calibrate, "synthetic": synthetic, "speed": speed}[args.what](args)
    if args.json:
        from restore.core.atomic import atomic_write_json

        atomic_write_json(
            args.json,
            {
                "command": "python scripts/bench/descreen.py " + " ".join(sys.argv[1:]),
                "machine": f"{cpu_name()}, {torch.get_num_threads()} threads",
                **result,
            },
        )


if __name__ == "__main__":
    main()
