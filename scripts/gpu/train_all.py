"""One prepared GPU call (issue 21): train every shipped model at once on one H100/H200.

    bash scripts/gpu/device_call.sh      # the device tool's command; carry [".data/gpu"]

All in ``--budget`` seconds (540: 9 minutes), counted from the start:

1. Legs (legs.py: the table of models, recipes and starts), one process per model, all at once.
   A leg probes its recipe for ``--probe-steps`` steps to measure it/s under the shared load, sets
   ``train.steps`` so that the run ends by the training deadline (budget - EVAL_RESERVE -
   BUNDLE_RESERVE), and trains exactly as ``restore train configs/gpu/X.yaml [--from NAME] --set
   train.steps=N ...`` would (that command goes into the card's leg). Then it runs ``restore eval
   --model <run> --data <check> --json`` for the run and for the shipped model, where the task
   has a protocol.
2. A leg still running at the evaluation deadline is stopped; if it has no exported weights, its
   last checkpoint is exported (``restore train ... --resume <run> --set train.steps=<ckpt>``).
3. The run folders go into at most 7 tar files of <= 15.5 MiB under ``--out`` (bundle.py), plus
   ``log.txt``: the only files of the call's 8.
4. With time left before ``--total``: the rows of scripts/bench/gpu_session.sh, their summary
   appended to log.txt (its own files stay out of --out).

Back on the CPU: ``python scripts/gpu/unpack_results.py <files>`` puts the runs in runs/gpu/.
CPU smoke run (tests/test_gpu_call.py): ``--device cpu --smoke --only ... --max-steps 3``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))  # the restore package of this checkout, also when not installed

from bundle import unpack, write_bundle  # noqa: E402
from legs import MODELS, PACK, recipe_name  # noqa: E402

EVAL_RESERVE = 60  # s between the training deadline and the evaluation deadline
BUNDLE_RESERVE = 25  # s between the evaluation deadline and the end of --budget

# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


class Log:
    """``log.txt`` under --out, written as it goes (a call cut short still returns it)."""

    def __init__(self, path: Path, t0: float) -> None:
        self.path, self.t0 = path, t0
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def __call__(self, msg: str) -> None:
        line = f"[{time.time() - self.t0:6.1f}s] {msg}"
        print(line, flush=True)
        with self.path.open("a") as f:
            f.write(line + "\n")

    def block(self, title: str, text: str) -> None:
        with self.path.open("a") as f:
            f.write(f"\n===== {title}\n{text.rstrip()}\n")


def ensure_kornia(pack: Path, site: Path, env: dict[str, str], log: Log) -> None:
    """Install the pack's kornia wheel into ``site`` when kornia is missing (the device image
    lacks it), with a stub for kornia_rs if that is missing too; ``env`` gets the PYTHONPATH."""
    import importlib.util

    if importlib.util.find_spec("kornia") is not None:
        return
    wheels = sorted((pack / "wheels").glob("*.whl"))
    if not wheels:
        log("kornia missing and no wheel in .data/gpu/wheels: run scripts/bench/gpu_wheels.sh "
            "and scripts/gpu/pack_data.py")  # fmt: skip
        return
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
         "--no-cache-dir", "--upgrade", "--target", str(site), *map(str, wheels)],
        check=False,
    )  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    if not _python_ok("import kornia_rs", env):
        write_kornia_rs_stub(site)
        log(
            "kornia_rs stub written (kornia imports it for kornia.io only, which restore does not use)"
        )
    found = _python_ok(
        "import importlib.util as u, sys; sys.exit(u.find_spec('kornia') is None)", env
    )
    log(f"kornia installed from {', '.join(w.name for w in wheels)}: {'ok' if found else 'FAILED'}")


def write_kornia_rs_stub(site: Path) -> None:
    """A ``kornia_rs`` package that lets ``import kornia`` succeed without the 5 MiB wheel: kornia
    imports ``kornia_rs.io`` at start-up and uses it only in ``kornia.io`` (image files)."""
    d = site / "kornia_rs"
    d.mkdir(parents=True, exist_ok=True)
    (d / "__init__.py").write_text('"""Stub (scripts/gpu/train_all.py): no kornia.io here."""\n')
    (d / "io.py").write_text(
        "def __getattr__(name):\n"
        "    raise ImportError(f'kornia_rs.io.{name}: kornia_rs is a stub on this machine')\n"
    )


def unpack_archives(pack: Path, log: Log) -> None:
    """Unpack the pack's archives (``*.tar`` in its root: many small files, see pack_data.py) in
    place, so the recipes find their folders (``cifar10/``, ``faces/``)."""
    for tar in sorted(pack.glob("*.tar")):
        log(f"pack: {tar.name}: {len(unpack(tar, pack))} files unpacked")


def _python_ok(code: str, env: dict[str, str]) -> bool:
    return (
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True).returncode == 0
    )


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the leg's process group (the leg and its eval children), SIGKILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass


def export_last_checkpoint(run: Path, env: dict[str, str], timeout: float, log: Log) -> None:
    """A stopped leg's last checkpoint as inference weights (``--resume`` with train.steps = the
    checkpoint's step: no step runs, the export does)."""
    latest = run / "checkpoints" / "latest.json"
    leg_file = run / "gpu_leg.json"
    if (run / "model.safetensors").is_file() or not latest.is_file() or not leg_file.is_file():
        return
    rep = json.loads(leg_file.read_text())
    step = int(json.loads(latest.read_text())["step"])
    sets = [s for s in rep["overrides"] if not s.startswith("train.steps=")]
    argv = [sys.executable, "-m", "restore", "train", rep["recipe"], "--resume", str(run)]
    for s in [*sets, f"train.steps={step}", f"train.val_every={10**9}"]:
        argv += ["--set", s]
    try:
        subprocess.run(argv, cwd=REPO, env=env, timeout=max(1.0, timeout), capture_output=True)
    except subprocess.TimeoutExpired:
        pass
    ok = (run / "model.safetensors").is_file()
    if ok:
        patch_stopped_leg(run / "model.json", rep["command"], step, run / "log.csv")
    rep.update(status=f"stopped at step {step} of {rep.get('steps')}; checkpoint exported" if ok
               else f"stopped at step {step}; export failed")  # fmt: skip
    leg_file.write_text(json.dumps(rep, indent=1))
    log(f"{run.name}: {rep['status']}")


def logged_seconds(log_csv: Path, upto: int) -> float:
    """Training seconds up to step ``upto`` from a ``log.csv`` (each row's steps / its it/s)."""
    import csv

    secs, last = 0.0, 0
    with log_csv.open(newline="") as f:
        for r in csv.DictReader(f):
            step, rate = int(r["step"]), float(r.get("it_s") or 0)
            if rate > 0 and last < step <= upto:
                secs += (step - last) / rate
                last = step
    return secs


def patch_stopped_leg(card_path: Path, command: str, step: int, log_csv: Path) -> None:
    """The card of a leg stopped at the deadline and exported by ``--resume``: its last leg gets
    the command that trained it (with where it stopped) and the training time from its log, not
    the export's ``--resume`` command and its zero seconds."""
    from restore.continuation import totals
    from restore.core.atomic import atomic_write_json

    card = json.loads(card_path.read_text())
    legs = card["training"]["legs"]
    legs[-1]["command"] = f"{command}  # stopped at step {step} by the call's deadline"
    if log_csv.is_file():
        legs[-1]["seconds"] = round(logged_seconds(log_csv, step), 1)
    card["training"]["totals"] = totals(legs)
    atomic_write_json(card_path, card)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/gpu_call")))
    ap.add_argument("--budget", type=float, default=540, help="s for training + checks + bundle")
    ap.add_argument("--total", type=float, default=0, help="s after which no bench row starts")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--only", default="", help="comma-separated model names (default: all)")
    ap.add_argument("--data", default=PACK, help="the pack (default .data/gpu)")
    ap.add_argument("--runs", default="runs/gpu", help="where the run folders go")
    ap.add_argument("--probe-steps", type=int, default=40)
    ap.add_argument("--steps", type=int, default=0, help="fixed train.steps (no probe)")
    ap.add_argument("--max-steps", type=int, default=0, help="cap on the planned train.steps")
    ap.add_argument("--smoke", action="store_true", help="tiny batches and patches (CPU test)")
    ap.add_argument("--no-eval", action="store_true", help="no check evaluation")
    ap.add_argument("--no-compare", action="store_true", help="do not check the shipped models")
    ap.add_argument("--overwrite", action="store_true", help="replace existing run folders")
    args = ap.parse_args(argv)

    t0 = time.time()
    args.out = args.out.resolve()
    os.chdir(REPO)  # the recipes' paths (.data/gpu, runs/gpu) are relative to the checkout
    log = Log(args.out / "log.txt", t0)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(f"train_all: unknown model(s) {unknown}; known: {', '.join(MODELS)}", file=sys.stderr)
        return 2
    if not Path(args.data, "train").is_dir():
        print(f"train_all: no pack at {args.data}: run scripts/gpu/pack_data.py", file=sys.stderr)
        return 2
    runs = {n: Path(args.runs) / recipe_name(MODELS[n]) for n in names}
    busy = [str(r) for r in runs.values() if r.exists()]
    if busy and not args.overwrite:
        print(f"train_all: run folders exist: {busy} (--overwrite replaces them)", file=sys.stderr)
        return 2
    for r in runs.values():
        shutil.rmtree(r, ignore_errors=True)
        r.mkdir(parents=True)

    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    log(f"gpu call: {len(names)} models on {args.device}, budget {args.budget:.0f}s")
    if shutil.which("nvidia-smi"):
        smi = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv"],
            capture_output=True, text=True,
        )  # fmt: skip
        log(smi.stdout.strip().replace("\n", " | "))
    ensure_kornia(Path(args.data), Path(os.environ.get("GPU_SITE", "/tmp/site")), env, log)
    unpack_archives(Path(args.data), log)
    manifest = Path(args.data) / "MANIFEST.json"
    if manifest.is_file():
        m = json.loads(manifest.read_text())
        log(f"pack: {m.get('files')} files, {m.get('total_bytes', 0) / 2**20:.1f} MiB")

    # 1. the legs, all at once
    train_end = t0 + args.budget - EVAL_RESERVE - BUNDLE_RESERVE
    eval_end = t0 + args.budget - BUNDLE_RESERVE
    threads = max(1, (os.cpu_count() or 1) // len(names))
    procs: dict[str, subprocess.Popen] = {}
    for n in names:
        cmd = [sys.executable, str(HERE / "legs.py"), n, "--device", args.device,
               "--data", args.data, "--runs", args.runs, "--probe-steps", str(args.probe_steps),
               "--steps", str(args.steps), "--max-steps", str(args.max_steps),
               "--train-end", str(train_end), "--eval-end", str(eval_end),
               "--threads", str(threads)]  # fmt: skip
        cmd += [f for f, on in (("--smoke", args.smoke), ("--no-eval", args.no_eval),
                                ("--no-compare", args.no_compare)) if on]  # fmt: skip
        with (runs[n] / "leg.log").open("w") as out:
            procs[n] = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, env=env, preexec_fn=os.setpgrp
            )
    log(f"legs started: {', '.join(names)}; training until {train_end - t0:.0f}s")
    ended: set[str] = set()
    try:
        while len(ended) < len(procs) and time.time() < eval_end + 3:
            time.sleep(0.5)
            for n, p in procs.items():
                if n not in ended and p.poll() is not None:
                    ended.add(n)
                    log(f"{n}: leg ended, rc={p.returncode}")
    finally:
        for n, p in procs.items():
            if p.poll() is None:
                log(f"{n}: still running at the evaluation deadline: stopped")
                _stop(p)

    # 2. stopped legs: export their last checkpoint
    bundle_end = t0 + args.budget - 8
    with ThreadPoolExecutor(max_workers=len(names)) as pool:  # at once: each one loads torch
        for n in names:
            pool.submit(export_last_checkpoint, runs[n], env, bundle_end - time.time(), log)

    # 3. the bundle + the summary
    table = summarize(names, runs)
    log.block("summary", table)
    for n in names:
        log.block(f"{n}: leg.log (last 40 lines)", _tail(runs[n] / "leg.log", 40))
    rep = write_bundle(list(runs.values()), args.out, extra=[("pack_MANIFEST.json", manifest)])
    log(f"bundle: {json.dumps(rep)}")
    print(table)

    # 4. the bench rows, with what is left
    left = (t0 + args.total - time.time()) if args.total else 0
    if left >= 60 and args.device != "cpu":
        tmp = Path("/tmp/gpu_call_bench")
        benv = dict(env, OUT=str(tmp), BUDGET=str(int(left - 10)), DATA=f"{args.data}/train/T91")
        log(f"bench: scripts/bench/gpu_session.sh with {left - 10:.0f}s")
        subprocess.run(["bash", "scripts/bench/gpu_session.sh"], env=benv, capture_output=True)
        log.block("bench summary", _tail(tmp / "summary.txt", 400))
    elif args.total:
        log(f"bench: skipped ({left:.0f}s left)")
    log("done")
    return 0 if all((r / "model.safetensors").is_file() for r in runs.values()) else 1


def summarize(names: list[str], runs: dict[str, Path]) -> str:
    """One line per model: start, steps, it/s, status, the check numbers (run vs shipped)."""
    lines = [f"{'model':<15} {'from':<15} {'steps':>7} {'it/s':>7} {'s':>5}  status / check"]
    for n in names:
        f = runs[n] / "gpu_leg.json"
        r = json.loads(f.read_text()) if f.is_file() else {}
        check = r.get("check") or {}
        head = []
        for k, v in check.items():
            model = (v or {}).get("model") if isinstance(v, dict) else None
            if model:
                keys = [x for x in ("psnr", "ssim", "f1", "iou") if x in model] or list(model)[:2]
                head.append(k + " " + ", ".join(f"{x}={model[x]}" for x in keys))
        lines.append(
            f"{n:<15} {r.get('from', '?'):<15} {r.get('steps', 0):>7} "
            f"{r.get('it_s') or r.get('probe_it_s') or 0:>7.1f} {r.get('seconds', 0):>5.0f}  "
            f"{r.get('status', 'no report')}" + (f"; {'; '.join(head)}" if head else "")
        )
    return "\n".join(lines)


def _tail(path: Path, n: int) -> str:
    if not path.is_file():
        return "(missing)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


if __name__ == "__main__":
    sys.exit(main())
