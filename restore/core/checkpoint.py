"""Safe, atomic weight and checkpoint files: safetensors for tensors, JSON for the rest.

Nothing here ever pickles or unpickles. A file that is not safetensors (a ``.pth`` / ``.pt`` /
``.ckpt`` / ``.pkl`` pickle, a zip, random bytes), a truncated or tampered file, or tensors that do
not fit the model are refused with :class:`~restore.errors.CheckpointError`.

Files are written by the package's one writer, :mod:`restore.core.atomic` (temporary file, fsync,
rename, folder fsync), so a reader (or a process killed mid-write) only ever sees complete files.
:func:`atomic_write_bytes` and :func:`atomic_write_json` are that module's, importable from here too.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from restore.core.atomic import atomic_write_bytes as atomic_write_bytes
from restore.core.atomic import atomic_write_json as atomic_write_json
from restore.errors import CheckpointError

PICKLE_SUFFIXES = (".pth", ".pt", ".ckpt", ".pkl", ".pickle", ".bin", ".tar")
MAX_HEADER = 100 * 1024 * 1024


def save_tensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, str] | None = None
) -> None:
    """Save a flat name -> tensor mapping as a safetensors file, atomically.

    Tensors are made contiguous and moved to the CPU; shared storage is cloned (safetensors refuses
    aliasing tensors).
    """
    from safetensors.torch import save

    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    atomic_write_bytes(path, save(flat, metadata=dict(meta) if meta else None))


def to_float16(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The floating-point tensors as float16, the others as they are: weights stored at half the
    size (``scripts/ship_model.py --fp16``), which load back into float32 modules."""
    return {k: v.half() if v.is_floating_point() else v for k, v in tensors.items()}


def check_safetensors_file(path: str | Path) -> Path:
    """Refuse anything that is not a complete, well-formed safetensors file.

    Returns:
        The path, once checked.

    Raises:
        CheckpointError: missing file, pickle / zip content or suffix, truncated or malformed header.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weight file not found: {path}")
    with path.open("rb") as f:
        head = f.read(16)
        size = path.stat().st_size
    if path.suffix.lower() in PICKLE_SUFFIXES or head[:2] in (
        b"PK",
        b"\x80\x02",
        b"\x80\x03",
        b"\x80\x04",
        b"\x80\x05",
    ):
        raise CheckpointError(
            f"refusing {path}: it looks like a pickle / torch.save file, which can run arbitrary code "
            "when loaded. restore only loads safetensors; convert it with safetensors.torch.save_file "
            "in an environment you trust."
        )
    if len(head) < 9:
        raise CheckpointError(f"{path} is not a safetensors file (only {size} bytes)")
    (n,) = struct.unpack("<Q", head[:8])
    if n > MAX_HEADER or head[8:9] != b"{":
        raise CheckpointError(f"{path} is not a safetensors file (bad header)")
    if 8 + n > size:
        raise CheckpointError(f"{path} is truncated (header says {n} bytes, file has {size - 8})")
    return path


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Load every tensor of a safetensors file on the CPU, with its string metadata.

    Raises:
        CheckpointError: see :func:`check_safetensors_file`, plus data that does not match the header.
    """
    from safetensors import safe_open

    path = check_safetensors_file(path)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except Exception as e:  # safetensors raises its own SafetensorError / OSError types
        raise CheckpointError(f"cannot read {path}: {e}") from e
    return tensors, dict(meta)


def load_into(
    module: nn.Module, tensors: Mapping[str, torch.Tensor], *, source: str = "weights"
) -> None:
    """Load a state dict strictly, with a clear message when it does not fit.

    Raises:
        CheckpointError: missing, unexpected or wrongly shaped tensors (the first few are named).
    """
    own = module.state_dict()
    missing = [k for k in own if k not in tensors]
    unexpected = [k for k in tensors if k not in own]
    shapes = [
        f"{k}: file {tuple(tensors[k].shape)} vs model {tuple(v.shape)}"
        for k, v in own.items()
        if k in tensors and tuple(tensors[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} (e.g. {', '.join(unexpected[:3])})")
        if shapes:
            parts.append(f"wrong shape {len(shapes)} (e.g. {'; '.join(shapes[:3])})")
        raise CheckpointError(f"{source} do not match the model: " + "; ".join(parts))
    module.load_state_dict(dict(tensors), strict=True)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def prefixed(prefix: str, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``{prefix + "." + k: v}`` for every tensor of ``state``."""
    return {f"{prefix}.{k}": v for k, v in state.items()}


def unprefixed(prefix: str, tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors whose names start with ``prefix + "."``, with the prefix removed."""
    p = prefix + "."
    return {k[len(p) :]: v for k, v in tensors.items() if k.startswith(p)}


def optimizer_to_tensors(
    opt: torch.optim.Optimizer, prefix: str
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state dict into tensors (for safetensors) and JSON-able rest."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    plain_state: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{prefix}.{pid}.{k}"] = v
            else:
                plain_state.setdefault(str(pid), {})[k] = v
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain_state}


def optimizer_from_tensors(
    opt: torch.optim.Optimizer,
    prefix: str,
    tensors: Mapping[str, torch.Tensor],
    rest: Mapping[str, Any],
) -> None:
    """Inverse of :func:`optimizer_to_tensors`; tensors go to the device of the parameters."""
    state: dict[int, dict[str, Any]] = {}
    p = prefix + "."
    for name, v in tensors.items():
        if name.startswith(p):
            pid, key = name[len(p) :].split(".", 1)
            state.setdefault(int(pid), {})[key] = v
    for pid, st in rest.get("plain_state", {}).items():
        state.setdefault(int(pid), {}).update(st)
    groups = [dict(g) for g in rest["param_groups"]]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    try:
        opt.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as e:
        raise CheckpointError(f"optimizer state {prefix} does not match: {e}") from e
