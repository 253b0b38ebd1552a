"""One leg of the GPU call: the table of what each shipped model trains, and one model's run.

train_all.py starts ``python scripts/gpu/legs.py NAME ...`` once per model, all at once. A leg:

1. probes its recipe for ``--probe-steps`` steps (it/s under the load of all legs together);
2. sets ``train.steps`` so that the run ends by ``--train-end`` and trains exactly as
   ``restore train configs/gpu/X.yaml [--from NAME] --set train.steps=N ...`` would: that command
   goes into the card's leg and into ``<run>/gpu_leg.json``;
3. runs ``restore eval --model <run> --data <pack>/<check> --json <run>/check_run.json`` (and the
   same for the shipped model: ``check_shipped.json``) where the task has a protocol, cut at
   ``--eval-end``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the restore package of this checkout, also when not installed

PACK = ".data/gpu"  # where the recipes read their data (scripts/gpu/pack_data.py writes it)
END_OVERHEAD = 12  # s a leg keeps after its last step: final validation, checkpoint, export
SAFETY = 0.9  # share of the probed it/s a leg plans with. In the 2026-11-29 H200 call (no MPS)
# the SR legs ran at 0.75 of their probe and were stopped before the end; in the 2026-12-04 call
# (MPS on) every leg ran at 0.98-1.54 of its probe, so at 0.75 they all ended 90-250 s early


@dataclass(frozen=True)
class Leg:
    """How the call trains one shipped model."""

    recipe: str
    start: str | None  # shipped model to continue (--from); None: from scratch
    check: str | None  # check set under the pack for `restore eval`; None: no protocol here
    smoke: tuple[str, ...] = ()  # overrides of the CPU smoke run (with data.batch_size=2)


#: Shipped trainable models the GPU call does not train yet, and why (the CPU relay does).
CPU_ONLY: dict[str, str] = {
    "damage-coarse": "the coarse detector has no relay target or GPU recipe yet: its legs are "
    "judged by hand on the real prints (scripts/eval_real_labels.py, "
    "scripts/bench/flake_recall.py), and neither the relay nor the GPU call trains it",
}

# One row per shipped trainable model (the names of restore/weights/) but CPU_ONLY.
MODELS: dict[str, Leg] = {
    "sr-x4": Leg("configs/gpu/sr_x4.yaml", "sr-x4", "check/x4", ("data.patch_size=32",)),
    # sr-x2's shipped net is the small CPU one: the call trains the EDSR-baseline size, started
    # from sr-x4's head and body (restore.continuation.other_scale; scripts/bench/sr_cross_scale.py)
    "sr-x2": Leg("configs/gpu/sr_x2.yaml", "sr-x4", "check/x2", ("data.patch_size=32",)),
    "sr-x4-gan": Leg(
        "configs/gpu/sr_x4_gan.yaml", "sr-x4-gan", "check/x4", ("data.patch_size=32",)
    ),
    "inpaint": Leg(
        "configs/gpu/inpaint.yaml",
        "inpaint",
        "check/x4/HR",
        ("data.patch_size=64", "task_args.val_images=1"),
    ),
    "colorize": Leg(
        "configs/gpu/colorize.yaml",
        "colorize",
        "check/x4/HR",
        ("data.patch_size=64", "task_args.train_short_side=64", "task_args.val_images=1"),
    ),
    "enhance": Leg(
        "configs/gpu/enhance.yaml",
        "enhance",
        None,
        ("data.patch_size=64", "task_args.val_images=1"),
    ),
    "damage": Leg(
        "configs/gpu/damage.yaml",
        "damage",
        "check/x4/HR",
        ("data.patch_size=64", "task_args.val_images=1"),
    ),
    "face": Leg("configs/gpu/face.yaml", "face", None, ("task_args.val_images=1",)),
    "gen-mnist": Leg(
        "configs/gpu/gen_mnist.yaml",
        "gen-mnist",
        None,
        ("task_args.val_samples=64", "task_args.val_real=64"),
    ),
    "gen-cifar10": Leg(
        "configs/gpu/gen_cifar10.yaml",
        "gen-cifar10",
        None,
        ("task_args.val_samples=64", "task_args.val_real=64"),
    ),
    "style-painting": Leg(
        "configs/gpu/style_painting.yaml",
        "style-painting",
        None,
        ("data.patch_size=32", "task_args.short_side=64"),
    ),
}


def recipe_name(leg: Leg) -> str:
    """The run folder's name: the recipe's ``name``."""
    return str(yaml.safe_load((REPO / leg.recipe).read_text())["name"])


def base_overrides(leg: Leg, args: argparse.Namespace) -> list[str]:
    """``--set`` values of every run of ``leg``: data re-rooted at ``--data``, ``--runs``, smoke."""
    raw = yaml.safe_load((REPO / leg.recipe).read_text())
    out = []
    if args.data != PACK:
        for key in ("train", "train_b", "val"):
            v = str((raw.get("data") or {}).get(key) or "")
            if v == PACK or v.startswith(PACK + "/"):
                out.append(f"data.{key}={args.data}{v[len(PACK) :]}")
    if args.runs != str(raw["train"]["out_dir"]):
        out.append(f"train.out_dir={args.runs}")
    if args.smoke:
        out += ["data.batch_size=2", *leg.smoke]
    return out


def it_per_s(log_csv: Path) -> float:
    """Median it/s of the training rows of a ``log.csv``, the first (start-up) row left out."""
    with log_csv.open(newline="") as f:
        rates = [float(r["it_s"]) for r in csv.DictReader(f) if r.get("it_s")]
    if not rates:
        raise RuntimeError(f"no it_s rows in {log_csv}")
    return median(rates[1:] or rates)


# ---------------------------------------------------------------------------------------------
# One leg (its own process)
# ---------------------------------------------------------------------------------------------


def run_leg(name: str, args: argparse.Namespace) -> int:
    import torch

    from restore.config import load_config
    from restore.continuation import StartWeights, check_architecture, describe_hardware
    from restore.core.checkpoint import atomic_write_json
    from restore.models import resolve
    from restore.train import train

    torch.set_num_threads(args.threads)
    leg = MODELS[name]
    base = base_overrides(leg, args)
    cfg = load_config(REPO / leg.recipe, base)
    run = Path(cfg.train.out_dir) / cfg.name
    report: dict = {
        "model": name,
        "recipe": leg.recipe,
        "from": leg.start or "scratch",
        "hardware": describe_hardware(torch.device(args.device)),
        "torch": torch.__version__,
    }

    def save(**kw) -> None:
        report.update(kw)
        atomic_write_json(run / "gpu_leg.json", report)

    start = None
    if leg.start:
        path, card, _ = resolve(leg.start)
        start = StartWeights(path=path, card=card, label=leg.start)
        check_architecture(start, cfg)  # a newly shipped architecture needs its GPU recipe updated

    # 1. probe: it/s of this recipe under the load of all legs together
    if args.steps:
        steps, rate = args.steps, None
    else:
        p = args.probe_steps
        probe_dir = Path(cfg.train.out_dir) / "_probe"
        every = max(1, p // 4)
        pcfg = load_config(
            REPO / leg.recipe,
            [*base, f"train.steps={p}", f"train.log_every={every}", f"train.ckpt_every={p}",
             f"train.val_every={p}", f"train.sample_every={p}", f"train.out_dir={probe_dir}",
             "data.val="],
        )  # fmt: skip
        t = time.time()
        train(pcfg, device=args.device, init_from=start)
        rate = it_per_s(probe_dir / cfg.name / "log.csv")
        shutil.rmtree(probe_dir / cfg.name, ignore_errors=True)
        left = args.train_end - time.time() - END_OVERHEAD
        steps = int(rate * left * SAFETY)
        print(
            f"{name}: probe {p} steps in {time.time() - t:.1f}s, {rate:.2f} it/s; {left:.0f}s left"
        )
        if steps < 1:
            save(status="no time", probe_it_s=rate)
            print(f"{name}: no time left to train")
            return 1
    steps = min(steps, cfg.train.steps, args.max_steps or steps)

    # 2. the run
    every = max(1, steps // 50)
    sets = [*base, f"train.steps={steps}", f"train.log_every={every}",
            f"train.ckpt_every={max(1, steps // 4)}", f"train.val_every={steps}",
            f"train.sample_every={steps}"]  # fmt: skip
    cfg = load_config(REPO / leg.recipe, sets)
    argv = ["restore", "train", leg.recipe, *(["--from", leg.start] if leg.start else [])]
    for s in sets:
        argv += ["--set", s]
    argv += ["--device", args.device]
    command = shlex.join(argv)
    save(status="training", steps=steps, probe_it_s=rate, command=command, overrides=sets)
    print(f"{name}: {command}")
    t = time.time()
    result = train(cfg, device=args.device, init_from=start, command=command)
    secs = time.time() - t
    save(status="trained", seconds=round(secs, 1), it_s=round(steps / secs, 2),
         metrics=result.metrics)  # fmt: skip
    print(f"{name}: trained {steps} steps in {secs:.0f}s; validation {result.metrics}")

    # 3. check: the run and the shipped model in the task's protocol, on the pack's check set
    if leg.check and not args.no_eval:
        data = f"{args.data}/{leg.check}"
        jobs = {"run": str(run)} | ({} if args.no_compare else {"shipped": name})
        procs = {
            k: subprocess.Popen(
                [sys.executable, "-m", "restore", "eval", "--model", m, "--data", data,
                 "--json", str(run / f"check_{k}.json"), "--device", args.device],
                cwd=REPO,
            )
            for k, m in jobs.items()
        }  # fmt: skip
        for k, proc in procs.items():
            try:
                proc.wait(timeout=max(1.0, args.eval_end - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
                print(f"{name}: check of the {k} model cut at the evaluation deadline")
        save(check={k: summarize_check(run / f"check_{k}.json") for k in jobs})
    save(status="done")
    return 0


def summarize_check(path: Path) -> dict | None:
    """The headline numbers of a ``restore eval --json`` file (None when it is missing)."""
    if not path.is_file():
        return None
    r = json.loads(path.read_text())
    mean = r.get("mean")
    if isinstance(mean, dict):
        return {
            m: {k: round(v, 4) for k, v in d.items() if isinstance(v, (int, float))}
            for m, d in mean.items()
            if isinstance(d, dict)
        }
    return {k: v for k, v in r.items() if isinstance(v, (int, float))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("name", choices=list(MODELS))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--data", default=PACK)
    ap.add_argument("--runs", default="runs/gpu")
    ap.add_argument("--probe-steps", type=int, default=40)
    ap.add_argument("--steps", type=int, default=0, help="fixed train.steps (no probe)")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--train-end", type=float, required=True, help="epoch seconds")
    ap.add_argument("--eval-end", type=float, required=True, help="epoch seconds")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--no-compare", action="store_true")
    args = ap.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_leg(args.name, args)


if __name__ == "__main__":
    sys.exit(main())
