"""Training throughput: the pix2pix reference step vs restore's loop, same networks, same device.

    python scripts/bench/train_throughput.py [--size 256] [--steps 30] [--batches 1 16] [--device auto]

Rows (images/s, median over timed steps after warm-up):
- ``reference``: the pix2pix training step as junyanz/pytorch-CycleGAN-and-pix2pix runs it
  (unet_256 + 70x70 PatchGAN, BatchNorm, vanilla GAN loss + 100 x L1, Adam 2e-4 / (0.5, 0.999),
  fp32, eager), on synthetic tensors already on the device.
- ``restore``: ``restore.train.train`` on the same networks and synthetic tensors (bf16 autocast,
  channels_last and fused Adam on CUDA; fp32 on the CPU), optionally ``--compile``.
- ``restore-real``: the same loop on real images read from disk (ImageFolder, flips and old-photo
  degradation on the device: the ``enhance`` task), to show the data path keeps up.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from restore.config import Config, from_dict  # noqa: E402
from restore.core import PatchDiscriminator, UNetGenerator  # noqa: E402
from restore.tasks import TASKS  # noqa: E402
from restore.tasks.base import Task, conditional_d_loss, conditional_g_loss  # noqa: E402
from restore.train import train  # noqa: E402


def reference_step_rate(size: int, batch: int, steps: int, device: torch.device) -> float:
    torch.manual_seed(0)
    G, D = UNetGenerator().to(device), PatchDiscriminator().to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    A = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    B = torch.rand(batch, 3, size, size, device=device) * 2 - 1
    times = []
    for i in range(steps):
        t0 = time.perf_counter()
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
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= min(3, steps // 3):
            times.append(time.perf_counter() - t0)
    return batch / statistics.median(times)


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


def restore_rate(
    task: str,
    size: int,
    batch: int,
    steps: int,
    device: str,
    compile_: bool,
    data: str,
    channels_last: bool,
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        warm = min(3, steps // 3)
        cfg = from_dict(
            Config,
            {
                "name": "bench",
                "task": task,
                "task_args": {"residual": False, "val_images": 1} if task == "enhance" else {},
                "model": {"generator_args": {}, "discriminator_args": {}},
                "loss": {"adversarial": "vanilla", "pixel_weight": 100.0},
                "data": {"train": data, "patch_size": size, "batch_size": batch, "cache": True},
                "train": {
                    "steps": steps,
                    "log_every": 1,
                    "sample_every": 10**9,
                    "val_every": 10**9,
                    "ckpt_every": 10**9,
                    "ema_decay": 0.0,
                    "out_dir": tmp,
                    "progress": False,
                    "channels_last": channels_last,
                    "compile": compile_,
                },
            },
        )
        train(cfg, device=device)
        rows = list(csv.DictReader(open(Path(tmp) / "bench" / "log.csv")))
        rates = [float(r["it_s"]) for r in rows[warm:] if r.get("it_s")]
        return batch * statistics.median(rates)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "train" / "T91"))
    args = ap.parse_args()
    device = torch.device(
        "cuda"
        if (args.device == "auto" and torch.cuda.is_available())
        else ("cpu" if args.device == "auto" else args.device)
    )
    TASKS["bench_pix2pix"] = "__main__:SyntheticPix2Pix"
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU x{torch.get_num_threads()} threads"
    )
    print(f"device: {name}; size {args.size}; torch {torch.__version__}")
    print(
        f"{'batch':>5} | {'reference img/s':>15} | {'restore img/s':>13} | {'ratio':>6} | {'restore-real img/s':>18} | {'real/synthetic':>14}"
    )
    ref1 = None
    for b in args.batches:
        ref = reference_step_rate(args.size, b, args.steps, device)
        ref1 = ref if b == 1 else ref1
        cl = device.type == "cuda"
        ours = restore_rate(
            "bench_pix2pix", args.size, b, args.steps, str(device), args.compile, args.data, cl
        )
        real = restore_rate(
            "enhance", args.size, b, args.steps, str(device), args.compile, args.data, cl
        )
        print(
            f"{b:>5} | {ref:>15.2f} | {ours:>13.2f} | {ours / ref:>5.2f}x | {real:>18.2f} | {real / ours:>13.0%}"
        )
    if ref1:
        print(f"reference batch-1 throughput: {ref1:.2f} img/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
