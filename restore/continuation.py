"""Continue training from shipped (or any exported) weights: the start point of a relay leg.

A model's training state between sessions is its weights plus its card's *legs*: one record per
training leg (steps, wall time, hardware, data, recipe, the weights it started from, and the metric
after it, filled in when the leg ships). ``restore train RECIPE --from NAME`` loads the generator(s)
of ``NAME`` into a fresh run: the optimiser state is new and the recipe's warm-up runs again, and a
GAN's discriminator starts from its initialisation with ``train.d_warmup_steps`` D-only steps when
the GAN starts (so a fresh D does not push the trained G around while it learns what real is).

The resolution of a shipped *name* to files lives in :mod:`restore.models` (above this layer); the
loop receives a :class:`StartWeights`.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from restore.config import Config
from restore.core import checkpoint as ckpt
from restore.core.card import module_specs, runtime, upgrade_card
from restore.errors import CheckpointError


@dataclass(frozen=True)
class StartWeights:
    """Exported weights to start a run from.

    Attributes:
        path: the ``.safetensors`` file (generator modules, prefixed by module key).
        card: its model card (``restore train`` writes one beside every export; a card in the
            format before :mod:`restore.core.card`'s is read too).
        label: how the user named it (a shipped name, or a path), kept in the card.
    """

    path: Path
    card: Mapping[str, Any]
    label: str


def check_architecture(start: StartWeights, cfg: Config) -> None:
    """Refuse weights whose task or generator differs from the recipe's (a clear message first,
    instead of a wall of shape mismatches).

    Raises:
        CheckpointError: another task, network or network arguments.
    """
    card = upgrade_card(start.card)
    if card.get("task") != cfg.task:
        raise CheckpointError(
            f"--from {start.label}: it is a {card.get('task')!r} model, the recipe trains {cfg.task!r}"
        )
    rt = runtime(card)
    if "networks" in rt:  # multi-network cards are checked tensor by tensor in load_into
        return
    gen, args = rt.get("generator"), dict(rt.get("generator_args") or {})
    new_gen, new_args = cfg.model.generator, cfg.model.generator_args
    if gen != new_gen or (
        args != dict(new_args)
        and not grows_blocks(gen, args, new_gen, new_args)
        and not other_scale(gen, args, new_gen, new_args)
    ):
        raise CheckpointError(
            f"--from {start.label}: its generator is {gen} {args}, the recipe builds "
            f"{cfg.model.generator} {dict(cfg.model.generator_args)}; continue with the recipe that "
            "trained it (its card's training.config) or train this recipe from scratch"
        )


def _unet_blocks(args: Mapping[str, Any], level: int) -> int:
    """Residual blocks at ``level`` of a U-Net built with ``args`` (UNetGenerator's rule)."""
    return int(args.get("blocks", 0)) if level >= int(args.get("blocks_from", 0)) else 0


def grows_blocks(
    gen: str | None, args: Mapping[str, Any], new_gen: str, new_args: Mapping[str, Any]
) -> bool:
    """Whether the U-Net ``new_gen(**new_args)`` is ``gen(**args)`` with residual blocks added
    (``blocks``, ``blocks_from``) and nothing else changed: every level keeps its blocks and may
    gain some. New blocks start as the identity (:class:`restore.core.generator.ResBlock`), so
    the grown network starts as the same function and continues from the old one's weights.

    Example:
        >>> new = {"depth": 5, "blocks": 2, "blocks_from": 4}
        >>> grows_blocks("unet", {"depth": 5}, "unet", new)
        True
        >>> grows_blocks("unet", {"depth": 5, "blocks": 1}, "unet", new)  # levels 0-3 lose one
        False
    """
    new = dict(new_args)
    if gen != "unet" or new_gen != "unet":
        return False
    rest = ("blocks", "blocks_from")
    if {k: v for k, v in args.items() if k not in rest} != {
        k: v for k, v in new.items() if k not in rest
    }:
        return False
    depth = int(new.get("depth", 8))
    return all(_unet_blocks(new, i) >= _unet_blocks(args, i) for i in range(depth))


def other_scale(
    gen: str | None, args: Mapping[str, Any], new_gen: str, new_args: Mapping[str, Any]
) -> bool:
    """Whether the SR network ``new_gen(**new_args)`` is ``gen(**args)`` for another scale and
    nothing else changed. Its head and body work at the low resolution and do not depend on the
    scale, so they are loaded; its pixel-shuffle layer (``upsample``: ``3 * scale**2`` outputs)
    keeps its initialisation, zero, so the network starts as its bicubic skip and learns the new
    scale's detail on the old scale's features (EDSR, Lim et al. 2017, started x3 and
    x4 from a trained x2 this way; the other way round is the same operation).

    Example:
        >>> x4 = {"scale": 4, "channels": 64, "n_blocks": 16}
        >>> other_scale("srnet", x4, "srnet", {**x4, "scale": 2})
        True
        >>> other_scale("srnet", x4, "srnet", {**x4, "scale": 2, "channels": 32})
        False
    """
    if gen != "srnet" or new_gen != "srnet":
        return False
    new = dict(new_args)
    same = {k: v for k, v in args.items() if k != "scale"} == {
        k: v for k, v in new.items() if k != "scale"
    }
    return same and args.get("scale") != new.get("scale")


def _new_blocks_only(module: nn.Module, missing: list[str]) -> bool:
    """Whether every name in ``missing`` belongs to a :class:`ResBlock` of ``module``."""
    from restore.core.generator import ResBlock

    blocks = [n + "." for n, m in module.named_modules() if isinstance(m, ResBlock)]
    return all(any(k.startswith(b) for b in blocks) for k in missing)


def load_start_weights(
    start: StartWeights, cfg: Config, nets: Mapping[str, nn.Module]
) -> list[str]:
    """Load the card's generator module(s) into ``nets`` in place (strict); return their keys.

    Two exceptions to strict: a U-Net grown by residual blocks (:func:`grows_blocks`) loads
    every tensor of the card and keeps its new blocks as initialised (the identity); an SR
    network for another scale (:func:`other_scale`) loads every tensor but its ``upsample``
    layer, which keeps its initialisation.

    Raises:
        CheckpointError: a different architecture, or a module the run does not have.
    """
    check_architecture(start, cfg)
    tensors, _ = ckpt.load_tensors(start.path)
    keys = list(module_specs(upgrade_card(start.card)))
    rt = runtime(upgrade_card(start.card))
    old_args = dict(rt.get("generator_args") or {})
    rescaled = "networks" not in rt and other_scale(
        rt.get("generator"), old_args, cfg.model.generator, cfg.model.generator_args
    )
    grown = "networks" not in rt and not rescaled and old_args != dict(cfg.model.generator_args)
    for k in keys:
        if k not in nets:
            raise CheckpointError(f"--from {start.label}: module {k!r} is not in this run")
        own = next(iter(nets[k].parameters()), None)
        part = {
            n: t.to(own.device if own is not None else "cpu")
            for n, t in ckpt.unprefixed(k, tensors).items()
        }
        source = f"--from {start.label} module {k}"
        if rescaled:
            part = {n: t for n, t in part.items() if not n.startswith("upsample.")}
            missing = [n for n in nets[k].state_dict() if n not in part]
            if any(not n.startswith("upsample.") for n in missing):
                raise CheckpointError(f"{source}: the network lacks more than its upsample layer")
            ckpt.load_into(nets[k], {**nets[k].state_dict(), **part}, source=source)
        elif grown:
            missing = [n for n in nets[k].state_dict() if n not in part]
            if not _new_blocks_only(nets[k], missing):
                raise CheckpointError(f"{source}: the grown network lacks more than new blocks")
            state = {**nets[k].state_dict(), **part}
            ckpt.load_into(nets[k], state, source=source)
        else:
            ckpt.load_into(nets[k], part, source=source)
    return keys


def prior_legs(card: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The legs that made the weights of ``card``, oldest first.

    A card written before legs existed describes one from-scratch leg in its ``training`` section;
    it becomes leg 1, so the totals stay whole.
    """
    tr = card.get("training") or {}
    if tr.get("legs"):
        return [dict(leg) for leg in tr["legs"]]
    if not tr:
        return []
    return [
        {
            "leg": 1,
            "from": "scratch",
            "recipe": tr.get("recipe"),
            "overrides": [],
            "steps": tr.get("steps"),
            "seconds": tr.get("train_seconds"),
            "hardware": tr.get("hardware"),
            "data": tr.get("data"),
            "metric": None,
        }
    ]


def totals(legs: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Cumulative steps and wall time over ``legs`` (unknowns count as 0 and are flagged)."""
    steps = sum(int(leg.get("steps") or 0) for leg in legs)
    secs = sum(float(leg.get("seconds") or 0.0) for leg in legs)
    return {
        "legs": len(legs),
        "steps": steps,
        "seconds": round(secs, 1),
        "complete": all(leg.get("steps") and leg.get("seconds") for leg in legs),
    }


def describe_hardware(device: torch.device) -> str:
    """One line: the accelerator or CPU, and the threads torch used (for a leg record)."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
