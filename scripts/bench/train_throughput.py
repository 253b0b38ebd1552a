"""Training throughput: the pix2pix reference step vs restore's loop, same networks, same device.

    python scripts/bench/train_throughput.py [--size 256] [--steps 12] [--batches 1 16]
        [--variants default channels_last compile ...] [--rounds 3] [--block 1] [--real default]

Rows (images/s, median over timed blocks after warm-up):

- ``reference``: the pix2pix training step as junyanz/pytorch-CycleGAN-and-pix2pix runs it
  (unet_256 + 70x70 PatchGAN, BatchNorm, vanilla GAN loss + 100 x L1, Adam 2e-4 / (0.5, 0.999),
  fp32, eager; ``cudnn.benchmark`` on CUDA as pix2pix sets it), on synthetic tensors already on
  the device.
- one row per ``--variants`` entry: ``restore.train.train`` on the same networks and synthetic
  uint8 pairs (data loading and ``make_batch`` included), EMA off (the reference has none; the
  ``ema`` variant turns it on). ``default`` is the loop as configured by default for the device
  (fused Adam; bf16 autocast on CUDA, fp32 on the CPU); other names override config keys
  (table ``VARIANTS``) and combine with ``+``, e.g. ``channels_last+compile``.
- ``real:<variant>``: the same loop on real images read from disk (the ``enhance`` task: crops,
  flips and old-photo degradation on the device), to show the data path keeps up.

Every round runs the reference and then each variant; ``x ref`` is the median over rounds of the
per-round ratio to that round's reference, so load from other processes (a shared machine) hits
both sides of each ratio alike. Timing blocks are ``--block`` steps between two log rows (one host
sync per block on CUDA; the reference syncs once per block too).

``--clock cpu`` (CPU only) times with the process's CPU time (all threads) divided by the thread
count instead of the wall clock: on a loaded shared machine it counts the cycles each run got
rather than the time it waited for them (OpenMP spin-waits still count).
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts" / "bench"))

from common import bench_train_options, cpu_name  # noqa: E402

from restore.config import Config, from_dict  # noqa: E402
from restore.core import PatchDiscriminator, UNetGenerator  # noqa: E402
from restore.tasks import TaskSpec, register_task  # noqa: E402
from restore.tasks.base import Task, conditional_d_loss, conditional_g_loss  # noqa: E402
from restore.train import train  # noqa: E402

# name -> config overrides ({section: {key: value}}); combine names with "+"
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "default": {},
    "fp32": {"train": {"precision": "fp32"}},
    "bf16": {"train": {"precision": "bf16"}},
    "channels_last": {"train": {"channels_last": True}},
    "compile": {"train": {"compile": True}},
    "cudagraphs": {"train": {"compile": True, "compile_mode": "reduce-overhead"}},
    "fused": {"optim": {"adam_impl": "fused"}},
    "foreach": {"optim": {"adam_impl": "foreach"}},
    "for_loop": {"optim": {"adam_impl": "for_loop"}},
    "ema": {"train": {"ema_decay": 0.999}},
}


def variant_overrides(spec: str) -> dict[str, dict[str, Any]]:
    """``"channels_last+compile"`` -> the merged overrides of both names."""
    out: dict[str, dict[str, Any]] = {}
    for name in spec.split("+"):
        if name not in VARIANTS:
            raise SystemExit(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
        for section, kv in VARIANTS[name].items():
            out.setdefault(section, {}).update(kv)
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reference_step_rate(
    size: int, batch: int, steps: int, device: torch.device, block: int = 1, warm_blocks: int = 1
) -> float:
    """Images/s of the pix2pix reference step: median over blocks of ``block`` steps."""
    torch.manual_seed(0)
    G, D = UNetGenerator().to(device), PatchDiscriminator().to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    A = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    B = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    times = []
    _sync(device)
    t0 = time.perf_counter()
    for i in range(steps):
        fake = G(A)
        for p in D.parameters():
            p.requires_grad_(True)
        opt_d.zero_grad()
        pf = D(torch.cat([A, fake.detach()], 1))
        pr = D(torch.cat([A, B], 1))
        loss_d = 0.5 * (
            F.binary_cross_entropy_with_logits(pf, torch.zeros_like(pf))
            + F.binary_cross_entropy_with_logits(pr, torch.ones_like(pr))
        )
        loss_d.backward()
        opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        opt_g.zero_grad()
        pf = D(torch.cat([A, fake], 1))
        loss_g = F.binary_cross_entropy_with_logits(pf, torch.ones_like(pf)) + 100 * F.l1_loss(
            fake, B
        )
        loss_g.backward()
        opt_g.step()
        if (i + 1) % block == 0:
            _sync(device)
            t1 = time.perf_counter()
            times.append(t1 - t0)
            t0 = t1
    return batch * block / statistics.median(times[warm_blocks:])


class SyntheticPairs(torch.utils.data.Dataset):
    """Fixed random uint8 pairs, decoded once: isolates the loop from I/O."""

    def __init__(self, size: int, n: int = 64) -> None:
        g = torch.Generator().manual_seed(0)
        self.x = torch.randint(0, 256, (n, 6, size, size), dtype=torch.uint8, generator=g)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.x[i]


class SyntheticPix2Pix(Task):
    """pix2pix on synthetic pairs, through the real loop (bench only)."""

    name = "bench_pix2pix"

    def train_dataset(self):
        return SyntheticPairs(self.cfg.data.patch_size)

    def make_batch(self, raw, generator):
        x = raw.float() / 127.5 - 1
        return {"input": x[:, :3], "target": x[:, 3:]}

    def forward(self, nets, batch):
        return {"fake": nets["G"](batch["input"])}

    def d_loss(self, nets, batch, out, step):
        return conditional_d_loss(
            nets["D"], batch["input"], batch["target"], out["fake"], self.cfg.loss, step
        )

    def g_loss(self, nets, batch, out, step, gan_on):
        return conditional_g_loss(
            nets["D"], batch["input"], batch["target"], out["fake"], self.cfg.loss, gan_on
        )

    def samples(self, batch, out):
        return out["fake"][:1].add(1).div(2)


#: Registered by main() (not at import: task_class re-imports this module by name, and a second
#: registration of the same task is refused).
BENCH_TASK = TaskSpec(
    name="bench_pix2pix", cls="train_throughput:SyntheticPix2Pix", networks=("unet", "patch")
)


def restore_rate(
    task: str,
    size: int,
    batch: int,
    steps: int,
    device: str,
    overrides: dict[str, dict[str, Any]],
    data: str,
    block: int = 1,
    warm_blocks: int = 1,
    workers: int = 0,
) -> float:
    """Images/s of ``restore.train.train``: median ``it_s`` of its log rows after warm-up."""
    with tempfile.TemporaryDirectory() as tmp:
        raw: dict[str, Any] = {
            "name": "bench",
            "task": task,
            "task_args": {"residual": False, "val_images": 1} if task == "enhance" else {},
            "model": {"generator_args": {}, "discriminator_args": {}},
            "loss": {"adversarial": "vanilla", "pixel_weight": 100.0},
            "data": {
                "train": data,
                "patch_size": size,
                "batch_size": batch,
                "cache": True,
                "workers": workers,
            },
            "optim": {},
            "train": bench_train_options(steps, block, tmp),
        }
        raw = copy.deepcopy(raw)
        for section, kv in overrides.items():
            raw[section].update(kv)
        if raw["train"].get("compile"):
            torch._dynamo.reset()  # compile each run afresh: no graphs of other sizes or modes
        train(from_dict(Config, raw), device=device)
        with open(Path(tmp) / "bench" / "log.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        rates = [float(r["it_s"]) for r in rows[warm_blocks:] if r.get("it_s")]
        return batch * statistics.median(rates)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=12, help="steps per run, warm-up included")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--variants", nargs="+", default=["default"], help=", ".join(VARIANTS))
    ap.add_argument("--rounds", type=int, default=1, help="reference + variants, this many times")
    ap.add_argument(
        "--block", type=int, default=0, help="steps per timing block (0: 1 on the CPU, 10 on CUDA)"
    )
    ap.add_argument(
        "--warmup", type=int, default=3, help="untimed steps (compile variants: +1 block)"
    )
    ap.add_argument("--real", default="default", help="variant for the real-image row, or none")
    ap.add_argument(
        "--workers", type=int, default=-1, help="real row's data.workers (-1: 0 CPU, 4 CUDA)"
    )
    ap.add_argument("--compile", action="store_true", help="same as --variants compile")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train" / "T91"))
    args = ap.parse_args()
    device = torch.device(
        "cuda"
        if (args.device == "auto" and torch.cuda.is_available())
        else ("cpu" if args.device == "auto" else args.device)
    )
    if args.compile:
        args.variants = ["compile"]
    if args.clock == "cpu":
        if device.type != "cpu":
            raise SystemExit("--clock cpu times CPU runs only")
        threads = torch.get_num_threads()
        # the reference and restore.train both read time.perf_counter at call time
        time.perf_counter = lambda: time.process_time() / threads  # type: ignore[assignment]
    for v in args.variants + ([] if args.real == "none" else [args.real]):
        variant_overrides(v)  # fail early on a typo
    block = args.block or (10 if device.type == "cuda" else 1)
    workers = args.workers if args.workers >= 0 else (4 if device.type == "cuda" else 0)
    warm = max(1, math.ceil(args.warmup / block))
    if args.steps < (warm + 2) * block:
        raise SystemExit(f"--steps {args.steps} too few: need >= {(warm + 2) * block}")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as pix2pix sets it (and restore's loop does)
    register_task(BENCH_TASK)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{cpu_name()}, {torch.get_num_threads()} threads"
    )
    print(f"device: {name}; size {args.size}; torch {torch.__version__}")
    print(
        f"steps {args.steps} (block {block}, warm-up blocks {warm}), rounds {args.rounds}, "
        f"{args.clock} clock"
    )
    print(f"load average at start: {os.getloadavg()}")
    rows = [(v, "bench_pix2pix") for v in args.variants]
    if args.real != "none":
        rows.append((args.real, "enhance"))
    print(f"{'batch':>5} | {'row':<32} | {'img/s':>8} | {'x ref':>6} | rounds (img/s)")
    best: dict[str, float] = {}
    ref1 = None
    for b in args.batches:
        ref_rates: list[float] = []
        rates: dict[str, list[float]] = {f"{t}:{v}": [] for v, t in rows}
        for r in range(args.rounds):
            ref_rates.append(reference_step_rate(args.size, b, args.steps, device, block, warm))
            _progress(f"batch {b} round {r}: reference {ref_rates[-1]:.3f} img/s")
            for v, t in rows:
                w = warm + (1 if "compile" in v or "cudagraphs" in v else 0)
                rates[f"{t}:{v}"].append(
                    restore_rate(
                        t,
                        args.size,
                        b,
                        args.steps,
                        str(device),
                        variant_overrides(v),
                        args.data,
                        block,
                        w,
                        workers if t == "enhance" else 0,
                    )
                )
                _progress(f"batch {b} round {r}: {t}:{v} {rates[t + ':' + v][-1]:.3f} img/s")
        ref = statistics.median(ref_rates)
        ref1 = ref if b == 1 else ref1
        print(f"{b:>5} | {'reference':<32} | {ref:>8.3f} | {1:>5.2f}x | {_fmt(ref_rates)}")
        for key, rs in rates.items():
            t, v = key.split(":", 1)
            label = v if t == "bench_pix2pix" else f"real:{v}"
            ratio = statistics.median(r / q for r, q in zip(rs, ref_rates))
            med = statistics.median(rs)
            print(f"{b:>5} | {label:<32} | {med:>8.3f} | {ratio:>5.2f}x | {_fmt(rs)}")
            if t == "bench_pix2pix":
                best[v] = max(best.get(v, 0.0), med)
            else:
                syn = statistics.median(rates.get(f"bench_pix2pix:{v}", [float("nan")]))
                print(f"{b:>5} | {'real/synthetic (' + v + ')':<32} | {med / syn:>8.0%} |")
    if ref1:
        print(f"reference batch-1 throughput: {ref1:.3f} img/s")
        for v, r in best.items():
            print(
                f"best of {v} over batches {args.batches}: {r:.3f} img/s = {r / ref1:.2f}x ref batch 1"
            )
    print(f"load average at end: {os.getloadavg()}")
    return 0


def _progress(msg: str) -> None:
    load = os.getloadavg()[0]
    print(f"  [{time.strftime('%H:%M:%S')} load {load:.1f}] {msg}", file=sys.stderr, flush=True)


def _fmt(xs: list[float]) -> str:
    return " ".join(f"{x:.3f}" for x in xs)


if __name__ == "__main__":
    raise SystemExit(main())
