"""Train the face verifier (restore/faces/verify.py), the detector's second stage, on the CPU.

    python scripts/train_face_verifier.py [--epochs 8] [--out restore/faces/face_verifier.safetensors]

Data (all under ``../shared/data``; seeds fixed, so a rerun gives the same weights on the same
machine and library versions):

- **Positives**: UTKFace *train* faces only (``restore.tasks.face.face_split(...)["train"]``;
  the last 432 files, val and test, are never read). Each is pasted at a random size (40-170 px)
  into a random face-free background with a random soft mask (round or square edge), turned to
  luminance with a random tone curve and fade, aged (blur, grain, scratches, JPEG), and cut out
  by a box jittered the way a detector box is (side x0.8-1.25, centre +-10% of the side).
- **Negatives**, from photos without people only: T91 and General50 minus the files that show
  a person or face parts (:data:`PEOPLE`), the Wikimedia photos of ``train/photos_hr`` minus
  those with people, statues or mascots (checked by eye on a contact sheet), and CIFAR-10 test
  images (no person class; cats, dogs, horses are useful hard negatives). Aged the same way, then
  cut by random boxes, by every window the loose cascade of :mod:`restore.faces.detect` fires on
  (its false candidates: what the verifier must reject), and, from the positive scenes, by boxes
  that miss the face (a face part or a box far too big), so a kept box is a well-placed one.
- BSDS400 is **not** used (the detection benchmark, ``scripts/eval_faces.py detect``, builds its
  scenes from it), nor anything under ``val/``.
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
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.faces.detect import raw_windows  # noqa: E402
from restore.faces.verify import (  # noqa: E402
    SIZE,
    FaceVerifier,
    crop_box,
    face_scores,
    load_verifier,
    scan,
    standardise,
)
from restore.tasks.face import face_split  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SEED = 20_261_130
#: Files showing people, faces or face parts (excluded from the negatives), by folder.
PEOPLE = {
    "T91": {"t44", "t45", "t47", "t48", "t49", "tt8"},
    "General50": {"im_10", "im_15", "im_18", "im_19"},
    "photos_hr": {
        *("005", "007", "017", "020", "023", "025", "027", "029"),
        *("035", "037", "038", "040", "044", "045"),
    },
}


def luma(path: Path, long_side: int | None = None) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise OSError(f"cannot read {path}")
    if long_side and max(img.shape) > long_side:
        s = long_side / max(img.shape)
        img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), cv2.INTER_AREA)
    return img


def negative_images() -> list[np.ndarray]:
    """The face-free photos, as luminance, long side at most 1000 px."""
    out = []
    for folder, skip in PEOPLE.items():
        for p in sorted((DATA / "train" / folder).iterdir()):
            if p.suffix.lower() in (".png", ".jpg", ".jpeg") and p.stem not in skip:
                out.append(luma(p, 1000))
    return out


def age(g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An old print's look on uint8 luminance: tone curve, fade, blur, grain, scratches, JPEG."""
    y = g.astype(np.float32) / 255.0
    y = y ** rng.uniform(0.7, 1.4)
    lo, hi = rng.uniform(0.0, 0.25), rng.uniform(0.7, 1.0)
    y = lo + (hi - lo) * y
    y = cv2.GaussianBlur(y, (0, 0), rng.uniform(0.3, 1.3))
    y = y * 255 + rng.normal(0, rng.uniform(1, 9), y.shape).astype(np.float32)
    out = y.clip(0, 255).astype(np.uint8)
    h, w = out.shape
    for _ in range(int(rng.integers(0, 4))):
        p0 = (int(rng.integers(w)), int(rng.integers(h)))
        a, n = rng.uniform(0, math.pi), rng.uniform(0.3, 1.2) * max(h, w)
        p1 = (int(p0[0] + n * math.cos(a)), int(p0[1] + n * math.sin(a)))
        v = int(rng.integers(200, 256)) if rng.random() < 0.6 else int(rng.integers(0, 50))
        cv2.line(out, p0, p1, v, int(rng.integers(1, 3)), cv2.LINE_AA)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def soft_mask(s: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) + 0.5
    if rng.random() < 0.5:  # round, like a vignette or a face cut from its photo
        rx, ry = rng.uniform(0.45, 0.6) * s, rng.uniform(0.47, 0.65) * s
        r = np.sqrt(((xx - s / 2) / rx) ** 2 + ((yy - s / 2) / ry) ** 2)
    else:  # square: the whole crop, hair and background included
        r = np.maximum(np.abs(xx - s / 2), np.abs(yy - s / 2)) / (0.5 * s)
    return np.clip((1.0 - r) / rng.uniform(0.04, 0.2), 0, 1)


def background(negs: list[np.ndarray], side: int, rng: np.random.Generator) -> np.ndarray:
    g = negs[int(rng.integers(len(negs)))]
    s = rng.uniform(0.5, 2.0)
    g = cv2.resize(g, (max(side, round(g.shape[1] * s)), max(side, round(g.shape[0] * s))))
    y, x = int(rng.integers(g.shape[0] - side + 1)), int(rng.integers(g.shape[1] - side + 1))
    return g[y : y + side, x : x + side].astype(np.float32)


def face_scene(face: np.ndarray, negs, rng) -> tuple[np.ndarray, tuple[float, float, float]]:
    """An aged scene 3x the face with the face pasted in its middle; (scene, (cx, cy, side))."""
    s = int(rng.integers(40, 171))
    f = cv2.resize(face, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32)
    scene = background(negs, 3 * s, rng)
    a = soft_mask(s, rng)
    scene[s : 2 * s, s : 2 * s] = scene[s : 2 * s, s : 2 * s] * (1 - a) + f * a
    # the detector's box around a UTKFace crop: 0.95 of its side, 5% higher (BOX_EYES)
    return age(scene.clip(0, 255).astype(np.uint8), rng), (1.5 * s, 1.45 * s, 0.95 * s)


def jitter(cx, cy, side, rng, far: bool = False) -> tuple[float, float, float, float]:
    if far:  # a box that misses the face: a part of it, or far too big, or beside it
        k = int(rng.integers(3))
        if k == 0:
            side *= rng.uniform(0.3, 0.45)
            cx += rng.uniform(-0.3, 0.3) * side / 0.4
            cy += rng.uniform(-0.3, 0.3) * side / 0.4
        elif k == 1:
            side *= rng.uniform(1.9, 2.6)
        else:
            a = rng.uniform(0, 2 * math.pi)
            cx, cy = cx + 0.6 * side * math.cos(a), cy + 0.6 * side * math.sin(a)
    else:
        side *= math.exp(rng.uniform(math.log(0.8), math.log(1.25)))
        cx += rng.uniform(-0.1, 0.1) * side
        cy += rng.uniform(-0.1, 0.1) * side
    return (cx - side / 2, cy - side / 2, side, side)


def dots(rng: np.random.Generator, s: int = 64) -> np.ndarray:
    """A smooth field with a few dark or bright specks (often a level pair): not a face, though
    standardised it looks like two eyes; dust and mould on a plain coat or sky do this."""
    y = cv2.GaussianBlur(rng.normal(0, 1, (s, s)).astype(np.float32), (0, 0), s / 6)
    y = rng.uniform(60, 220) + y / max(float(np.abs(y).max()), 1e-6) * rng.uniform(2, 25)
    n = int(rng.integers(1, 5))
    pair = rng.random() < 0.5
    first = (0.0, 0.0)
    for k in range(n):
        if pair and k == 1:  # level with the first speck, an eye distance away
            cx, cy = first[0] + rng.uniform(0.2, 0.45) * s, first[1] + rng.normal(0, 2)
        else:
            cx, cy = rng.uniform(0.15, 0.85) * s, rng.uniform(0.15, 0.85) * s
            first = (cx, cy) if k == 0 else first
        r = rng.uniform(1, 6)
        v = rng.uniform(-120, -30) if rng.random() < 0.8 else rng.uniform(30, 80)
        cv2.ellipse(
            y,
            (int(cx), int(cy)),
            (int(r), int(r * rng.uniform(0.5, 1.2))),
            0,
            0,
            360,
            float(np.clip(y[int(cy) % s, int(cx) % s] + v, 0, 255)),
            -1,
            cv2.LINE_AA,
        )
    return age(y.clip(0, 255).astype(np.uint8), rng)


def box_target(true: tuple[float, float, float], box: tuple[float, float, float, float]):
    """(dx, dy, ds) that moves ``box`` onto the true ``(cx, cy, side)``."""
    cx, cy, side = true
    bx, by, bw, _ = box
    return ((cx - bx - bw / 2) / bw, (cy - by - bw / 2) / bw, math.log(side / bw))


def make_data(per_face: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    negs = negative_images()
    faces = face_split(DATA / "faces" / "utkface_200")["train"]
    pos, neg, targets = [], [], []
    t0 = time.time()
    for i, p in enumerate(faces):
        face = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        for _ in range(per_face):
            scene, (cx, cy, side) = face_scene(face, negs, rng)
            box = jitter(cx, cy, side, rng)
            pos.append(crop_box(scene, box))
            targets.append(box_target((cx, cy, side), box))
        if i % 4 == 0:
            neg.append(crop_box(scene, jitter(cx, cy, side, rng, far=True)))
    print(f"positives {len(pos)} ({time.time() - t0:.0f} s)", flush=True)
    for g in negs:  # each face-free photo aged at a few sizes: cascade windows and random boxes
        for _ in range(4):
            s = rng.uniform(0.35, 1.0)
            small = cv2.resize(g, (round(g.shape[1] * s), round(g.shape[0] * s)), cv2.INTER_AREA)
            aged = age(small, rng)
            boxes, _ = raw_windows(
                aged, min_size=40, max_size=None, scale_factor=1.1, min_neighbours=1
            )
            neg += [crop_box(aged, b) for b in boxes]
            h, w = aged.shape
            for _ in range(30):
                side = rng.uniform(24, min(h, w))
                x, y = rng.uniform(0, w - side), rng.uniform(0, h - side)
                neg.append(crop_box(aged, (x, y, side, side)))
    print(f"negatives from photos {len(neg)} ({time.time() - t0:.0f} s)", flush=True)
    cifar = sorted((DATA / "generation" / "cifar10_test").rglob("*.jpg"))
    for p in rng.choice(cifar, size=min(6000, len(cifar)), replace=False):
        g = cv2.resize(luma(p), (96, 96), interpolation=cv2.INTER_CUBIC)
        neg.append(crop_box(age(g, rng), jitter(48, 48, 96, rng)))
    for _ in range(6000):
        g = dots(rng)
        neg.append(crop_box(g, jitter(32, 32, rng.uniform(24, 56), rng)))
    print(f"negatives {len(neg)} ({time.time() - t0:.0f} s)", flush=True)
    x = np.stack(pos + neg).astype(np.float32)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))]).astype(np.float32)
    t = np.concatenate([np.array(targets), np.zeros((len(neg), 3))]).astype(np.float32)
    return x, y, t


def mine(model: FaceVerifier, rng: np.random.Generator, versions: int = 4) -> np.ndarray:
    """Hard negatives: windows of face-free photos that the model's own scan keeps.

    Each photo is aged at ``versions`` random sizes, scanned as the detector does
    (:func:`restore.faces.verify.scan`), and every window whose crop-wise score is above 0.05 is
    kept (at most 300 per version, the highest first).
    """
    out = []
    t0 = time.time()
    for g in negative_images():
        for _ in range(versions):
            s = rng.uniform(0.35, 1.0)
            small = cv2.resize(g, (round(g.shape[1] * s), round(g.shape[0] * s)), cv2.INTER_AREA)
            aged = age(small, rng)
            boxes = [b for b, _ in scan(aged, min_size=40, threshold=0.3, model=model)]
            if not boxes:
                continue
            sc = face_scores(aged, boxes, model)
            keep = [i for i in np.argsort(-sc)[:300] if sc[i] > 0.05]
            out += [crop_box(aged, boxes[i]) for i in keep]
    print(f"mined {len(out)} hard negatives ({time.time() - t0:.0f} s)", flush=True)
    return np.stack(out).astype(np.float32) if out else np.zeros((0, SIZE, SIZE), np.float32)


def train(
    x: np.ndarray, y: np.ndarray, t: np.ndarray, epochs: int, width: int, seed: int
) -> FaceVerifier:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    n = len(x)
    order = torch.randperm(n, generator=g)
    n_val = n // 20
    val, tr = order[:n_val], order[n_val:]
    X, Y, T = standardise(x), torch.from_numpy(y), torch.from_numpy(t)
    model = FaceVerifier(width, outputs=4)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * math.ceil(len(tr) / 256)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 3e-3, total_steps=steps)
    w_pos = float((Y[tr] == 0).sum() / (Y[tr] == 1).sum())
    for ep in range(epochs):
        model.train()
        perm = tr[torch.randperm(len(tr), generator=g)]
        t0, tot = time.time(), 0.0
        for i in range(0, len(perm), 256):
            idx = perm[i : i + 256]
            xb = X[idx]
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb = torch.where(flip.view(-1, 1, 1, 1), xb.flip(-1), xb)
            tb = T[idx].clone()
            tb[:, 0] = torch.where(flip, -tb[:, 0], tb[:, 0])  # a mirrored crop: dx mirrored
            out = model.features(xb).flatten(1)
            loss = F.binary_cross_entropy_with_logits(
                out[:, 0], Y[idx], pos_weight=torch.tensor(w_pos)
            )
            face = Y[idx] > 0.5
            if face.any():  # the box head learns on faces only
                loss = loss + 50 * F.mse_loss(out[face, 1:4], tb[face])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            p = torch.sigmoid(model(X[val]))
            r = model.regress(X[val][Y[val] == 1])
        yv = Y[val]
        tpr = float((p[yv == 1] > 0.5).float().mean())
        fpr = float((p[yv == 0] > 0.5).float().mean())
        err = float((r - T[val][yv == 1]).abs().mean())
        print(
            f"epoch {ep + 1}: loss {tot / len(tr):.4f}  val TPR {tpr:.4f} FPR {fpr:.4f} "
            f"box error {err:.4f} "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
    return model.eval()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--per-face", type=int, default=2, help="positive crops per training face")
    ap.add_argument("--rounds", type=int, default=3, help="1 + rounds of hard-negative mining")
    ap.add_argument("--start", type=Path, help="skip round 1: its weights from an earlier run")
    ap.add_argument("--cache", type=Path, help="keep the made crops here (npz) and reuse them")
    ap.add_argument("--out", type=Path, default=REPO / "restore/faces/face_verifier.safetensors")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    if args.cache and args.cache.is_file():
        d = np.load(args.cache)
        x, y, t = d["x"].astype(np.float32), d["y"], d["t"]
    else:
        x, y, t = make_data(args.per_face, np.random.default_rng(SEED))
        if args.cache:
            np.savez(args.cache, x=x.astype(np.float16), y=y, t=t)
    if args.start:  # the first round's model, from an earlier run of this recipe
        model = load_verifier(str(args.start))
    else:
        model = train(x, y, t, args.epochs, args.width, SEED)
    for r in range(1, args.rounds):  # bootstrap: retrain with the scan's own false windows
        hard = mine(model, np.random.default_rng([SEED, r]))
        x = np.concatenate([x, hard, hard])  # twice: they are what the detector meets
        y = np.concatenate([y, np.zeros(2 * len(hard), np.float32)])
        t = np.concatenate([t, np.zeros((2 * len(hard), 3), np.float32)])
        model = train(x, y, t, args.epochs, args.width, SEED + r)
    from safetensors.torch import save_file

    meta = {
        "config": json.dumps({"width": args.width, "size": SIZE, "outputs": 4}),
        "recipe": f"scripts/train_face_verifier.py --epochs {args.epochs} "
        f"--width {args.width} --per-face {args.per_face} --rounds {args.rounds}",
        "data": "UTKFace train faces (positives); T91, General50, photos_hr without people, "
        "CIFAR-10 test, synthetic specks (negatives); no BSDS400, nothing under val/",
        "samples": json.dumps({"positives": int(y.sum()), "negatives": int((y == 0).sum())}),
    }
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(args.out), metadata=meta)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
