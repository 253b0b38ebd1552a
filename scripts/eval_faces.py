"""Evaluate the face stage: restoration of held-out faces, and detection in old-photo scenes.

    python scripts/eval_faces.py restore --model RUN [--n 400] [--json docs/metrics/face.json]
    python scripts/eval_faces.py detect [--images 100] [--json docs/metrics/face-detect.json]

**restore**: the held-out faces (the last 400 files by name of ``faces/utkface_200``, never
trained on: :func:`restore.tasks.face.face_split`) at 128 px, degraded by the held-out face
protocol (:mod:`restore.eval.face_protocol`, its own seeds and code, not the training's: a third
grey, a third sepia, blur, x4 down to 32 px, noise, scratches, JPEG). Side by side, PSNR / SSIM
(torchmetrics, RGB, per image) of: bicubic x4 (MATLAB), the whole-image ``enhance`` then
``sr-x4`` path, and the face model (on the crop the photo pipeline would cut: the 32-px face
enlarged x4 by the aligner's bicubic warp).

**detect**: held-out faces (48-160 px, soft-edged) pasted into 640x480 scenes of BSDS400
without people, the scene then printed grey or sepia and aged (blur, grain, scratches, JPEG).
Recall (a detection whose centre is within 0.3 of the face's side of the pasted face's centre
and whose side is 0.35-1.3 of it), false faces per image, eye error of the alignment (over the
true eye distance) with the eye search and with the box's eyes, and the mean eye position in the
box (``restore.faces.align.BOX_EYES`` is calibrated on scenes 100-199: ``--first 100``; the
scores are on scenes 0-99). LPIPS is not reported: its
backbone weights cannot be had offline here.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.eval.face_protocol import (  # noqa: E402
    SEED,
    jpeg_u8,
    scratch,
    tint,
    to_t,
)
from restore.evaluate import face_report  # noqa: E402
from restore.faces.align import box_eyes, template_eyes  # noqa: E402
from restore.faces.detect import detect_faces  # noqa: E402
from restore.tasks.face import face_split, read_face  # noqa: E402

DATA = REPO.parent / "shared" / "data"
FACES = DATA / "faces" / "utkface_200"
#: BSDS400 scenes without people (by sorted index; checked by eye on a contact sheet).
SCENES = [*range(0, 9), *range(10, 51), 52, 53, *range(56, 67)]


def eval_restore(model: str, n: int) -> dict:
    """The face model beside bicubic and the whole-image enhance + sr-x4 path."""
    return face_report(model, FACES, n)


def soft_paste(scene: np.ndarray, face: np.ndarray, x: int, y: int) -> None:
    s = face.shape[0]
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) + 0.5
    r = np.sqrt(((xx - s / 2) / (0.5 * s)) ** 2 + ((yy - s / 2) / (0.5 * s)) ** 2)
    a = np.clip((1.0 - r) / 0.12, 0, 1)[..., None]  # soft round edge, no box outline
    region = scene[y : y + s, x : x + s].astype(np.float32)
    scene[y : y + s, x : x + s] = (region * (1 - a) + face * a + 0.5).astype(np.uint8)


def make_scene(j: int, test: list[Path]) -> tuple[np.ndarray, list[tuple[int, int, int]], str]:
    """Scene ``j``: (image 480x640, [(x, y, side) of each pasted face], kind)."""
    clean, placed, kind, rng = compose_scene(j, test)
    return age_scene(clean, rng), placed, kind


def age_scene(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The scene's ageing: blur, grain, scratches and a JPEG scan (uint8 in and out)."""
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.0))
    noise = rng.normal(0, rng.uniform(2, 8), img.shape[:2])[..., None]
    img = (img.astype(np.float32) + noise + 0.5).clip(0, 255).astype(np.uint8)
    scratch(img, rng, int(rng.integers(0, 4)), width=int(rng.integers(1, 3)))
    return jpeg_u8(img, int(rng.integers(50, 91)))


def compose_scene(
    j: int, test: list[Path]
) -> tuple[np.ndarray, list[tuple[int, int, int]], str, np.random.Generator]:
    """Scene ``j`` before ageing: (clean grey / sepia image, faces, kind, the scene's rng)."""
    from restore.data.datasets import list_images

    rng = np.random.default_rng([SEED, 1, j])
    scenes = sorted(list_images(DATA / "train" / "BSDS400"), key=lambda p: p.name)
    bg = cv2.cvtColor(cv2.imread(str(scenes[SCENES[j % len(SCENES)]])), cv2.COLOR_BGR2RGB)
    img = cv2.resize(bg, (640, 480), interpolation=cv2.INTER_AREA)
    placed: list[tuple[int, int, int]] = []
    for k in range(int(rng.integers(1, 4))):
        s = int(rng.integers(48, 161))
        for _ in range(50):
            x, y = int(rng.integers(0, 640 - s)), int(rng.integers(0, 480 - s))
            if all(x + s < px or px + ps < x or y + s < py or py + ps < y for px, py, ps in placed):
                break
        else:
            continue
        face = cv2.resize(
            read_face(test[(3 * j + k) % len(test)], 200), (s, s), interpolation=cv2.INTER_AREA
        )
        soft_paste(img, face.astype(np.float32), x, y)
        placed.append((x, y, s))
    kind = "grey" if j % 2 == 0 else "sepia"
    return tint(img, kind), placed, kind, rng


def eval_photo(n_images: int, first: int, details: list[float], pipeline: bool) -> dict:
    """The face stage inside whole photos: the detection scenes (fresh ones, from ``first``),
    scored against the clean scene on the pasted faces' squares and on the whole scene."""
    import restore
    from restore.eval.metrics import psnr
    from restore.faces.paste import restore_faces
    from restore.photo import PhotoRestorer

    face = restore.load("face", device="cpu")
    crops = lambda c: face.run_tensor(c, aligned=True)  # noqa: E731
    photo = {f: PhotoRestorer(device="cpu", faces=f) for f in (False, True)} if pipeline else {}
    test = face_split(FACES)["test"]
    rows = []
    for j in range(first, first + n_images):
        clean, placed, kind, rng = compose_scene(j, test)
        aged = to_t(age_scene(clean, rng))
        target = to_t(clean)
        outs = {"input": aged}
        with torch.no_grad():
            found = detect_faces(aged)  # once: each detail pastes the same faces
            for d in details:
                outs[f"faces detail {d:g}"] = restore_faces(aged, crops, detail=d, faces=found)[0]
            for f, pr in photo.items():
                outs[f"restore photo, faces {'on' if f else 'off'}"] = pr.restore_tensor(aged)[0]
        on = torch.zeros(1, 1, *target.shape[-2:])
        for x, y, s in placed:
            on[..., y : y + s, x : x + s] = 1
        row = {"scene": j, "kind": kind, "sides": [p[2] for p in placed]}
        for name, out in outs.items():
            out = (out.clamp(0, 1) * 255).round() / 255
            err = ((out - target) ** 2).mean(1, keepdim=True)
            mse = float((err * on).sum() / on.sum())
            row[f"{name}: faces"] = 10 * math.log10(1 / max(mse, 1e-10))
            row[f"{name}: scene"] = float(psnr(out, target)[0])
        rows.append(row)
    keys = [k for k in rows[0] if ": " in k]
    summary = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in keys}
    summary["images"] = n_images
    return {
        "protocol": "held-out faces (48-160 px) pasted into BSDS400 scenes, grey or sepia, aged "
        "(blur, grain, scratches, JPEG) as for detect; PSNR (dB, RGB) against the clean scene "
        "on the faces' squares (MSE pooled per scene) and on the whole scene",
        "scenes": [first, first + n_images],
        "summary": summary,
        "rows": rows,
    }


def eval_detect(n_images: int, threshold: float | None = None, first: int = 0) -> dict:
    test = face_split(FACES)["test"]
    kw = {} if threshold is None else {"threshold": threshold}
    found = total = false = 0
    err_search, err_box, eye_fracs, times, rows = [], [], [], [], []
    for j in range(first, first + n_images):
        img, placed, kind = make_scene(j, test)
        t0 = time.perf_counter()
        faces = detect_faces(img, **kw)
        times.append(time.perf_counter() - t0)
        used = set()
        hits = 0
        for x, y, s in placed:
            cx, cy = x + s / 2, y + s / 2
            best = None
            for i, f in enumerate(faces):
                fx, fy, fw, fh = f.box
                d = math.hypot(fx + fw / 2 - cx, fy + fh / 2 - cy)
                if i not in used and d <= 0.3 * s and 0.35 * s <= fw <= 1.3 * s:
                    if best is None or d < best[0]:
                        best = (d, i)
            if best is None:
                continue
            used.add(best[1])
            hits += 1
            f = faces[best[1]]
            (lx, ly), (rx, ry) = template_eyes(s)
            gt = np.array([[x + lx, y + ly], [x + rx, y + ry]])
            dist = float(np.linalg.norm(gt[1] - gt[0]))
            err_search.append(float(np.linalg.norm(np.array(f.eyes) - gt, axis=1).mean()) / dist)
            err_box.append(
                float(np.linalg.norm(np.array(box_eyes(f.box)) - gt, axis=1).mean()) / dist
            )
            bx, by, bw, bh = f.box
            eye_fracs.append(
                [(gt[0, 0] - bx) / bw, (gt[1, 0] - bx) / bw, ((gt[0, 1] + gt[1, 1]) / 2 - by) / bh]
            )
        found += hits
        total += len(placed)
        false += len(faces) - len(used)
        rows.append(
            {
                "scene": j,
                "kind": kind,
                "faces": len(placed),
                "found": hits,
                "false": len(faces) - len(used),
                "sides": [p[2] for p in placed],
            }
        )
    return {
        "protocol": __doc__.split("**detect**: ")[1].split("\n\n")[0],
        "detector": {"threshold": threshold} if threshold is not None else "defaults",
        "scenes": [first, first + n_images],
        "summary": {
            "images": n_images,
            "faces": total,
            "recall": round(found / max(total, 1), 4),
            "false_faces_per_image": round(false / max(n_images, 1), 4),
            "eye_error_search": round(float(np.median(err_search)), 4) if err_search else None,
            "eye_error_box": round(float(np.median(err_box)), 4) if err_box else None,
            "box_eyes_mean": [round(float(v), 4) for v in np.mean(eye_fracs, 0)]
            if eye_fracs
            else None,
            "seconds_per_640x480_median": round(float(np.median(times)), 4),
        },
        "rows": rows,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("part", choices=["restore", "detect", "photo"])
    ap.add_argument(
        "--model", help="restore: the face model (name, weights or run folder), e.g. face"
    )
    ap.add_argument("--n", type=int, default=400, help="held-out faces to score")
    ap.add_argument("--images", type=int, default=100, help="detection scenes")
    ap.add_argument(
        "--threshold", type=float, default=None, help="detector setting to try (verifier score)"
    )
    ap.add_argument(
        "--first", type=int, default=0, help="first scene (100: the calibration scenes)"
    )
    ap.add_argument(
        "--detail",
        type=float,
        nargs="+",
        default=[0.0, 0.5, 1.0],
        help="photo: the paste's detail shares to compare (restore.faces.paste)",
    )
    ap.add_argument(
        "--pipeline", action="store_true", help="photo: also restore photo with faces off / on"
    )
    ap.add_argument("--json", type=Path, help="write the full results here")
    args = ap.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.part == "restore":
        if not args.model:
            ap.error("restore needs --model")
        res = eval_restore(args.model, args.n)
        res["model"] = Path(args.model).name
    elif args.part == "photo":
        res = eval_photo(args.images, args.first or 200, args.detail, args.pipeline)
    else:
        res = eval_detect(args.images, args.threshold, args.first)
    print(json.dumps(res["summary"], indent=1))
    if args.json:
        atomic_write_json(args.json, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
