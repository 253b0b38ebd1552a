"""Shipped models and trained weights: where they are, what they are, how to load them safely.

A model is two files side by side: ``<name>.safetensors`` (the networks' tensors) and
``<name>.json`` (its card, :mod:`restore.core.card`: identity, a versioned runtime section that is
checked on every load, provenance and summary metrics). Shipped models live in
``restore/weights/`` inside the package, so a plain ``pip install`` has them. ``restore train``
writes the same pair as ``<run>/model.*`` (and ``<run>/best.*``); a run folder written before
the card format existed still loads (its card is upgraded when read).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from restore.core import checkpoint as ckpt
from restore.core.card import build_modules, check_sha256, read_card_file, runtime
from restore.errors import CheckpointError, ModelNotFoundError
from restore.tasks import TASKS, task_class
from restore.tasks.base import Predictor
from restore.tasks.specs import shipped_models

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Every model the project ships, with a one-line description (from the task specs,
#: :data:`restore.tasks.TASKS`; evaluation models such as ``mnist-classifier`` too, their cards
#: say ``kind: evaluation``). The files are in WEIGHTS_DIR.
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
    """Read a model card, upgraded to the current format and validated, with a known task.

    Raises:
        CheckpointError: unreadable, or a missing or bad field (the message names it).
    """
    card = read_card_file(path)
    if card["task"] not in TASKS:
        raise CheckpointError(
            f"{path}: model card field task {card['task']!r} is not a known task "
            f"({', '.join(sorted(TASKS))})"
        )
    return card


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
        card = read_card(st.with_suffix(".json"))
        if not runtime(card).get("sha256"):
            raise CheckpointError(f"shipped model {s!r}: its card has no runtime.sha256")
        return st, card, True
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


def load_predictor(
    name_or_path: str | Path,
) -> tuple[Predictor, dict[str, Any], dict[str, nn.Module]]:
    """Everything inference needs: the task's :class:`Predictor`, the card, the modules (CPU).

    The predictor is built from the card's runtime section alone. Weights are checked against
    the card's ``runtime.sha256`` first (shipped weights must have one).

    Raises:
        ModelNotFoundError: an unknown name, or an evaluation model (``kind: evaluation``).
        CheckpointError: a bad card, a SHA-256 mismatch, weights that do not fit the networks.
    """
    st, card, shipped = resolve(name_or_path)
    if card["kind"] != "model":
        raise ModelNotFoundError(
            f"{card['name']} is an {card['kind']} model (it scores {card['task']} models), not an "
            "image model; the task that uses it loads it"
        )
    check_sha256(st, card, required=shipped)
    tensors, _ = ckpt.load_tensors(st)
    modules = build_modules(card, tensors)
    predictor = task_class(card["task"]).predictor(runtime(card), modules)
    return predictor, card, modules


__all__ = [
    "SHIPPED",
    "WEIGHTS_DIR",
    "available",
    "build_modules",
    "list_models",
    "load_predictor",
    "read_card",
    "resolve",
]
