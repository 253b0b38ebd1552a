"""The one GAN training loop that every task uses.

Read it top to bottom: set-up (1-4), then each step (5a-5f). A task only supplies batches,
networks and the two loss halves (:class:`restore.tasks.base.Task`).

Checkpoints are safetensors (networks, EMA, optimizer state, RNG states) plus JSON (config,
counters, optimizer hyper-parameters), written atomically by rank 0; ``checkpoints/latest.json`` is
renamed into place last, so a run killed at any point resumes from a complete checkpoint. Resume is
exact: on the CPU, N steps + resume + N steps equals 2N uninterrupted steps bit for bit.

Under ``torchrun`` the same command trains with DDP: each rank draws its own slice of every global
batch, so the effective batch is ``data.batch_size * world_size``. Learning rates are used as given
(scale them yourself, e.g. linearly with the effective batch, when you change the world size).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from restore.config import Config, to_dict
from restore.continuation import StartWeights, describe_hardware, load_start_weights, prior_legs
from restore.core import checkpoint as ckpt
from restore.core.card import runtime as card_runtime
from restore.core.card import upgrade_card
from restore.core.ema import EMA
from restore.errors import CheckpointError, ConfigError, TrainingError
from restore.runtime import DistInfo, autocast, barrier, init_distributed, use_bf16
from restore.tasks import create_task
from restore.tasks.base import Task

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1


@dataclass
class TrainResult:
    """What a finished run left behind."""

    out_dir: Path
    step: int
    metrics: dict[str, float] = field(default_factory=dict)
    best: float | None = None
    weights: Path | None = None


# ---------------------------------------------------------------------------------------------
# Data order: a pure function of (seed, global sample number), so resume and DDP are exact.
# ---------------------------------------------------------------------------------------------


class _Keyed(Dataset):
    """Maps a global sample key ``epoch * n + index`` to ``dataset[index]`` for that epoch."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.n = len(dataset)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key: int) -> Any:
        epoch, index = divmod(key, self.n)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


class _StepBatches:
    """Batch sampler: step ``s`` of rank ``r`` gets global samples ``[(s*W + r)*B, ... + B)``.

    The global sample sequence is an endless concatenation of per-epoch permutations, each seeded
    by (seed, epoch).
    """

    def __init__(
        self, n: int, batch: int, seed: int, start_step: int, total_steps: int, info: DistInfo
    ) -> None:
        self.n, self.batch, self.seed = n, batch, seed
        self.start, self.total, self.info = start_step, total_steps, info
        self._perms: dict[int, Tensor] = {}

    def _perm(self, epoch: int) -> Tensor:
        if epoch not in self._perms:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perms = {epoch: torch.randperm(self.n, generator=g)}
        return self._perms[epoch]

    def __len__(self) -> int:
        return max(0, self.total - self.start)

    def __iter__(self) -> Iterator[list[int]]:
        w, r, b = self.info.world_size, self.info.rank, self.batch
        for s in range(self.start, self.total):
            first = (s * w + r) * b
            keys = []
            for k in range(first, first + b):
                epoch, pos = divmod(k, self.n)
                keys.append(epoch * self.n + int(self._perm(epoch)[pos]))
            yield keys


def _to_device(x: Any, device: torch.device) -> Any:
    if isinstance(x, Tensor):
        return x.to(device, non_blocking=True)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(v, device) for v in x)
    if isinstance(x, Mapping):
        return {k: _to_device(v, device) for k, v in x.items()}
    return x


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


def _unwrap(m: nn.Module) -> nn.Module:
    return m.module if isinstance(m, nn.parallel.DistributedDataParallel) else m


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


class _CsvLog:
    """``log.csv``: one row per logging interval (and one per validation), appended as it comes.

    The header is the union of the columns seen so far, in order of first appearance, so the file
    stays one plain CSV table that any reader parses. A row whose columns are all known is
    appended (flushed, not fsynced: a log, not a checkpoint); a row that brings new columns (the
    first one, the first validation row) rewrites the file once, atomically, under the wider
    header, with the earlier rows' new cells empty. On resume the rows after ``resume_step`` are
    dropped (the steps are redone) by one such rewrite; without resume the first row starts a new
    file.
    """

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        self.cols: list[str] = []  # the file's header; empty: the next row starts the file
        if resume_step is not None and path.is_file():
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                rows = [r for r in reader if self._step(r) <= resume_step]
                self._rewrite(list(reader.fieldnames or []), rows)

    def append(self, row: Mapping[str, float]) -> None:
        r = {k: (f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in row.items()}
        new = [k for k in r if k not in self.cols]
        if new:
            rows: list[dict[str, str]] = []
            if self.cols:
                with self.path.open(newline="") as f:
                    rows = list(csv.DictReader(f))
            self._rewrite(self.cols + new, [*rows, r])
            return
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.cols, restval="").writerow(r)

    @staticmethod
    def _step(row: Mapping[str, str | None]) -> float:
        """A row's step; a torn row (a run killed mid-append) counts as after any resume step."""
        try:
            return int(row.get("step") or "")
        except ValueError:
            return float("inf")

    def _rewrite(self, cols: list[str], rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, restval="")
        w.writeheader()
        w.writerows(rows)
        ckpt.atomic_write_bytes(self.path, buf.getvalue().encode())
        self.cols = cols


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def _checkpoint_tensors(
    nets, emas, opts, gen: torch.Generator
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    tensors: dict[str, Tensor] = {}
    rest: dict[str, Any] = {}
    for k, m in nets.items():
        tensors.update(ckpt.prefixed(f"net.{k}", _unwrap(m).state_dict()))
    for k, e in emas.items():
        tensors.update(ckpt.prefixed(f"ema.{k}", e.state_dict()))
    for k, opt in opts.items():
        t, r = ckpt.optimizer_to_tensors(opt, f"opt.{k}")
        tensors.update(t)
        rest[f"opt.{k}"] = r
    tensors["rng.batch"] = gen.get_state()
    tensors["rng.torch"] = torch.get_rng_state()
    return tensors, rest


def save_checkpoint(
    out_dir: Path, step: int, cfg: Config, nets, emas, opts, gen, extra: Mapping[str, Any]
) -> Path:
    """Write ``checkpoints/step_XXXXXXX.{safetensors,json}`` then point ``latest.json`` at it."""
    d = out_dir / "checkpoints"
    stem = f"step_{step:07d}"
    tensors, rest = _checkpoint_tensors(nets, emas, opts, gen)
    ckpt.save_tensors(d / f"{stem}.safetensors", tensors, {"format": str(CHECKPOINT_FORMAT)})
    meta = {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        "config": to_dict(cfg),
        "optim": rest,
        **extra,
    }
    ckpt.atomic_write_json(d / f"{stem}.json", meta)
    ckpt.atomic_write_json(d / "latest.json", {"checkpoint": stem, "step": step})
    # prune old ones (never the newest; "best" weights live elsewhere)
    keep = cfg.train.keep_checkpoints
    stems = sorted(p.stem for p in d.glob("step_*.json"))
    for old in stems[:-keep] if keep > 0 else []:
        for suffix in (".safetensors", ".json"):
            (d / f"{old}{suffix}").unlink(missing_ok=True)
    return d / f"{stem}.safetensors"


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder (its latest checkpoint) or a checkpoint ``.safetensors`` file -> the file.

    Raises:
        CheckpointError: nothing resumable there, or a pickle file.
    """
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"no checkpoint to resume at {p}: no such file or folder")
    if p.is_dir():
        latest = (
            p / "checkpoints" / "latest.json" if (p / "checkpoints").is_dir() else p / "latest.json"
        )
        if not latest.is_file():
            raise CheckpointError(f"no checkpoint to resume in {p} (expected {latest})")
        stem = json.loads(latest.read_text())["checkpoint"]
        return latest.parent / f"{stem}.safetensors"
    return ckpt.check_safetensors_file(p)


def load_checkpoint(path: Path, nets, emas, opts, gen: torch.Generator) -> dict[str, Any]:
    """Restore networks, EMA, optimizers and RNG states in place; return the JSON metadata."""
    tensors, _ = ckpt.load_tensors(path)
    meta_path = path.with_suffix(".json")
    if not meta_path.is_file():
        raise CheckpointError(f"checkpoint metadata missing: {meta_path}")
    meta = json.loads(meta_path.read_text())
    for k, m in nets.items():
        ckpt.load_into(
            _unwrap(m),
            ckpt.unprefixed(f"net.{k}", tensors),
            source=f"checkpoint {path.name} net.{k}",
        )
    for k, e in emas.items():
        ema_t = ckpt.unprefixed(f"ema.{k}", tensors)
        if ema_t:
            e.load_state_dict(ema_t)
    for k, opt in opts.items():
        if f"opt.{k}" in meta["optim"]:
            ckpt.optimizer_from_tensors(opt, f"opt.{k}", tensors, meta["optim"][f"opt.{k}"])
    gen.set_state(tensors["rng.batch"])
    torch.set_rng_state(tensors["rng.torch"])
    return meta


def export_weights(
    path: Path,
    task: Task,
    cfg: Config,
    modules: Mapping[str, nn.Module],
    step: int,
    metrics: Mapping[str, float],
    legs: list[dict[str, Any]] | None = None,
) -> Path:
    """Inference weights (``<path>.safetensors`` + ``<path>.json``) that :func:`restore.load` reads.

    The card is in the current format (:mod:`restore.core.card`): identity, the runtime section,
    then ``training`` (``legs``, see :mod:`restore.continuation`) and the validation ``metrics``."""
    from restore.core.card import CARD_FORMAT

    tensors: dict[str, Tensor] = {}
    for k, m in modules.items():
        tensors.update(ckpt.prefixed(k, m.state_dict()))
    st = path.with_suffix(".safetensors")
    ckpt.save_tensors(st, tensors, {"format": "restore-weights-1"})
    card = {
        "name": cfg.name,
        "task": cfg.task,
        "kind": "model",
        "runtime": {
            "format": CARD_FORMAT,
            "generator": cfg.model.generator,
            "generator_args": cfg.model.generator_args,
            "modules": list(modules),
            "task_args": cfg.task_args,
            "inference": task.inference_config(),
            "sha256": ckpt.sha256_file(st),
        },
        "training": {"steps": step, "config": to_dict(cfg), **({"legs": legs} if legs else {})},
        "metrics": dict(metrics),
    }
    ckpt.atomic_write_json(path.with_suffix(".json"), card)
    return st


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
    last_ckpt: Path | None = None
    if info.enabled:
        nets = {
            k: nn.parallel.DistributedDataParallel(
                m, device_ids=[dev.index] if dev.type == "cuda" else None
            )
            for k, m in nets.items()
        }
    nets_for_g = {
        k: (_unwrap(m) if k in d_keys else m) for k, m in nets.items()
    }  # D frozen in the G step

    # 4. data ----------------------------------------------------------------------------------
    dataset = _Keyed(task.train_dataset())
    sampler = _StepBatches(len(dataset), cfg.data.batch_size, tc.seed, start, tc.steps, info)
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
        _CsvLog(out_dir / "log.csv", start if resume is not None else None)
        if info.is_main
        else None
    )
    tb = _tensorboard(out_dir) if (tc.tensorboard and info.is_main) else None
    bar = _progress(tc.steps, start, enabled=tc.progress and info.is_main)

    # 5. steps ----------------------------------------------------------------------------------
    # a D re-initialised under a trained G gets D-only steps when the GAN starts (at
    # train.gan_start; default: 10% of the leg, <= 200), so it does not push the G around at first
    d_only = range(0)
    if d_keys:
        n_d_only = tc.d_warmup_steps or (min(200, tc.steps // 10) if init_from else 0)
        d_only = range(tc.gan_start, tc.gan_start + n_d_only)
    wall0 = time.perf_counter()
    sums: dict[str, Tensor] = {}
    n_logged, t0 = 0, time.perf_counter()
    first_bad = torch.full((), -1, dtype=torch.long, device=dev)
    metrics: dict[str, float] = {}
    cuda_graphs = tc.compile and tc.compile_mode == "reduce-overhead" and dev.type == "cuda"
    for step, raw in zip(range(start, tc.steps), loader):
        if cuda_graphs:  # the last step's graph outputs (``out``, logits) may be overwritten now
            torch.compiler.cudagraph_mark_step_begin()
        for group, base in (("G", cfg.optim.lr_g), ("D", cfg.optim.lr_d)):
            if group in opts:
                for pg in opts[group].param_groups:
                    pg["lr"] = base * lr_factor(cfg, step)
        batch = task.make_batch(_to_device(raw, dev), gen)
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
                e.update(_unwrap(nets[k]))

        # 5e. health: remember the first non-finite step without a host sync
        finite = torch.isfinite(g_loss.detach()) & (
            torch.isfinite(d_loss.detach()) if gan_on else True
        )
        first_bad = torch.where((first_bad < 0) & ~finite, step, first_bad)
        for k, v in logs.items():  # (no zeros tensor per key and step: launches count on CUDA)
            sums[k] = sums[k] + v.float() if k in sums else v.float()
        n_logged += 1
        done = step + 1
        boundary = (
            done % tc.log_every == 0
            or done == tc.steps
            or done % tc.ckpt_every == 0
            or dev.type == "cpu"
        )
        if boundary and int(first_bad) >= 0:
            where = f"; resume from the last good checkpoint {last_ckpt}" if last_ckpt else ""
            raise TrainingError(
                f"non-finite loss at step {int(first_bad)} of run {cfg.name}{where}. "
                "Lower optim.lr_g / optim.lr_d, set optim.grad_clip, or check the data."
            )

        # 5f. logging, samples, validation, checkpoints (rank 0 writes)
        if done % tc.log_every == 0 or done == tc.steps:
            row = {k: float(v) / n_logged for k, v in sums.items()}
            if info.enabled:
                row = _mean_across_ranks(row, dev)
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
        if info.is_main and (done % tc.sample_every == 0 or done == tc.steps):
            _save_samples(out_dir / "samples" / f"step_{done:07d}.png", task.samples(batch, out))
        if done % tc.val_every == 0 or done == tc.steps:
            metrics = _validate(task, nets, emas, g_keys) if info.is_main else {}
            if metrics and info.is_main:
                log.info("step %d validation: %s", done, metrics)
                if csv_log is not None:
                    csv_log.append({"step": done, **{f"val_{k}": v for k, v in metrics.items()}})
                best = _track_best(
                    task, cfg, metrics, best, out_dir, done, _eval_modules(nets, emas, g_keys)
                )
        if done % tc.ckpt_every == 0 or done == tc.steps:
            if info.is_main:
                last_ckpt = save_checkpoint(
                    out_dir, done, cfg, nets, emas, opts, gen, {"best": best}
                )
            barrier(info)
        bar.update(1)
    bar.close()

    # 6. the inference weights of the final generator (EMA when on)
    weights = None
    if info.is_main:
        legs = _legs(cfg, init_from, resume, time.perf_counter() - wall0, dev, command)
        weights = export_weights(
            out_dir / "model", task, cfg, _eval_modules(nets, emas, g_keys), tc.steps, metrics, legs
        )
    barrier(info)
    torch.backends.cudnn.benchmark = cudnn_benchmark
    return TrainResult(out_dir=out_dir, step=tc.steps, metrics=metrics, best=best, weights=weights)


def _legs(
    cfg: Config,
    init_from: StartWeights | None,
    resume: str | Path | None,
    seconds: float,
    dev: torch.device,
    command: str | None,
) -> list[dict[str, Any]]:
    """The card's legs: the start weights' legs (none for a scratch run) plus this run."""
    legs = prior_legs(init_from.card) if init_from is not None else []
    source = "scratch"
    if init_from is not None:
        sha = card_runtime(upgrade_card(init_from.card)).get("sha256") or "?"
        source = f"{init_from.label} (sha256 {str(sha)[:12]})"
    legs.append(
        {
            "leg": len(legs) + 1,
            "from": source,
            "recipe": cfg.name,
            "command": command,
            "steps": cfg.train.steps,
            "seconds": round(seconds, 1) if resume is None else None,  # a resumed leg: unknown
            "hardware": describe_hardware(dev),
            "data": cfg.data.train,
            "metric": None,  # filled in when the leg ships (restore relay)
        }
    )
    return legs


def _clip(opt: torch.optim.Optimizer, max_norm: float) -> None:
    if max_norm > 0:
        params = [p for g in opt.param_groups for p in g["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, max_norm)


def _eval_modules(nets, emas, g_keys) -> dict[str, nn.Module]:
    return {k: (emas[k].module if k in emas else _unwrap(nets[k])) for k in g_keys}


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


def _mean_across_ranks(row: dict[str, float], dev: torch.device) -> dict[str, float]:
    keys = sorted(row)
    t = torch.tensor([row[k] for k in keys], device=dev, dtype=torch.float64)
    torch.distributed.all_reduce(t)
    t /= torch.distributed.get_world_size()
    return dict(zip(keys, t.tolist()))


def _save_samples(path: Path, images: Tensor) -> None:
    from torchvision.utils import make_grid

    grid = make_grid(
        images.detach().float().clamp(0, 1).cpu(), nrow=max(1, min(8, images.shape[0])), padding=2
    )
    arr = (grid.permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    ckpt.atomic_write_bytes(path, buf.getvalue())


def _tensorboard(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise ConfigError(
            "train.tensorboard: true needs the tensorboard package (pip install tensorboard)"
        ) from e
    return SummaryWriter(str(out_dir / "tb"))


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix(self, d: Mapping[str, str]) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, initial: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="step",
        dynamic_ncols=True,
        disable=os.environ.get("RESTORE_NO_PROGRESS") == "1",
    )
