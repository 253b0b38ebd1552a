"""Store shipped models' weights as float16 in place (half the file), and update their cards.

    python scripts/halve_weights.py colorize style-painting

Every shipped model travels with the working tree into a GPU call (64 MiB with the data pack,
``scripts/gpu/pack_data.py``), so the largest ones are kept as float16; they load into float32
modules (``tests/test_half_weights.py``). The card's ``file_bytes`` and ``runtime.sha256`` follow
the new file; its metrics stay (float16 weights move PSNR by about 0.001 dB: re-measure with
``restore eval`` to be sure, as ``tests/test_headline_numbers.py`` does in CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.checkpoint import (  # noqa: E402
    load_tensors,
    save_tensors,
    sha256_file,
    to_float16,
)
from restore.models import SHIPPED, WEIGHTS_DIR  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="+", choices=sorted(SHIPPED))
    args = ap.parse_args()
    for name in args.names:
        path = WEIGHTS_DIR / f"{name}.safetensors"
        tensors, meta = load_tensors(path)
        if all(t.dtype != torch.float32 for t in tensors.values()):
            print(f"{name}: already float16")
            continue
        before = path.stat().st_size
        save_tensors(path, to_float16(tensors), meta)
        card_path = path.with_suffix(".json")
        card = json.loads(card_path.read_text())
        card["file_bytes"] = path.stat().st_size
        card["runtime"]["sha256"] = sha256_file(path)
        atomic_write_json(card_path, card)
        print(f"{name}: {before / 2**20:.2f} -> {path.stat().st_size / 2**20:.2f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
