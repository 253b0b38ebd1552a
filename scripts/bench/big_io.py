"""Decoding and encoding a very large image: peak memory of the decoders, time and size of the
PNG encoders.

    python scripts/bench/big_io.py [--mp 64] [--encode-mp 16]

Decoding (each in a fresh process; peak RSS above the process's start, ``VmHWM``): a PNG of the
sample photo resized to ``--mp`` megapixels, read by

- ``read_image`` (restore: Pillow decodes, pixels copied out strip by strip),
- the whole-image Pillow route ``np.asarray(im.convert("RGB")).copy()`` (what read_image did
  before),
- ``cv2.imread`` (OpenCV decodes straight into one array).

Encoding: the same photo at ``--encode-mp`` megapixels written as PNG by restore's row encoder
(``RowWriter``, fed 100 rows at a time) and by Pillow's ``save`` (zlib level 6 both): seconds
and file size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

DECODERS = {
    "read_image": "restore read_image (strips)",
    "pillow_whole": 'Pillow, np.asarray(im.convert("RGB")).copy()',
    "cv2": "cv2.imread",
}


def child(kind: str, path: str) -> None:
    """Decode ``path`` with ``kind`` in this fresh process; print the peak RSS growth (MiB)."""
    import cv2
    import numpy as np
    import PIL.Image
    from common import peak_rss_mib

    from restore.data.io import read_image

    PIL.Image.MAX_IMAGE_PIXELS = None
    start = peak_rss_mib()
    if kind == "read_image":
        arr = read_image(path).pixels
    elif kind == "pillow_whole":
        with PIL.Image.open(path) as im:
            arr = np.asarray(im.convert("RGB")).copy()
    else:
        arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    print(json.dumps({"delta_mib": peak_rss_mib() - start, "image_mib": arr.nbytes / 2**20}))


def photo(mp: int):
    import cv2
    import numpy as np

    side = int((mp * 1_000_000) ** 0.5)
    img = cv2.imread(str(REPO / "assets" / "old_photo.jpg"))[..., ::-1]
    return np.ascontiguousarray(cv2.resize(img, (side, side), interpolation=cv2.INTER_CUBIC))


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--mp", type=int, default=64, help="decoded image size (megapixels)")
    ap.add_argument("--encode-mp", type=int, default=16, help="encoded image size (megapixels)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0

    import cv2
    import numpy as np
    import PIL.Image
    from common import cpu_name

    from restore.data.stream import RowWriter

    print(f"machine: {cpu_name()}; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        src = f"{tmp}/in.png"
        img = photo(args.mp)
        cv2.imwrite(src, img[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
        del img
        print(f"\n| decoder ({args.mp} MP PNG) | peak RSS growth MiB | x the decoded image |")
        print("|---|---:|---:|")
        for kind, label in DECODERS.items():
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, src],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {label} | {r['delta_mib']:.0f} | {r['delta_mib'] / r['image_mib']:.1f}x |")

        img = photo(args.encode_mp)
        h, w, _ = img.shape
        t0 = time.perf_counter()
        with RowWriter(f"{tmp}/ours.png", h, w, 3, np.uint8) as wr:
            for y in range(0, h, 100):
                wr.write(img[y : y + 100])
        t1 = time.perf_counter()
        PIL.Image.fromarray(img).save(f"{tmp}/pil.png", compress_level=6)
        t2 = time.perf_counter()
        print(f"\n| PNG encoder ({args.encode_mp} MP photo) | seconds | MiB |")
        print("|---|---:|---:|")
        for label, secs, name in (
            ("restore RowWriter (Sub/Up per row)", t1 - t0, "ours.png"),
            ("Pillow save", t2 - t1, "pil.png"),
        ):
            print(f"| {label} | {secs:.2f} | {os.path.getsize(f'{tmp}/{name}') / 2**20:.1f} |")
    print(f"load at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
