"""Before/after sheet of the faces in the real damaged prints (issue 20).

    python scripts/make_face_sheet.py --model RUN [--out docs/img/faces_real_old.jpg]
                                      [--json docs/metrics/faces_real_old.json] [--max-side 1600]

Every print under ../shared/data/real_old (sorted; shrunk to ``--max-side`` if larger) is run
through the shipped ``enhance`` model as ``restore photo`` applies it
(:func:`restore.photo.global_tone.global_enhance`), then the faces stage (:func:`restore.faces.restore_faces`
with the face model), as ``restore photo --faces --no-detect --no-inpaint`` does. One row per face
found: the scan | enhance alone | enhance + faces, each a crop of 1.4 times the face box shown at
160 px, with the print's name, the face's size and whether its eyes were found. The scans have
no licence to be redistributed: only these thumbnails go into the repository.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.data.datasets import list_images  # noqa: E402
from restore.data.io import read_image, to_tensor  # noqa: E402
from restore.faces import restore_faces  # noqa: E402

TILE = 160


def tile(x: torch.Tensor, box: tuple[float, float, float, float]) -> np.ndarray:
    """A square crop of 1.4 x the face box around its centre, as a TILE x TILE uint8 RGB."""
    bx, by, bw, bh = box
    s = 1.4 * max(bw, bh)
    cx, cy = bx + bw / 2, by + bh / 2
    h, w = x.shape[-2:]
    x0, y0 = int(max(0, cx - s / 2)), int(max(0, cy - s / 2))
    x1, y1 = int(min(w, cx + s / 2)), int(min(h, cy + s / 2))
    a = (x[0, :, y0:y1, x0:x1].permute(1, 2, 0).clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    return cv2.resize(a, (TILE, TILE), interpolation=cv2.INTER_CUBIC)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="face", help="face model: name, weights or run folder")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "real_old")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "faces_real_old.jpg")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--max-side", type=int, default=1600)
    args = ap.parse_args()
    import restore
    from restore.photo.global_tone import enhance_tone

    face = restore.load(args.model, device="cpu")
    enhance = restore.load("enhance", device="cpu")
    size = int(face.inference.get("size", 128))

    def crops(c: torch.Tensor) -> torch.Tensor:
        return face.run_tensor(c, aligned=True)

    rows, notes = [], []
    for p in sorted(list_images(args.data), key=lambda p: str(p)):
        x = to_tensor(read_image(p))
        h, w = x.shape[-2:]
        if max(h, w) > args.max_side:
            k = args.max_side / max(h, w)
            x = torch.nn.functional.interpolate(
                x, size=(round(h * k), round(w * k)), mode="area"
            ).clamp(0, 1)
        # the pipeline's enhance stage; the curve at this (already shrunk) size, as the sheet
        # in docs/img was made
        y = enhance_tone(enhance.run_tensor, x, side=None)
        z, faces = restore_faces(y, crops, size=size)
        name = f"{p.parent.name}/{p.name}"
        notes.append({"print": name, "faces": [f.as_dict() for f in faces]})
        print(f"{name}: {len(faces)} face(s)")
        for f in faces:
            row = np.concatenate([tile(x, f.box), tile(y, f.box), tile(z, f.box)], 1)
            label = f"{name} {round(f.box[2])}px{' eyes' if f.eyes_found else ''}"
            cv2.putText(row, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 0, 0), 1)
            rows.append(row)
    if not rows:
        print("no face found in any print")
        return 1
    head = np.full((20, 3 * TILE, 3), 255, np.uint8)
    for i, t in enumerate(("scan", "enhance", "enhance + faces")):
        cv2.putText(head, t, (4 + i * TILE, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    cols = 2 if len(rows) > 8 else 1
    per = -(-len(rows) // cols)
    blank = np.full_like(rows[0], 255)
    grid = [
        np.concatenate(
            [head, *rows[c * per : (c + 1) * per]]
            + [blank] * (per - len(rows[c * per : (c + 1) * per])),
            0,
        )
        for c in range(cols)
    ]
    sheet = np.concatenate(grid, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88]
    )
    args.out.write_bytes(buf.tobytes())
    print(f"{len(rows)} faces -> {args.out}")
    if args.json:
        atomic_write_json(args.json, {"model": args.model, "prints": notes})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
