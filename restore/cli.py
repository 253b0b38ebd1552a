"""The ``restore`` command: argument parsing and printing only; the work is in the library.

Heavy imports (torch, kornia, ...) happen inside the sub-command that needs them, so
``restore --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _cmd_train(args: argparse.Namespace) -> int:
    from restore.config import load_config
    from restore.train import train

    cfg = load_config(args.config, args.set or [])
    result = train(cfg, resume=args.resume, device=args.device)
    import os

    if int(os.environ.get("RANK", "0")) == 0:
        print(f"trained {cfg.name} for {result.step} steps -> {result.out_dir}")
        if result.metrics:
            print("validation: " + ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items()))
        if result.weights:
            print(f"weights: {result.weights}")
    return EXIT_OK


def _cmd_eval(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from restore.eval import protocols

    if args.pred or args.target:
        if not (args.pred and args.target):
            print("restore eval: --pred and --target go together", file=sys.stderr)
            return EXIT_USAGE
        result = protocols.evaluate_folders(
            args.pred, args.target, y_channel=args.y, shave=args.shave
        )
    elif args.model and args.data:
        from restore.evaluate import evaluate_model

        result = evaluate_model(args.model, args.data, device=args.device)
    else:
        print(
            "restore eval: give --model NAME --data DIR, or --pred DIR --target DIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print(protocols.format_table(result))
    if args.json:
        from restore.core.checkpoint import atomic_write_json

        atomic_write_json(Path(args.json), result)
        print(f"wrote {args.json}")
    else:
        json.dumps(result)  # fail loudly here rather than later if a value is not JSON-able
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(
        prog="restore",
        description="Repair and enhance photographs with GANs, and train those models.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model from a YAML recipe (works under torchrun)")
    t.add_argument("config", help="YAML recipe, e.g. configs/tiny.yaml")
    t.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config value, e.g. optim.lr_g=1e-4 (repeatable)",
    )
    t.add_argument(
        "--resume", metavar="DIR", help="continue from a run folder or checkpoint .safetensors"
    )
    t.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when available)"
    )
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="score a model on a validation set, or two folders of images")
    e.add_argument("--model", help="shipped model name or trained weights")
    e.add_argument("--data", help="validation folder (e.g. ../shared/data/val/Set5/x4)")
    e.add_argument("--pred", help="folder of predictions")
    e.add_argument("--target", help="folder of ground-truth images (matched by file name)")
    e.add_argument("--y", action="store_true", help="score the BT.601 studio-range Y channel")
    e.add_argument(
        "--shave", type=int, default=0, help="pixels to crop from each border before scoring"
    )
    e.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    e.add_argument("--device", default=None)
    e.set_defaults(func=_cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``restore`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from restore import __version__

        print(f"restore {__version__}")
        return EXIT_OK
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    from restore.errors import RestoreError

    try:
        return func(args)
    except RestoreError as err:
        print(f"restore {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"restore {args.command}: interrupted", file=sys.stderr)
        return 130
