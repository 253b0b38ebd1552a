"""The one GAN training loop that every task uses.

Read it top to bottom: set-up (1-4), then each step (5a-5f). A task only supplies batches,
networks and the two loss halves (:class:`restore.tasks.base.Task`).

Checkpoints (:mod:`restore.train_checkpoint`) are written atomically by rank 0, so a run killed at
any point resumes from a complete checkpoint. Resume is exact: on the CPU, N steps + resume + N
steps equals 2N uninterrupted steps bit for bit. The data order (:mod:`restore.train_data`) is a
pure function of (seed, global sample number); the run's log, samples and progress bar are
:mod:`restore.train_log`.

Under ``torchrun`` the same command trains with DDP: each rank draws its own slice of every global
batch, so the effective batch is ``data.batch_size * world_size``. Learning rates are used as given
(scale them yourself, e.g. linearly with the effective batch, when you change the world size).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from restore.config import Config, to_dict
from restore.continuation import StartWeights, load_start_weights
from restore.core import checkpoint as ckpt
from restore.core.ema import EMA
from restore.errors import TrainingError
from restore.runtime import autocast, barrier, init_distributed, use_bf16
from restore.tasks import create_task
from restore.tasks.base import Batch, Task, echo_view
from restore.train_checkpoint import (
    export_weights,
    load_checkpoint,
    resolve_checkpoint,
    run_legs,
    save_checkpoint,
    unwrap,
)
from restore.train_clock import Clock, keep_to_clock, resumed_length
from restore.train_data import KeyedDataset, StepBatches, to_device
from restore.train_log import CsvLog, mean_across_ranks, progress, save_samples, tensorboard

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a finished run left behind."""

    out_dir: Path
    step: int
    metrics: dict[str, float] = field(default_factory=dict)
    best: float | None = None
    weights: Path | None = None


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def lr_factor(cfg: Config, step: int) -> float:
    """Multiplier of the base learning rates at ``step`` (warm-up, then the schedule)."""
    o = cfg.optim
    if o.warmup_steps and step < o.warmup_steps:
        return (step + 1) / o.warmup_steps
    t = (step - o.warmup_steps) / max(1, cfg.train.steps - o.warmup_steps)
    if o.schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    if o.schedule == "linear":
        return max(0.0, 1.0 - t)
    return 1.0


def _set_requires_grad(modules: list[nn.Module], flag: bool) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(flag)


def _make_adam(
    params: list[nn.Parameter], lr: float, cfg: Config, device: torch.device
) -> torch.optim.Optimizer:
    """Adam as ``optim.adam_impl`` says: ``auto`` is fused on CUDA and the CPU, torch's default
    elsewhere (fused: one pass over each parameter instead of one per Adam operation; measured on
    the CPU in scripts/bench/train_throughput.py)."""
    kw: dict[str, Any] = {
        "lr": lr,
        "betas": cfg.optim.betas,
        "weight_decay": cfg.optim.weight_decay,
    }
    impl = cfg.optim.adam_impl
    if impl == "fused" or (impl == "auto" and device.type in ("cuda", "cpu")):
        kw["fused"] = True
    elif impl == "foreach":
        kw["foreach"] = True
    elif impl == "for_loop":
        kw["foreach"] = False
    return torch.optim.Adam(params, **kw)


# ---------------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------------


def train(
    cfg: Config,
    *,
    resume: str | Path | None = None,
    device: str | None = None,
    init_from: StartWeights | None = None,
    command: str | None = None,
) -> TrainResult:
    """Train ``cfg`` end to end (or continue from ``resume``); return where the results are.

    Args:
        cfg: the recipe.
        resume: a run folder or checkpoint file to continue from (same run, exact).
        device: ``cpu``, ``cuda``, ``cuda:N``; default CUDA when available.
        init_from: start the generator(s) from these weights (a new leg: fresh optimiser, the
            recipe's warm-up, a fresh D with ``train.d_warmup_steps`` D-only steps). The exported
            card lists the start weights' legs plus this one.
        command: the command line, recorded in this leg of the card.

    Raises:
        ConfigError: a bad recipe. CheckpointError: an unusable resume point. TrainingError: a
            non-finite loss (the message names the step and the last good checkpoint).
    """
    # 1. where we run -----------------------------------------------------------------------
    info = init_distributed(device)
    dev = info.device
    bf16 = use_bf16(dev, cfg.train.precision)
    if bf16 and dev.type != "cuda":
        log.info("bf16 autocast on %s: fast with AMX (oneDNN), slow without it", dev)
    cudnn_benchmark = torch.backends.cudnn.benchmark  # put back when the run ends
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop sizes: let cuDNN pick its kernels once
    out_dir = Path(cfg.train.out_dir) / cfg.name
    tc = cfg.train
    torch.manual_seed(tc.seed + info.rank)
    gen = torch.Generator(dev).manual_seed(tc.seed + info.rank)

    # 2. task, networks, optimizers, EMA ----------------------------------------------------------
    task = create_task(cfg)
    nets = task.build_networks()
    if init_from is not None:
        loaded = load_start_weights(init_from, cfg, nets)
        if info.is_main:
            log.info("generator(s) %s start from %s", loaded, init_from.label)
    for m in nets.values():
        m.to(dev)
        if tc.channels_last:
            m.to(memory_format=torch.channels_last)
        if tc.compile:  # in place: parameter names (and checkpoints) stay the same
            m.compile(mode=tc.compile_mode)
        m.train()
    g_keys = [k for k in task.generator_keys if k in nets]
    d_keys = [k for k in task.discriminator_keys if k in nets]
    opts: dict[str, torch.optim.Optimizer] = {
        "G": _make_adam([p for k in g_keys for p in nets[k].parameters()], cfg.optim.lr_g, cfg, dev)
    }
    if d_keys:
        opts["D"] = _make_adam(
            [p for k in d_keys for p in nets[k].parameters()], cfg.optim.lr_d, cfg, dev
        )
    emas = {k: EMA(nets[k], decay=tc.ema_decay) for k in g_keys} if tc.ema_decay > 0 else {}

    # 3. resume -----------------------------------------------------------------------------------
    start, best = 0, None
    if resume is not None:
        path = resolve_checkpoint(resume)
        meta = load_checkpoint(path, nets, emas, opts, gen)
        start, best = int(meta["step"]), meta.get("best")
        if info.is_main:
            log.info("resumed from %s at step %d", path, start)
        cfg = resumed_length(cfg, meta)
        tc = cfg.train
    last_ckpt: Path | None = None
    if info.enabled:
        nets = {
            k: nn.parallel.DistributedDataParallel(
                m, device_ids=[dev.index] if dev.type == "cuda" else None
            )
            for k, m in nets.items()
        }
    nets_for_g = {
        k: (unwrap(m) if k in d_keys else m) for k, m in nets.items()
    }  # D frozen in the G step

    # 4. data ----------------------------------------------------------------------------------
    dataset = KeyedDataset(task.train_dataset())
    sampler = StepBatches(len(dataset), cfg.data.batch_size, tc.seed, start, tc.steps, info)
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=cfg.data.workers,
        pin_memory=dev.type == "cuda",
        persistent_workers=cfg.data.workers > 0,
        generator=torch.Generator().manual_seed(
            tc.seed
        ),  # keeps the global RNG (resumed exactly) untouched
    )
    if info.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        for stale in out_dir.rglob(".*.tmp"):  # half-written files of a run killed mid-write
            stale.unlink(missing_ok=True)
        ckpt.atomic_write_json(out_dir / "config.json", to_dict(cfg))
        if init_from is not None:  # a resumed leg still knows where it started
            ckpt.atomic_write_json(
                out_dir / "start.json", {"label": init_from.label, "card": dict(init_from.card)}
            )
    if init_from is None and resume is not None and (out_dir / "start.json").is_file():
        s0 = json.loads((out_dir / "start.json").read_text())
        init_from = StartWeights(path=out_dir / "start.json", card=s0["card"], label=s0["label"])
    csv_log = (
        CsvLog(out_dir / "log.csv", start if resume is not None else None) if info.is_main else None
    )
    tb = tensorboard(out_dir) if (tc.tensorboard and info.is_main) else None
    bar = progress(tc.steps, start, enabled=tc.progress and info.is_main)

    # 5. steps ----------------------------------------------------------------------------------
    # a D re-initialised under a trained G gets D-only steps when the GAN starts (at
    # train.gan_start; default: 10% of the leg, <= 200), so it does not push the G around at first
    d_only = range(0)
    if d_keys:
        n_d_only = tc.d_warmup_steps or (min(200, tc.steps // 10) if init_from else 0)
        d_only = range(tc.gan_start, tc.gan_start + n_d_only)
    wall0 = time.perf_counter()
    clock = Clock(tc.max_seconds, cfg.optim.warmup_steps, start) if tc.max_seconds > 0 else None
    sums: dict[str, Tensor] = {}
    n_logged, t0 = 0, time.perf_counter()
    first_bad = torch.full((), -1, dtype=torch.long, device=dev)
    made: Batch | None = None  # the last batch make_batch made (train.echo reuses it)
    metrics: dict[str, float] = {}
    cuda_graphs = tc.compile and tc.compile_mode == "reduce-overhead" and dev.type == "cuda"
    for step, raw in zip(range(start, tc.steps), loader):
        if cuda_graphs:  # the last step's graph outputs (``out``, logits) may be overwritten now
            torch.compiler.cudagraph_mark_step_begin()
        for group, base in (("G", cfg.optim.lr_g), ("D", cfg.optim.lr_d)):
            if group in opts:
                for pg in opts[group].param_groups:
                    pg["lr"] = base * lr_factor(cfg, step)
        if made is None or step % tc.echo == 0:
            made = task.make_batch(to_device(raw, dev), gen)
            batch = made
        else:  # data echoing (train.echo): the last made batch again, in another mirror view
            batch = echo_view(made, gen, task.echo_views)
        gan_on = bool(d_keys) and step >= tc.gan_start

        # 5a. generator forward, once per step
        with autocast(dev, bf16):
            out = task.forward(nets, batch)

        # 5b. D step: real vs detached fake
        logs: dict[str, Tensor] = {}
        if gan_on:
            _set_requires_grad([nets[k] for k in d_keys], True)
            opts["D"].zero_grad(set_to_none=True)
            with autocast(dev, bf16):
                d_loss, d_logs = task.d_loss(
                    nets, batch, {k: v.detach() for k, v in out.items()}, step
                )
            d_loss.backward()
            _clip(opts["D"], cfg.optim.grad_clip)
            opts["D"].step()
            logs.update(d_logs)
            _set_requires_grad([nets[k] for k in d_keys], False)

        # 5c. G step: pixel + adversarial through the frozen D (not during a D-only warm-up)
        opts["G"].zero_grad(set_to_none=True)
        with autocast(dev, bf16):
            g_loss, g_logs = task.g_loss(nets_for_g, batch, out, step, gan_on)
        if step not in d_only:
            g_loss.backward()
            _clip(opts["G"], cfg.optim.grad_clip)
            opts["G"].step()
        logs.update(g_logs)

        # 5d. EMA of the generator(s)
        if step not in d_only:
            for k, e in emas.items():
                e.update(unwrap(nets[k]))

        # 5e. health: remember the first non-finite step without a host sync
        finite = torch.isfinite(g_loss.detach()) & (
            torch.isfinite(d_loss.detach()) if gan_on else True
        )
        first_bad = torch.where((first_bad < 0) & ~finite, step, first_bad)
        for k, v in logs.items():  # (no zeros tensor per key and step: launches count on CUDA)
            sums[k] = sums[k] + v.float() if k in sums else v.float()
        n_logged += 1
        done = step + 1
        if clock is not None:  # train.max_seconds: re-plan the steps once, stop at the budget
            cfg, command = keep_to_clock(clock, cfg, done, d_only, info, out_dir, command)
            tc = cfg.train
        last = done >= tc.steps
        boundary = (
            done % tc.log_every == 0 or last or done % tc.ckpt_every == 0 or dev.type == "cpu"
        )
        if boundary and int(first_bad) >= 0:
            where = f"; resume from the last good checkpoint {last_ckpt}" if last_ckpt else ""
            raise TrainingError(
                f"non-finite loss at step {int(first_bad)} of run {cfg.name}{where}. "
                "Lower optim.lr_g / optim.lr_d, set optim.grad_clip, or check the data."
            )

        # 5f. logging, samples, validation, checkpoints (rank 0 writes)
        if done % tc.log_every == 0 or last:
            row = {k: float(v) / n_logged for k, v in sums.items()}
            if info.enabled:
                row = mean_across_ranks(row, dev)
            dt = time.perf_counter() - t0
            row = {
                "step": done,
                "lr_g": opts["G"].param_groups[0]["lr"],
                "it_s": n_logged / dt,
                **row,
            }
            sums, n_logged, t0 = {}, 0, time.perf_counter()
            if csv_log is not None:
                csv_log.append(row)
            if tb is not None:
                for k, v in row.items():
                    if k != "step":
                        tb.add_scalar(k, v, done)
            bar.set_postfix(
                {k: f"{v:.4g}" for k, v in row.items() if k not in ("step", "lr_g", "it_s")}
            )
        if info.is_main and (done % tc.sample_every == 0 or last):
            save_samples(out_dir / "samples" / f"step_{done:07d}.png", task.samples(batch, out))
        if done % tc.val_every == 0 or last:
            metrics = _validate(task, nets, emas, g_keys) if info.is_main else {}
            if metrics and info.is_main:
                log.info("step %d validation: %s", done, metrics)
                if csv_log is not None:
                    csv_log.append({"step": done, **{f"val_{k}": v for k, v in metrics.items()}})
                best = _track_best(
                    task, cfg, metrics, best, out_dir, done, _eval_modules(nets, emas, g_keys)
                )
        if done % tc.ckpt_every == 0 or last:
            if info.is_main:
                last_ckpt = save_checkpoint(
                    out_dir, done, cfg, nets, emas, opts, gen, {"best": best}
                )
            barrier(info)
        bar.update(1)
        if last:
            break
    bar.close()

    # 6. the inference weights of the final generator (EMA when on)
    weights = None
    if info.is_main:
        legs = run_legs(cfg, init_from, resume, time.perf_counter() - wall0, dev, command)
        weights = export_weights(
            out_dir / "model", task, cfg, _eval_modules(nets, emas, g_keys), tc.steps, metrics, legs
        )
    barrier(info)
    torch.backends.cudnn.benchmark = cudnn_benchmark
    return TrainResult(out_dir=out_dir, step=tc.steps, metrics=metrics, best=best, weights=weights)


def _clip(opt: torch.optim.Optimizer, max_norm: float) -> None:
    if max_norm > 0:
        params = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, max_norm)


def _eval_modules(nets, emas, g_keys) -> dict[str, nn.Module]:
    return {k: (emas[k].module if k in emas else unwrap(nets[k])) for k in g_keys}


def _validate(task: Task, nets, emas, g_keys) -> dict[str, float]:
    modules = _eval_modules(nets, emas, g_keys)
    was = {k: m.training for k, m in modules.items()}
    for m in modules.values():
        m.eval()
    try:
        with torch.no_grad():
            return {k: float(v) for k, v in task.validate(modules).items()}
    finally:
        for k, m in modules.items():
            m.train(was[k])


def _track_best(
    task: Task, cfg: Config, metrics, best, out_dir: Path, step: int, modules
) -> float | None:
    if task.best_metric is None or task.best_metric[0] not in metrics:
        return best
    name, mode = task.best_metric
    value = metrics[name]
    better = best is None or (value > best if mode == "max" else value < best)
    if better:
        export_weights(out_dir / "best", task, cfg, modules, step, metrics)
        return value
    return best
