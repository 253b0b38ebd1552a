"""Ship a trained model: copy a run's weights into restore/weights/ with a complete model card.

    python scripts/ship_model.py runs/sr_x4 sr-x4 --config configs/sr_x4.yaml \
        --data "T91 + BSDS400 + General50 (../shared/data/train)" --hardware "2-core CPU" \
        --metrics docs/metrics/sr-x4.json

The card (:mod:`restore.core.card`) keeps what ``restore train`` wrote (task, the runtime
section, recipe, steps) and adds the shipping facts: parameter count, file size, training data,
time and hardware, the exact command, the SHA-256 that the loader checks, and the summary of the
metrics measured by ``restore eval`` (a JSON file it wrote): the full results, per-image rows
included, go to ``docs/metrics/<name>.json`` and the card points there. No machine paths.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from restore.core.atomic import atomic_write_json  # noqa: E402
from restore.core.card import split_rows, strip_machine_paths  # noqa: E402
from restore.core.checkpoint import (  # noqa: E402
    load_tensors,
    save_tensors,
    sha256_file,
    to_float16,
)
from restore.models import SHIPPED, WEIGHTS_DIR, read_card  # noqa: E402

METRICS_DIR = REPO / "docs" / "metrics"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "run", type=Path, help="run folder written by restore train (or a weights .safetensors)"
    )
    ap.add_argument("name", choices=sorted(SHIPPED), help="shipped model name")
    ap.add_argument("--config", required=True, help="the recipe in configs/ that trained it")
    ap.add_argument(
        "--command", default=None, help="the training command (default: restore train CONFIG)"
    )
    ap.add_argument("--data", required=True, help="training data, in words")
    ap.add_argument(
        "--hardware", required=True, help="where it trained, e.g. '2-core CPU (no GPU lent)'"
    )
    ap.add_argument("--metrics", type=Path, help="JSON written by restore eval --json")
    ap.add_argument("--best", action="store_true", help="ship best.* instead of model.*")
    ap.add_argument("--note", default="", help="free-text limitations / remarks")
    ap.add_argument(
        "--fp16",
        action="store_true",
        help="store the floating-point tensors as float16: half the file (the working tree and "
        "a GPU call carry every shipped model), loaded back into float32 modules",
    )
    args = ap.parse_args()

    src = (
        args.run
        if args.run.suffix == ".safetensors"
        else args.run / ("best.safetensors" if args.best else "model.safetensors")
    )
    card = read_card(src.with_suffix(".json"))  # upgraded to the current format, validated
    tensors, meta = load_tensors(src)
    n_params = sum(
        int(t.numel()) for k, t in tensors.items() if t.is_floating_point() and "running_" not in k
    )
    dst = WEIGHTS_DIR / f"{args.name}.safetensors"
    WEIGHTS_DIR.mkdir(exist_ok=True)
    if args.fp16:
        save_tensors(dst, to_float16(tensors), meta)
    else:
        shutil.copyfile(src, dst)
    size = dst.stat().st_size
    if size > 16 * 1024 * 1024:
        print(f"error: {dst} is {size / 2**20:.1f} MiB > 16 MiB", file=sys.stderr)
        dst.unlink()
        return 1
    train_time = None
    log = src.parent / "log.csv"
    if log.is_file():
        rows = [r for r in csv.DictReader(log.open()) if r.get("it_s")]
        secs, prev = 0.0, 0
        for r in rows:
            s = int(r["step"])
            secs += (s - prev) / float(r["it_s"])
            prev = s
        train_time = round(secs, 1)
    card.update(
        {
            "name": args.name,
            "description": SHIPPED[args.name],
            "parameters": n_params,
            "file_bytes": size,
        }
    )
    card["runtime"]["sha256"] = sha256_file(dst)
    card["training"] = {
        **card.get("training", {}),
        "recipe": args.config,
        "command": args.command or f"restore train {args.config}",
        "data": args.data,
        "hardware": args.hardware,
        "train_seconds": train_time,
    }
    if args.metrics:
        full = strip_machine_paths(json.loads(args.metrics.read_text()))
        summary, had_rows = split_rows(full)
        card["metrics"] = summary
        if had_rows:
            detail = METRICS_DIR / f"{args.name}.json"
            atomic_write_json(detail, full)
            card["metrics"]["detail"] = detail.relative_to(REPO).as_posix()
    if args.note:
        card["note"] = args.note
    atomic_write_json(dst.with_suffix(".json"), strip_machine_paths(card))
    print(f"shipped {args.name}: {dst} ({size / 2**20:.2f} MiB, {n_params:,} parameters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
