"""The ``restore`` command: argument parsing and printing only; the work is in the library.

Heavy imports (torch, kornia, ...) happen inside the sub-command that needs them, so
``restore --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from restore import cli_commands as commands
from restore.cli_commands import EXIT_ERROR, EXIT_OK, EXIT_USAGE, parse_budget


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
        "--from",
        dest="init_from",
        metavar="MODEL",
        help="start the generator from a shipped model, weights file or run folder (a new leg: "
        "fresh optimiser and warm-up; a GAN's D starts fresh with D-only warm-up steps; an "
        "SR model may start a recipe for another scale of the same size: all but its "
        "pixel-shuffle layer load)",
    )
    t.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when available)"
    )
    t.set_defaults(func=commands.cmd_train)

    r = sub.add_parser(
        "relay",
        help="one leg of the training relay: continue the models furthest from their targets",
        description="Pick the shipped models with the largest remaining share to their target "
        "(configs/relay.yaml), continue each from its shipped weights one at a time, score old "
        "and new by the task's protocol, and ship only what improved (weights, card legs, "
        "docs/metrics, docs/BENCHMARKS.md). Commit what it ships.",
    )
    r.add_argument("--budget", type=parse_budget, default=7200.0, help="wall time, e.g. 2h, 90m")
    r.add_argument("--models", help="only these (comma-separated), e.g. sr-x4,sr-x2")
    r.add_argument("--table", default="configs/relay.yaml", help="targets table")
    r.add_argument("--out", default="runs/relay", help="where the legs' runs go")
    r.add_argument("--dry-run", action="store_true", help="print the plan, train nothing")
    r.add_argument(
        "--judge", metavar="RUN", help="only score RUN (e.g. from the GPU call) and ship if better"
    )
    r.add_argument(
        "--override",
        metavar="REASON",
        help="with --judge: ship RUN even if the judge would not, for this reason (kept in the card)",
    )
    r.add_argument("--device", default=None)
    r.add_argument(
        "--seed", type=int, default=None, help="the legs' data seed (default: from the clock)"
    )
    r.set_defaults(func=commands.cmd_relay)

    e = sub.add_parser(
        "eval",
        help="score a model on validation sets beside its baselines, or two folders of images",
        description="Score a model in its task's protocol on each --data set, beside the "
        "task's baselines (SR: bicubic, with sharpness; inpainting: Telea, Navier-Stokes, "
        "biharmonic per hole-ratio bucket; colorization: the grey image; style: the photos and a "
        "colour-statistics transfer; generation: the real-vs-real floor), one table with a row "
        "per set. Or score a folder of predictions against a folder of targets.",
    )
    e.add_argument("--model", help="shipped model name or trained weights")
    e.add_argument(
        "--data",
        action="append",
        metavar="DIR",
        help="data set in the task's layout, repeatable: val/Set5/x4 (SR: HR/ + LR/, or any "
        "folder of images), val/Set5/x4/HR (inpaint, colorize, damage), data/style (content/ + "
        "style/), generation/mnist_t10k (generation: the real images)",
    )
    e.add_argument("--pred", help="folder of predictions")
    e.add_argument("--target", help="folder of ground-truth images (matched by file name)")
    e.add_argument("--y", action="store_true", help="score the BT.601 studio-range Y channel")
    e.add_argument(
        "--shave", type=int, default=0, help="pixels to crop from each border before scoring"
    )
    e.add_argument(
        "--detail",
        action="store_true",
        help="also print each set's full table (all metrics, hole-ratio buckets)",
    )
    e.add_argument(
        "--json",
        metavar="FILE",
        help="also write the results as JSON (one --data: its result; several: "
        '{"model", "task", "data", "command", "results": {set: result}})',
    )
    e.add_argument("--device", default=None)
    e.set_defaults(func=commands.cmd_eval)

    n = sub.add_parser(
        "enhance",
        help="run a model over a folder of images (recursive, resumable, with a report)",
        description="Run a model over every image under IN_DIR, writing to the same relative paths "
        "under OUT_DIR. A rerun skips finished outputs; bad files are reported in "
        "OUT_DIR/restore_report.json and the exit code is 1 if any failed. Works under torchrun.",
    )
    n.add_argument("in_dir", metavar="IN_DIR")
    n.add_argument("out_dir", metavar="OUT_DIR")
    from restore.tasks.specs import PHOTO, enhance_choices  # no torch: --help stays fast

    tasks = enhance_choices()  # from the task specs (restore.tasks.TASKS): alias -> model
    n.add_argument(
        "--task",
        choices=list(tasks),
        help="what to do, with its default model ("
        + ", ".join(f"{t}: {'the photo pipeline' if m == PHOTO else m}" for t, m in tasks.items())
        + f"); default {PHOTO}",
    )
    n.add_argument(
        "--model", help="model name or weights path (a,b,c for a pipeline); default: the task's"
    )
    n.add_argument("--masks", metavar="DIR", help="masks matched by relative path (white = hole)")
    n.add_argument(
        "--format",
        choices=["png", "jpg", "tif", "webp", "bmp"],
        help="output format (default: the input's)",
    )
    n.add_argument("--quality", type=int, help="JPEG / lossy WebP quality 1-100")
    n.add_argument("--suffix", default="", help="appended to each output's file stem")
    n.add_argument("--overwrite", action="store_true", help="redo outputs that already exist")
    n.add_argument("--dry-run", action="store_true", help="list what would be done, do nothing")
    n.add_argument(
        "--allow-in-place", action="store_true", help="allow OUT_DIR inside (or equal to) IN_DIR"
    )
    n.add_argument("--threads", type=int, help="CPU threads for the model (default: one per core)")
    n.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N")
    n.add_argument("--dtype", default=None, help="auto (default: bf16 on CUDA), fp32, bf16")
    n.add_argument("--tile", type=int, default=None, help="tile side (0: no tiling; default auto)")
    n.add_argument("--batch-size", type=int, help="images per model call (default 8 CUDA, 1 CPU)")
    n.add_argument("--workers", type=int, help="decoding threads (default: up to 4)")
    n.add_argument("--seed", type=int, help="seed for stochastic models")
    n.add_argument("--no-progress", action="store_true", help="no progress bar")
    n.set_defaults(func=commands.cmd_enhance)

    ph = sub.add_parser(
        "photo",
        help="restore a damaged photo or a folder of them: find scratches/dust, inpaint, enhance "
        "(+ colorize, upscale); grey stays grey, a toned print keeps its tone",
        description="Restore one photo (INPUT a file, -o the result) or every photo under a "
        "folder (INPUT a folder, -o OUT_DIR: same relative names, resumable, bad files reported "
        "in OUT_DIR/restore_report.json, as restore enhance).",
    )
    ph.add_argument(
        "input", help="the damaged photo (any size; gray, RGBA and 16-bit are kept) or a folder"
    )
    ph.add_argument(
        "-o",
        "--output",
        required=True,
        help="the result, or OUT_DIR for a folder (never the input)",
    )
    ph.add_argument("--mask", metavar="FILE", help="damage mask (white = damaged) to use as is")
    ph.add_argument(
        "--masks", metavar="DIR", help="folder input: masks matched by relative path (white = hole)"
    )
    ph.add_argument("--save-mask", metavar="FILE", help="also write the damage mask used")
    ph.add_argument("--save-steps", metavar="DIR", help="also write every intermediate image")
    ph.add_argument(
        "--report", metavar="FILE", help="write a JSON report (stages, device, times, tone)"
    )
    ph.add_argument(
        "--no-descreen",
        action="store_true",
        help="keep a print's paper texture or halftone screen (by default a periodic texture "
        "over the whole print is taken out first)",
    )
    ph.add_argument("--no-detect", action="store_true", help="do not look for damage")
    ph.add_argument("--no-inpaint", action="store_true", help="do not inpaint the damage")
    ph.add_argument("--no-enhance", action="store_true", help="do not undo fading, grain, blur")
    ph.add_argument(
        "--faces",
        action="store_true",
        help="also restore the faces found (detect, align, restore with the face model, paste "
        "back); --model faces=RUN for another face model",
    )
    ph.add_argument(
        "--face-strength",
        type=float,
        default=1.0,
        metavar="S",
        help="with --faces: share of the face model's change kept, 0-1 (default 1; lower keeps "
        "more of each face's own texture)",
    )
    ph.add_argument(
        "--colorize",
        nargs="?",
        const=True,
        default=False,
        choices=["force"],
        metavar="force",
        help="colour a grey or single-toned (sepia, ...) photo; a photo that already has colour "
        "is skipped with a warning, unless --colorize force",
    )
    ph.add_argument(
        "--tone",
        choices=["keep", "neutral", "mono"],
        default="keep",
        help="a toned print (sepia, cyanotype): keep its tone (default) or make it neutral grey; "
        "grey photos always stay grey; mono: take the photo for a single-toned print whatever "
        "colours it shows and rebuild its colour from its dominant tone (coloured stains, "
        "foxing and rust on a B&W or sepia print lose their colour, and the darkening the "
        "channels they spare show is lifted; hand tints go too)",
    )
    ph.add_argument(
        "--fix-casts",
        action="store_true",
        help="let enhance change a colour photo's colour balance (a faded print's cast); by "
        "default a colour photo's tone is restored and its colours kept",
    )
    ph.add_argument("--upscale", type=int, choices=(2, 4), help="super-resolve x2 or x4")
    ph.add_argument(
        "--threshold",
        type=float,
        help="damage probability threshold (default 0.4, on the mean of the detector's four "
        "mirror views)",
    )
    ph.add_argument(
        "--dilate",
        type=int,
        help="pixels the damage mask grows by (default 1 per 1024 px of the photo's longer side)",
    )
    ph.add_argument("--tile", type=int, help="tile side for large images (default: automatic)")
    ph.add_argument(
        "--model",
        action="append",
        metavar="STAGE=MODEL",
        help="another model for a stage (detect, inpaint, enhance, colorize, upscale): "
        "a shipped name, weights file or run folder (repeatable)",
    )
    ph.add_argument(
        "--overwrite", action="store_true", help="folder input: redo outputs that already exist"
    )
    ph.add_argument("--no-progress", action="store_true", help="folder input: no progress bar")
    ph.add_argument("--threads", type=int, help="CPU threads for the model (default: one per core)")
    ph.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA if any)")
    ph.set_defaults(func=commands.cmd_photo)
    gen = sub.add_parser("generate", help="sample a grid of images from a generation model")
    gen.add_argument(
        "--model", required=True, help="generation model name or weights, e.g. gen-mnist"
    )
    gen.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    gen.add_argument("--seed", type=int, default=0, help="latent seed (same seed, same images)")
    gen.add_argument("--nrow", type=int, default=8, help="images per grid row")
    gen.add_argument(
        "--truncation", type=float, default=1.0, help="psi in (0, 1]: pull latents toward the mean"
    )
    gen.add_argument(
        "--label",
        type=int,
        default=None,
        help="class-conditional models: only this class (gen-mnist: the digit 0-9); "
        "default: classes drawn at random",
    )
    gen.add_argument("-o", "--output", required=True, help="grid image to write (PNG)")
    gen.add_argument("--device", default=None)
    gen.set_defaults(func=commands.cmd_generate)
    x = sub.add_parser(
        "export",
        help='export a model\'s network to ONNX (pip install "restore[onnx]")',
        description="Export the network of a model to an ONNX file (dynamic batch, height and "
        "width), checked against torch with ONNX Runtime before it is written. "
        "restore.export.load_onnx(FILE) runs it through the normal API (tiling, padding).",
    )
    x.add_argument("model", help="shipped model name, weights .safetensors or run folder")
    x.add_argument("--onnx", action="store_true", help="export to ONNX")
    x.add_argument(
        "-o", "--output", metavar="FILE", help="the .onnx file (default: the model's name + .onnx)"
    )
    x.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18)")
    x.add_argument("--overwrite", action="store_true", help="replace an existing FILE")
    x.set_defaults(func=commands.cmd_export)
    w = sub.add_parser(
        "serve",
        help='a local web app: restore photos in the browser (pip install "restore[web]")',
        description="Serve the web app (old photo, enlarge, fill holes, colorize, style, "
        "generate) on this computer and print its URL; nothing is fetched from the internet.",
    )
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    w.add_argument("--port", type=int, default=7860, help="port (default 7860; 0: a free one)")
    w.add_argument("--auth", metavar="USER:PASS", help="require this user and password")
    w.add_argument("--max-mb", type=float, default=50.0, help="largest upload in MiB (50)")
    w.add_argument("--max-pixels", type=int, help="largest image, width*height (CLI's limit)")
    w.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: CUDA if any)")
    w.set_defaults(func=commands.cmd_serve)
    return p


def _set_threads(n: int) -> None:
    """``--threads``: torch's intra-op threads (OpenMP / oneDNN) for this run."""
    from restore.errors import ConfigError

    if n < 1:
        raise ConfigError(f"--threads must be >= 1, got {n}")
    import torch

    torch.set_num_threads(n)


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
        if getattr(args, "threads", None) is not None:
            _set_threads(args.threads)
        return func(args)
    except RestoreError as err:
        print(f"restore {args.command}: error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"restore {args.command}: interrupted", file=sys.stderr)
        return 130
