"""The ``restore`` sub-commands: each turns parsed arguments into library calls and prints.

:func:`restore.cli.build_parser` wires them to the command line; heavy imports stay inside each
command, so ``restore --help`` answers at once.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def cmd_train(args: argparse.Namespace) -> int:
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


def cmd_relay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restore.models import WEIGHTS_DIR
    from restore.relay import (
        judge_and_ship,
        load_targets,
        relay_table,
        run_relay,
        update_benchmarks,
    )

    repo = Path(args.table).resolve().parent.parent
    theirs = repo / "restore" / "weights"
    if theirs.is_dir() and theirs.resolve() != WEIGHTS_DIR.resolve():
        # docs/ would be written in one checkout and the weights in another (a clone's
        # `pip install -e` took over the `restore` command)
        print(
            f"restore relay: {args.table} belongs to the checkout {repo}, but this restore runs "
            f"from {WEIGHTS_DIR.parents[1]}, where it would ship the weights; run "
            f"`pip install -e {repo}` first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    targets = load_targets(args.table)
    only = [n for n in (args.models or "").split(",") if n]
    unknown = [n for n in only if n not in targets]
    if unknown:
        print(f"restore relay: not in {args.table}: {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    metrics_dir, bench = repo / "docs" / "metrics", repo / "docs" / "BENCHMARKS.md"
    if args.override and not args.judge:
        print("restore relay --override REASON goes with --judge RUN", file=sys.stderr)
        return EXIT_USAGE
    if args.judge:
        if len(only) != 1:
            print("restore relay --judge RUN needs --models NAME (one)", file=sys.stderr)
            return EXIT_USAGE
        reports = [
            judge_and_ship(
                args.judge, targets[only[0]], metrics_dir=metrics_dir, override=args.override
            )
        ]
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
            seed=args.seed,
        )
    for r in reports:
        what = "SHIPPED" if r.shipped else ("plan" if args.dry_run else "kept")
        vals = "" if r.new is None else f"  (shipped {r.old:.4f}, this leg {r.new:.4f})"
        print(f"{r.name:12s} {what:8s} steps {r.steps:6d}  {r.reason}{vals}")
    if not reports:
        print("nothing fits the budget (each leg needs at least a few hundred steps)")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
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


def cmd_enhance(args: argparse.Namespace) -> int:
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


def cmd_photo(args: argparse.Namespace) -> int:
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
        "descreen": not args.no_descreen,
        "inpaint": not args.no_inpaint,
        "enhance": not args.no_enhance,
        "faces": args.faces,
        "face_strength": args.face_strength,
        "colorize": args.colorize,
        "tone": args.tone,
        "fix_casts": args.fix_casts,
        "upscale": args.upscale,
        "models": models,
        "threshold": args.threshold,
        "dilate": args.dilate,
    }
    if Path(args.input).is_dir():
        return photo_folder(args, options)
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
    if "faces" in report:
        boxes = [f["box"] for f in report["faces"][0]]
        print(f"faces: {len(boxes)} found" + "".join(f"\n  box x, y, w, h = {b}" for b in boxes))
    return EXIT_OK


def photo_folder(args: argparse.Namespace, options: dict) -> int:
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


def cmd_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from restore.data.io import write_image
    from restore.generate import Sampler

    sampler = Sampler.from_pretrained(args.model, device=args.device)
    grid = sampler.grid(
        args.n, seed=args.seed, nrow=args.nrow, truncation=args.truncation, label=args.label
    )
    write_image(Path(args.output), grid)
    what = "" if args.label is None else f" of class {args.label}"
    print(f"wrote {args.n} samples{what} of {args.model} (seed {args.seed}) to {args.output}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
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


def cmd_serve(args: argparse.Namespace) -> int:
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
