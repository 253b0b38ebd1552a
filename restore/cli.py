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
    start = None
    if args.init_from:
        from restore.continuation import StartWeights
        from restore.models import resolve

        path, card, _ = resolve(args.init_from)
        start = StartWeights(path=path, card=card, label=str(args.init_from))
    import os
    import shlex

    command = shlex.join(["restore", *sys.argv[1:]]) if sys.argv[1:2] == ["train"] else None
    result = train(cfg, resume=args.resume, device=args.device, init_from=start, command=command)

    if int(os.environ.get("RANK", "0")) == 0:
        print(f"trained {cfg.name} for {result.step} steps -> {result.out_dir}")
        if result.metrics:
            print("validation: " + ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items()))
        if result.weights:
            print(f"weights: {result.weights}")
    return EXIT_OK


def parse_budget(text: str) -> float:
    """``2h``, ``90m``, ``45s``, ``1h30m`` or plain seconds -> seconds."""
    import re

    m = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not text.strip() or not m or not any(m.groups()):
        raise argparse.ArgumentTypeError(f"bad budget {text!r}: use e.g. 2h, 90m, 1h30m, 600")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def _cmd_relay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restore.relay import (
        judge_and_ship,
        load_targets,
        relay_table,
        run_relay,
        update_benchmarks,
    )

    repo = Path(args.table).resolve().parent.parent
    targets = load_targets(args.table)
    only = [n for n in (args.models or "").split(",") if n]
    unknown = [n for n in only if n not in targets]
    if unknown:
        print(f"restore relay: not in {args.table}: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    metrics_dir, bench = repo / "docs" / "metrics", repo / "docs" / "BENCHMARKS.md"
    if args.judge:
        if len(only) != 1:
            print("restore relay --judge RUN needs --models NAME (one)", file=sys.stderr)
            return EXIT_USAGE
        reports = [judge_and_ship(args.judge, targets[only[0]], metrics_dir=metrics_dir)]
        if reports[0].shipped:
            update_benchmarks(bench, relay_table(Path(__file__).parent / "weights", targets))
    else:
        reports = run_relay(
            targets,
            args.budget,
            only=only,
            out_dir=args.out,
            device=args.device,
            metrics_dir=metrics_dir,
            benchmarks=bench,
            dry_run=args.dry_run,
        )
    for r in reports:
        what = "SHIPPED" if r.shipped else ("plan" if args.dry_run else "kept")
        vals = "" if r.new is None else f"  (shipped {r.old:.4f}, this leg {r.new:.4f})"
        print(f"{r.name:12s} {what:8s} steps {r.steps:6d}  {r.reason}{vals}")
    if not reports:
        print("nothing fits the budget (each leg needs at least a few hundred steps)")
    return EXIT_OK


def _cmd_eval(args: argparse.Namespace) -> int:
    import json
    import shlex
    from pathlib import Path

    from restore.eval.report import format_table, summary_table

    if args.pred or args.target:
        if not (args.pred and args.target) or args.model or args.data:
            print(
                "restore eval: --pred and --target go together, without --model / --data",
                file=sys.stderr,
            )
            return EXIT_USAGE
        from restore.eval.protocols import evaluate_folders

        result = evaluate_folders(args.pred, args.target, y_channel=args.y, shave=args.shave)
        print(format_table(result))
    elif args.model and args.data:
        from restore.evaluate import evaluate_sets

        report = evaluate_sets(args.model, args.data, device=args.device)
        argv = ["restore", "eval", "--model", args.model]
        report["command"] = shlex.join(argv + [a for d in args.data for a in ("--data", d)])
        print(f"{report['model']} ({report['task']})")
        print(summary_table(report["results"]))
        if args.detail:
            for label, res in report["results"].items():
                print(f"\n{label}:\n{format_table(res)}")
        # one set: its result as it stands (what scripts/gpu and older cards read)
        result = next(iter(report["results"].values())) if len(args.data) == 1 else report
    else:
        print(
            "restore eval: give --model NAME --data DIR [--data DIR ...], or --pred DIR --target DIR",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.json:
        from restore.core.checkpoint import atomic_write_json

        atomic_write_json(Path(args.json), result)
        print(f"wrote {args.json}")
    else:
        json.dumps(result)  # fail loudly here rather than later if a value is not JSON-able
    return EXIT_OK


def _cmd_enhance(args: argparse.Namespace) -> int:
    import os

    # Set before torch loads: decoder/encoder threads share the cores with torch's OpenMP pool,
    # and spinning OpenMP workers starve them (measured: scripts/bench/enhance.py).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from restore.batch import REPORT_NAME, enhance_folder

    rep = enhance_folder(
        args.in_dir,
        args.out_dir,
        args.model,
        task=args.task,
        masks=args.masks,
        format=args.format,
        quality=args.quality,
        suffix=args.suffix,
        overwrite=args.overwrite,
        dry_run=args.dry_run,
        allow_in_place=args.allow_in_place,
        device=args.device,
        dtype=args.dtype,
        tile=args.tile,
        batch_size=args.batch_size,
        workers=args.workers,
        seed=args.seed,
        progress=not args.no_progress,
    )
    if int(os.environ.get("RANK", "0")) != 0:
        return EXIT_OK if rep.ok else EXIT_ERROR
    if rep.dry_run:
        for p in rep.planned:
            print(f"{p['input']} -> {p['output']}")
        print(
            f"dry run: {len(rep.planned)} to do, {rep.skipped} already done, "
            f"{len(rep.failed)} refused, {len(rep.ignored)} ignored (not images)"
        )
        for f in rep.failed:
            print(f"  refused {f['input']}: {f['reason']}")
        return EXIT_OK
    for f in rep.failed[:20]:
        print(f"FAILED {f['input']}: {f['reason']}", file=sys.stderr)
    if len(rep.failed) > 20:
        print(f"... and {len(rep.failed) - 20} more (see the report)", file=sys.stderr)
    rate = rep.written / rep.seconds if rep.seconds > 0 else 0.0
    print(
        f"{rep.written} written, {rep.skipped} already done, {len(rep.failed)} failed, "
        f"{len(rep.ignored)} ignored (not images) in {rep.seconds:.1f}s ({rate:.2f} img/s)"
    )
    if not rep.model_loaded:
        print("nothing needed the model: it was not loaded (all outputs exist or inputs failed)")
    print(f"report: {os.path.join(args.out_dir, REPORT_NAME)}")
    return EXIT_OK if rep.ok else EXIT_ERROR


def _cmd_photo(args: argparse.Namespace) -> int:
    """``restore photo``: detect damage, inpaint, enhance (+ colorize, upscale, tone) one photo,
    or every photo of a folder (through the resumable folder engine of ``restore enhance``)."""
    from pathlib import Path

    from restore.core.checkpoint import atomic_write_json
    from restore.data.io import from_tensor, read_image, write_image
    from restore.errors import RestoreError
    from restore.photo import STAGES, restore_photo

    models = {}
    for spec in args.model or []:
        stage, sep, name = spec.partition("=")
        if not sep or stage not in STAGES:
            raise RestoreError(f"--model {spec!r}: expected STAGE=MODEL, STAGE in {list(STAGES)}")
        models[stage] = name
    options = {
        "detect": not args.no_detect,
        "inpaint": not args.no_inpaint,
        "enhance": not args.no_enhance,
        "colorize": args.colorize,
        "tone": args.tone,
        "upscale": args.upscale,
        "models": models,
        "threshold": args.threshold,
        "dilate": args.dilate,
    }
    if Path(args.input).is_dir():
        return _photo_folder(args, options)
    if args.masks:
        raise RestoreError("--masks DIR is for a folder input; give one photo's mask with --mask")
    src, dst = Path(args.input), Path(args.output)
    outputs = [dst] + [Path(p) for p in (args.save_mask, args.report) if p]
    if args.save_steps:
        if not Path(args.save_steps).is_dir():
            raise RestoreError(f"--save-steps {args.save_steps}: not an existing folder")
        outputs.append(Path(args.save_steps) / "x.png")
    for p in outputs:  # fail before any work, so nothing partial is left behind
        if not p.parent.is_dir():
            raise RestoreError(f"{p}: the folder {p.parent} does not exist")
        if src.exists() and p.exists() and p.resolve() == src.resolve():
            raise RestoreError(f"{p}: refusing to overwrite the input {src}")
    img = read_image(src)
    steps: dict | None = {} if (args.save_steps or args.save_mask) else None
    try:
        out, report = restore_photo(
            img, mask=args.mask, device=args.device, tile=args.tile, steps=steps, **options
        )
    except ValueError as e:  # bad option values; user errors are RestoreErrors already
        if isinstance(e, RestoreError):
            raise
        raise RestoreError(str(e)) from e
    # report["warnings"] were logged already (stderr), as the library warns
    protect = [src] + ([Path(args.mask)] if args.mask else [])
    if args.save_mask and "mask" not in (steps or {}):
        raise RestoreError("--save-mask: there is no mask (detection off and no --mask given)")
    if steps is not None and args.save_steps:
        for i, (name, t) in enumerate(steps.items()):
            path = Path(args.save_steps) / f"{i:02d}_{name}.png"
            write_image(path, from_tensor(t[:1]), protect=protect)
    if steps is not None and args.save_mask:
        write_image(args.save_mask, from_tensor(steps["mask"][:1]), protect=protect)
    write_image(dst, out, protect=protect)
    report["output"] = str(dst)
    if args.report:
        atomic_write_json(Path(args.report), report)
    ran = [f"{s['stage']} {s['seconds']:.2f}s" for s in report["stages"] if s["ran"]]
    tone = report["tone"]
    print(f"restored {src} -> {dst} on {report['device']} ({', '.join(ran) or 'no stage ran'})")
    print(f"tone: {tone['kind']}, {tone['action']}")
    return EXIT_OK


def _photo_folder(args: argparse.Namespace, options: dict) -> int:
    """``restore photo IN_DIR -o OUT_DIR``: the photo pipeline over a folder, resumable."""
    import os
    from collections import Counter

    from restore.batch import REPORT_NAME, enhance_folder
    from restore.errors import RestoreError

    single = [f for f, v in (("--mask", args.mask), ("--save-mask", args.save_mask)) if v]
    single += [f for f, v in (("--save-steps", args.save_steps), ("--report", args.report)) if v]
    if single:
        raise RestoreError(
            f"{', '.join(single)}: for one photo only; for a folder, masks come from --masks DIR "
            f"and the report is OUT_DIR/{REPORT_NAME}"
        )
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as restore enhance (I/O threads)
    try:
        rep = enhance_folder(
            args.input,
            args.output,
            task="photo",
            masks=args.masks,
            overwrite=args.overwrite,
            device=args.device,
            tile=args.tile,
            progress=not args.no_progress,
            options=options,
        )
    except ValueError as e:  # bad option values; user errors are RestoreErrors already
        if isinstance(e, RestoreError):
            raise
        raise RestoreError(str(e)) from e
    for f in rep.failed[:20]:
        print(f"FAILED {f['input']}: {f['reason']}", file=sys.stderr)
    if len(rep.failed) > 20:
        print(f"... and {len(rep.failed) - 20} more (see the report)", file=sys.stderr)
    print(
        f"{rep.written} written, {rep.skipped} already done, {len(rep.failed)} failed, "
        f"{len(rep.ignored)} ignored (not images) in {rep.seconds:.1f}s"
    )
    kinds = Counter(n.get("kind") for n in rep.notes)
    if kinds:
        print("tone: " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items(), key=str)))
    skipped = [n["input"] for n in rep.notes if str(n.get("colorize", "")).startswith("skipped")]
    if skipped:
        print(f"colorize skipped {len(skipped)} photo(s) that already have colour: see the report")
    print(f"report: {os.path.join(args.output, REPORT_NAME)}")
    return EXIT_OK if rep.ok else EXIT_ERROR


def _cmd_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restore.data.io import write_image
    from restore.generate import Sampler

    sampler = Sampler.from_pretrained(args.model, device=args.device)
    grid = sampler.grid(args.n, seed=args.seed, nrow=args.nrow, truncation=args.truncation)
    write_image(Path(args.output), grid)
    print(f"wrote {args.n} samples of {args.model} (seed {args.seed}) to {args.output}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    if not args.onnx:
        print("restore export: choose a format: --onnx (the only one so far)", file=sys.stderr)
        return EXIT_USAGE
    from restore.export import export_onnx

    res = export_onnx(args.model, args.output, opset=args.opset, overwrite=args.overwrite)
    print(
        f"wrote {res.path} ({res.size_bytes / 2**20:.1f} MiB, opset {res.opset}, network "
        f"{res.name}/{res.module}, {res.seconds:.1f}s); ONNX Runtime vs torch on a random "
        f"{'x'.join(map(str, res.verify_shape))} input: max abs diff {res.max_abs_diff:.2g}"
    )
    print("run it with restore.export.load_onnx(path) (same API as restore.load)")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    try:  # the web extra is optional: the base install never imports it
        from restore.web import serve
    except ModuleNotFoundError as e:
        if e.name not in ("fastapi", "uvicorn", "starlette", "pydantic"):
            raise
        print(f'restore serve: needs {e.name}: pip install "restore[web]"', file=sys.stderr)
        return EXIT_ERROR

    def echo(line: str) -> None:
        print(line, file=sys.stderr if line.startswith("WARNING") else sys.stdout, flush=True)

    return serve(
        host=args.host,
        port=args.port,
        auth=args.auth,
        device=args.device,
        max_mb=args.max_mb,
        max_pixels=args.max_pixels,
        echo=echo,
    )


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
        "fresh optimiser and warm-up; a GAN's D starts fresh with D-only warm-up steps)",
    )
    t.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:N (default: CUDA when available)"
    )
    t.set_defaults(func=_cmd_train)

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
    r.add_argument("--device", default=None)
    r.set_defaults(func=_cmd_relay)

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
    e.set_defaults(func=_cmd_eval)

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
    n.set_defaults(func=_cmd_enhance)

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
    ph.add_argument("--no-detect", action="store_true", help="do not look for damage")
    ph.add_argument("--no-inpaint", action="store_true", help="do not inpaint the damage")
    ph.add_argument("--no-enhance", action="store_true", help="do not undo fading, grain, blur")
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
        choices=["keep", "neutral"],
        default="keep",
        help="a toned print (sepia, cyanotype): keep its tone (default) or make it neutral grey; "
        "grey photos always stay grey",
    )
    ph.add_argument("--upscale", type=int, choices=(2, 4), help="super-resolve x2 or x4")
    ph.add_argument("--threshold", type=float, help="damage probability threshold (default 0.5)")
    ph.add_argument("--dilate", type=int, help="pixels the damage mask grows by (default 1)")
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
    ph.set_defaults(func=_cmd_photo)
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
    gen.add_argument("-o", "--output", required=True, help="grid image to write (PNG)")
    gen.add_argument("--device", default=None)
    gen.set_defaults(func=_cmd_generate)
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
    x.set_defaults(func=_cmd_export)
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
    w.set_defaults(func=_cmd_serve)
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
