"""Shipped models and trained weights: where they are, what they are, how to load them safely.

A model is two files side by side: ``<name>.safetensors`` (the generator's tensors) and
``<name>.json`` (its card: task, architecture, training recipe, metrics, SHA-256 of the weights).
Shipped models live in ``restore/weights/`` inside the package, so a plain ``pip install`` has them.
``restore train`` writes the same pair as ``<run>/model.*`` (and ``<run>/best.*``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from restore.core import checkpoint as ckpt
from restore.core.registry import build_network
from restore.errors import CheckpointError, ModelNotFoundError
from restore.tasks import task_class
from restore.tasks.base import Predictor
from restore.tasks.specs import shipped_models

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Every model the project ships, with a one-line description (from the task specs,
#: :data:`restore.tasks.TASKS`). The files are in WEIGHTS_DIR.
SHIPPED: dict[str, str] = shipped_models()


def available() -> list[str]:
    """Shipped names whose weight files are present in this installation."""
    return [
        n
        for n in SHIPPED
        if (WEIGHTS_DIR / f"{n}.safetensors").is_file() and (WEIGHTS_DIR / f"{n}.json").is_file()
    ]


def list_models() -> dict[str, dict[str, Any]]:
    """Each available shipped model's card (a dict), by name."""
    return {n: read_card(WEIGHTS_DIR / f"{n}.json") for n in available()}


def read_card(path: Path) -> dict[str, Any]:
    """Read a model card (JSON)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"cannot read model card {path}: {e}") from e


def resolve(name_or_path: str | Path) -> tuple[Path, dict[str, Any], bool]:
    """Find a model's weights and card.

    Accepts a shipped name, a ``.safetensors`` file with its ``.json`` beside it, or a run folder
    written by ``restore train`` (its ``model.safetensors``).

    Returns:
        (weights path, card, shipped?)

    Raises:
        ModelNotFoundError: nothing matches (the message lists the known names).
        CheckpointError: a pickle file, or weights without a card.
    """
    s = str(name_or_path)
    if s in SHIPPED:
        st = WEIGHTS_DIR / f"{s}.safetensors"
        if not st.is_file():
            raise ModelNotFoundError(
                f"model {s!r} is not shipped in this installation yet; available: {', '.join(available()) or 'none'}"
            )
        return st, read_card(st.with_suffix(".json")), True
    p = Path(s).expanduser()
    if p.is_dir():
        for cand in (p / "model.safetensors", p / "best.safetensors"):
            if cand.is_file():
                p = cand
                break
        else:
            raise ModelNotFoundError(f"no model.safetensors in folder {p}")
    if p.is_file():
        ckpt.check_safetensors_file(p)  # refuses pickle / truncated files with a clear message
        card_path = p.with_suffix(".json")
        if not card_path.is_file():
            raise CheckpointError(
                f"{p} has no model card {card_path.name} beside it (written by restore train)"
            )
        return p, read_card(card_path), False
    known = ", ".join(available()) or "none shipped yet"
    raise ModelNotFoundError(
        f"unknown model {s!r}: not a shipped name ({known}) nor a weights file or run folder"
    )


def build_modules(card: Mapping[str, Any], tensors: Mapping[str, Any]) -> dict[str, nn.Module]:
    """Instantiate the card's generator module(s) and load their tensors strictly (eval mode)."""
    modules: dict[str, nn.Module] = {}
    nets = card.get("networks") or {
        k: {"name": card["generator"], "args": card.get("generator_args", {})}
        for k in card.get("modules", ["G"])
    }
    for k, spec in nets.items():
        m = build_network(spec["name"], spec.get("args", {}), key=f"card.networks.{k}")
        ckpt.load_into(m, ckpt.unprefixed(k, tensors), source=f"weights of module {k}")
        modules[k] = m.eval().requires_grad_(False)
    return modules


def load_predictor(
    name_or_path: str | Path,
) -> tuple[Predictor, dict[str, Any], dict[str, nn.Module]]:
    """Everything inference needs: the task's :class:`Predictor`, the card, the modules (CPU).

    Shipped weights are checked against the SHA-256 in their card first.
    """
    st, card, shipped = resolve(name_or_path)
    if shipped or "sha256" in card:
        digest = ckpt.sha256_file(st)
        if card.get("sha256") and digest != card["sha256"]:
            raise CheckpointError(
                f"{st} does not match the SHA-256 in its card (corrupt or tampered file)"
            )
    tensors, _ = ckpt.load_tensors(st)
    modules = build_modules(card, tensors)
    predictor = task_class(card["task"]).predictor(card, modules)
    return predictor, card, modules
