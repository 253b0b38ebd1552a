"""What the faces stage of ``restore photo --faces`` costs at 1024x768, per face, on this machine.

    python scripts/bench/faces.py [--model face] [--runs 5] [--threads 2]

Scenes: a BSDS400 photo without people (as ``scripts/eval_faces.py detect``) enlarged to
1024x768 and printed grey, with 0, 1 and 3 held-out faces (96-px crops) pasted in. Side by side
in the same run: detection alone, the whole stage (detect, align, restore, paste back), and
``restore photo`` (``PhotoRestorer`` with its defaults) with the faces stage off and on.
Medians of ``--runs`` runs (single runs jitter 2-10x on this shared VM). The issue's bar: faces
add at most 0.5 s per face.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from common import cpu_name  # noqa: E402
from eval_faces import DATA, FACES, SCENES, soft_paste, tint  # noqa: E402

from restore.data.datasets import list_images  # noqa: E402
from restore.faces import detect_faces, restore_faces  # noqa: E402
from restore.tasks.face import face_split, read_face  # noqa: E402


def scene(n_faces: int) -> torch.Tensor:
    scenes = sorted(list_images(DATA / "train" / "BSDS400"), key=lambda p: p.name)
    bg = cv2.cvtColor(cv2.imread(str(scenes[SCENES[3]])), cv2.COLOR_BGR2RGB)
    img = cv2.resize(bg, (1024, 768), interpolation=cv2.INTER_CUBIC)
    test = face_split(FACES)["test"]
    for k in range(n_faces):
        face = cv2.resize(read_face(test[k], 200), (96, 96), interpolation=cv2.INTER_AREA)
        soft_paste(img, face.astype(np.float32), 120 + 300 * k, 200 + 60 * k)
    img = tint(img, "grey")
    return torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0


def median_time(fn, runs: int) -> float:
    fn()  # warm-up (model load, first-call allocations)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="face", help="face model: name, weights or run folder")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    import restore

    model = restore.load(args.model, device="cpu")
    size = int(model.inference.get("size", 128))

    def crops(c: torch.Tensor) -> torch.Tensor:
        return model.run_tensor(c, aligned=True)

    print(f"# faces stage at 1024x768, {cpu_name()}, {args.threads} threads, median of {args.runs}")
    from restore.photo import PhotoRestorer

    off = PhotoRestorer(device="cpu", faces=False)
    on = PhotoRestorer(device="cpu", faces=True, models={"faces": args.model})
    print(
        "| faces pasted | found | detect s | whole stage s | (stage - detect) s per face "
        "| restore photo, faces off s | faces on s | on - off, s per face |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for n in (0, 1, 3):
        x = scene(n)
        found = len(detect_faces(x))
        det = median_time(lambda x=x: detect_faces(x), args.runs)
        stage = median_time(lambda x=x: restore_faces(x, crops, size=size), args.runs)
        t_off = median_time(lambda x=x: off.restore_tensor(x), args.runs)
        t_on = median_time(lambda x=x: on.restore_tensor(x), args.runs)
        per = f"{(stage - det) / found:.3f}" if found else "-"
        added = f"{(t_on - t_off) / found:.3f}" if found else f"{t_on - t_off:.3f} (no face)"
        print(
            f"| {n} | {found} | {det:.3f} | {stage:.3f} | {per} | {t_off:.3f} | {t_on:.3f} "
            f"| {added} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
