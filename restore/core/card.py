"""Model cards: the JSON beside every weights file, in one versioned format.

A card has three parts::

    {
      "name": "sr-x4", "task": "super_resolution", "kind": "model", "description": "...",
      "runtime": {                       # what loading and running the weights needs; checked
        "format": 1,
        "generator": "srnet", "generator_args": {...},     # or "networks": {key: {name, args}}
        "modules": ["G"], "task_args": {...}, "inference": {...},
        "sha256": "<hex digest of the .safetensors file>"
      },
      "parameters": 134992, "file_bytes": 542568,          # provenance and metrics, for people
      "training": {"recipe": ..., "config": {...}, "legs": [...], ...},
      "metrics": {<summary numbers>, "detail": "docs/metrics/sr-x4.json"},
      "relay": {...}, "note": "..."
    }

``name`` and ``task`` identify the model (``restore eval``, the relay and people read them);
``kind`` is ``"model"`` (loaded by :func:`restore.load`) or ``"evaluation"`` (a yardstick a task
loads, such as ``mnist-classifier``). Everything a predictor may read is in ``runtime``: it is
built from that section alone, so provenance can never change what runs. Per-image rows live in
``docs/metrics/<name>.json`` (``metrics.detail``), and no card holds a machine path.

A card written before the format existed (all runtime keys at the top level, as ``restore train``
wrote them) is rearranged by :func:`upgrade_card` when it is read, so old run folders still load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from restore.core import checkpoint as ckpt
from restore.core.registry import build_network
from restore.errors import CheckpointError

#: The runtime format this code writes and reads.
CARD_FORMAT = 1
KINDS = ("model", "evaluation")
#: Keys of the runtime section (a pre-format card has them at the top level).
RUNTIME_KEYS = (
    "format",
    "generator",
    "generator_args",
    "networks",
    "modules",
    "task_args",
    "inference",
    "sha256",
)
_HEX64 = re.compile(r"[0-9a-f]{64}")


def upgrade_card(card: Mapping[str, Any]) -> dict[str, Any]:
    """``card`` in the current format (a copy).

    A card without a ``runtime`` section (written before format 1) gets one from its top-level
    runtime keys, with the defaults the loader used to assume (no ``task_args`` / ``inference``:
    empty; no ``modules``: ``["G"]``), and ``kind: model``; a current card is returned as it is.
    """
    if "runtime" in card:
        return dict(card)
    out = {k: v for k, v in card.items() if k not in RUNTIME_KEYS}
    out.setdefault("kind", "model")
    rt = {k: card[k] for k in RUNTIME_KEYS if k in card}
    rt.update(format=CARD_FORMAT, task_args=rt.get("task_args") or {})
    rt["inference"] = rt.get("inference") or {}
    if "networks" not in rt:
        rt["modules"] = rt.get("modules") or ["G"]
    out["runtime"] = rt
    return out


def validate_card(card: Any, source: str = "model card") -> dict[str, Any]:
    """Check a current-format card; return it (as a dict).

    Raises:
        CheckpointError: a missing or malformed field; the message names it (``runtime.modules``).
    """

    def bad(field: str, why: str) -> CheckpointError:
        return CheckpointError(f"{source}: model card field {field} {why}")

    if not isinstance(card, Mapping):
        raise CheckpointError(f"{source}: a model card must be a JSON object")
    for k in ("name", "task"):
        if not isinstance(card.get(k), str) or not card[k]:
            raise bad(k, "is missing" if k not in card else "must be a non-empty string")
    if card.get("kind") not in KINDS:
        raise bad("kind", f"must be one of {list(KINDS)}, got {card.get('kind')!r}")
    stray = [k for k in RUNTIME_KEYS if k in card]
    if stray:
        raise bad(stray[0], "belongs in the runtime section, not at the top level")
    rt = card.get("runtime")
    if not isinstance(rt, Mapping):
        raise bad("runtime", "is missing" if rt is None else "must be a JSON object")
    fmt = rt.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise bad("runtime.format", f"must be an integer, got {fmt!r}")
    if fmt != CARD_FORMAT:
        raise bad("runtime.format", f"is {fmt}; this restore reads format {CARD_FORMAT}")
    unknown = sorted(set(rt) - set(RUNTIME_KEYS))
    if unknown:
        raise bad(f"runtime.{unknown[0]}", f"is unknown; known: {', '.join(RUNTIME_KEYS)}")
    if "networks" in rt:
        nets = rt["networks"]
        if not isinstance(nets, Mapping) or not nets:
            raise bad("runtime.networks", "must be a non-empty object {key: {name, args}}")
        for k, spec in nets.items():
            if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
                raise bad(f"runtime.networks.{k}", "must be an object with a string name")
            if not isinstance(spec.get("args", {}), Mapping):
                raise bad(f"runtime.networks.{k}.args", "must be a JSON object")
    else:
        if not isinstance(rt.get("generator"), str):
            raise bad("runtime.generator", "is missing (or give runtime.networks)")
        if not isinstance(rt.get("generator_args"), Mapping):
            raise bad("runtime.generator_args", "must be a JSON object")
        mods = rt.get("modules")
        if not isinstance(mods, list) or not mods or not all(isinstance(m, str) for m in mods):
            raise bad("runtime.modules", f"must be a non-empty list of names, got {mods!r}")
    for k in ("task_args", "inference"):
        if not isinstance(rt.get(k), Mapping):
            raise bad(f"runtime.{k}", "is missing" if k not in rt else "must be a JSON object")
    sha = rt.get("sha256")
    if sha is not None and not (isinstance(sha, str) and _HEX64.fullmatch(sha)):
        raise bad("runtime.sha256", f"must be 64 lowercase hex digits, got {sha!r}")
    return dict(card)


def read_card_file(path: str | Path) -> dict[str, Any]:
    """Read, upgrade (:func:`upgrade_card`) and validate the card at ``path``.

    Raises:
        CheckpointError: unreadable JSON or a bad field (the message names the file and field).
    """
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(f"cannot read model card {p}: {e}") from e
    if not isinstance(raw, Mapping):
        raise CheckpointError(f"{p}: a model card must be a JSON object")
    return validate_card(upgrade_card(raw), str(p))


def runtime(card: Mapping[str, Any]) -> Mapping[str, Any]:
    """The card's runtime section (what predictors read)."""
    rt = card.get("runtime")
    if not isinstance(rt, Mapping):
        raise CheckpointError(f"model card {card.get('name', '?')!r} has no runtime section")
    return rt


def module_specs(card: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Module key (tensor name prefix) -> (network name, constructor args), from the runtime."""
    rt = runtime(card)
    if "networks" in rt:
        return {k: (s["name"], dict(s.get("args") or {})) for k, s in rt["networks"].items()}
    keys = rt.get("modules") or ["G"]
    return {k: (rt["generator"], dict(rt.get("generator_args") or {})) for k in keys}


def build_modules(card: Mapping[str, Any], tensors: Mapping[str, Any]) -> dict[str, nn.Module]:
    """Instantiate the card's module(s) and load their tensors strictly (eval mode, no grad)."""
    modules: dict[str, nn.Module] = {}
    for k, (name, args) in module_specs(card).items():
        m = build_network(name, args, key=f"card.runtime.networks.{k}")
        ckpt.load_into(m, ckpt.unprefixed(k, tensors), source=f"weights of module {k}")
        modules[k] = m.eval().requires_grad_(False)
    return modules


def check_sha256(weights: str | Path, card: Mapping[str, Any], *, required: bool) -> None:
    """Compare the weights file with ``runtime.sha256``.

    Raises:
        CheckpointError: a different digest, or none in the card when ``required``.
    """
    want = runtime(card).get("sha256")
    if not want:
        if required:
            raise CheckpointError(f"{weights}: its card has no runtime.sha256")
        return
    if ckpt.sha256_file(weights) != want:
        raise CheckpointError(
            f"{weights} does not match the SHA-256 in its card (corrupt or tampered file)"
        )


# ---------------------------------------------------------------------------------------------
# No machine paths in shipped cards and reports
# ---------------------------------------------------------------------------------------------

#: An absolute path token: at the start of a string or after a space, ``=``, quote or bracket.
_ABS = re.compile(r"(?:(?<=^)|(?<=[\s=\"'(\[,]))(?:/|~/|[A-Za-z]:\\)[^\s\"'()\[\],;]+")
#: Folders of temporary files (a relative path through one is as unrepeatable as /tmp itself).
_TEMP = re.compile(r"(?:^|[/\\])(?:tmp[\w.-]*|pytest-of-[\w.-]+|temp)(?:[/\\]|$)", re.I)


def _relative(path: str) -> str:
    m = re.search(r"shared/data(?:/.*)?$", path)
    if m:
        return "../" + m.group(0)
    m = re.search(r"(?:^|/)(runs/.*)$", path)
    if m and not _TEMP.search(m.group(1)):
        return m.group(1)
    return Path(path.rstrip("/")).name or path


def strip_machine_paths(obj: Any) -> Any:
    """``obj`` with every absolute path in its strings made portable: a path into the shared data
    becomes ``../shared/data/...``, one into a ``runs/`` folder ``runs/...``, any other its name."""
    if isinstance(obj, Mapping):
        return {k: strip_machine_paths(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [strip_machine_paths(v) for v in obj]
    if isinstance(obj, str):
        return _ABS.sub(lambda m: _relative(m.group(0)), obj)
    return obj


def machine_paths(obj: Any, where: str = "") -> list[str]:
    """Every string under ``obj`` that holds an absolute or temporary path, as ``key: value``."""
    if isinstance(obj, Mapping):
        return [p for k, v in obj.items() for p in machine_paths(v, f"{where}.{k}".lstrip("."))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in machine_paths(v, f"{where}[{i}]")]
    if isinstance(obj, str) and (_ABS.search(obj) or _TEMP.search(obj)):
        return [f"{where}: {obj}"]
    return []


def split_rows(metrics: Any) -> tuple[Any, bool]:
    """``metrics`` without its per-image rows (every ``rows`` list), and whether it had any."""
    if isinstance(metrics, Mapping):
        had = False
        out = {}
        for k, v in metrics.items():
            if k == "rows" and isinstance(v, list):
                had = True
                continue
            out[k], h = split_rows(v)
            had = had or h
        return out, had
    return metrics, False


__all__ = [
    "CARD_FORMAT",
    "KINDS",
    "RUNTIME_KEYS",
    "build_modules",
    "check_sha256",
    "machine_paths",
    "module_specs",
    "read_card_file",
    "runtime",
    "split_rows",
    "strip_machine_paths",
    "upgrade_card",
    "validate_card",
]
