"""Checkpoints and exported weights of a training run.

Checkpoints are safetensors (networks, EMA, optimizer state, RNG states) plus JSON (config,
counters, optimizer hyper-parameters), written atomically by rank 0; ``checkpoints/latest.json`` is
renamed into place last, so a run killed at any point resumes from a complete checkpoint.
:func:`export_weights` writes the inference weights and their card (with the run's legs,
:func:`run_legs`) that :func:`restore.load` reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from restore.config import Config, to_dict
from restore.continuation import StartWeights, describe_hardware, prior_legs
from restore.core import checkpoint as ckpt
from restore.core.card import runtime as card_runtime
from restore.core.card import upgrade_card
from restore.errors import CheckpointError
from restore.tasks.base import Task

CHECKPOINT_FORMAT = 1


def unwrap(m: nn.Module) -> nn.Module:
    """The network inside a ``DistributedDataParallel`` wrapper (``m`` itself when unwrapped)."""
    return m.module if isinstance(m, nn.parallel.DistributedDataParallel) else m


def _checkpoint_tensors(
    nets, emas, opts, gen: torch.Generator
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    tensors: dict[str, Tensor] = {}
    rest: dict[str, Any] = {}
    for k, m in nets.items():
        tensors.update(ckpt.prefixed(f"net.{k}", unwrap(m).state_dict()))
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
            unwrap(m),
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


def run_legs(
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
