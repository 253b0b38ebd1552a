"""ONNX export of a model's network, and inference with ONNX Runtime through the normal API.

What is exported is the *network* a task's :class:`~restore.tasks.base.Predictor` calls (the
generator ``G``; for a CycleGAN its default ``a2b`` generator), with dynamic batch, height and
width: one file serves any image size (sides multiples of the network's ``size_multiple``). The
task's pre- and post-processing (the residual add of ``enhance``, the Lab conversion around the
colorization network, the push-pull prefill of inpainting, sigmoid of the damage logits) is not in
the graph: :func:`load_onnx` rebuilds the task's own predictor around an ONNX Runtime session that
stands in for the network, so tiling, padding and every task keyword work exactly as with
:func:`restore.load`. Each file carries the model card and a description of the network's
input and output (``NETWORK_IO``) in its metadata, for deployments without ``restore``.

Generation models are refused: their API samples latents and they take no image.

The packages are optional (``pip install "restore[onnx]"``); importing :mod:`restore` or this
module imports none of them.

Example:
    >>> from restore.export import export_onnx, load_onnx            # doctest: +SKIP
    >>> res = export_onnx("sr-x4", "sr-x4.onnx")                      # doctest: +SKIP
    >>> res.max_abs_diff < 1e-3                                       # doctest: +SKIP
    True
    >>> sr = load_onnx("sr-x4.onnx", threads=2)                       # doctest: +SKIP
    >>> sr(np.zeros((64, 64, 3), np.uint8)).shape                     # doctest: +SKIP
    (256, 256, 3)
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import Tensor, nn

from restore.api import Restorer
from restore.core.atomic import atomic_write_bytes
from restore.core.card import build_modules, runtime, upgrade_card
from restore.errors import RestoreError
from restore.models import resolve
from restore.runtime import pick_device
from restore.tasks import TASKS, spec_of, task_class

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "restore[onnx]"'
FORMAT_VERSION = "1"
DEFAULT_OPSET = 18
#: Attributes of a network that predictors read (``getattr(G, ...)``); copied into the metadata.
NETWORK_ATTRS = ("size_multiple", "receptive_radius")
#: task -> what the exported network computes, from the task specs (:data:`restore.tasks.TASKS`,
#: ``onnx``). A task missing here is not exportable.
NETWORK_IO: dict[str, str] = {n: s.onnx for n, s in TASKS.items() if s.onnx is not None}


class OnnxUnavailableError(RestoreError, ImportError):
    """onnx / onnxscript / onnxruntime is not installed; the message says how to install it."""


class ExportError(RestoreError, ValueError):
    """A model that cannot be exported, a refused destination, or an export that does not verify."""


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_onnx` wrote and how well ONNX Runtime reproduces the network.

    ``max_abs_diff`` is the largest absolute difference between the torch network and the ONNX
    Runtime session on a random input of shape ``verify_shape`` (a different batch and size than
    the one traced, so the dynamic axes are checked too).
    """

    path: Path
    name: str
    task: str
    module: str
    opset: int
    max_abs_diff: float
    verify_shape: tuple[int, ...]
    size_bytes: int
    seconds: float


def require(*names: str) -> list[ModuleType]:
    """Import the optional ONNX packages ``names``.

    Raises:
        OnnxUnavailableError: one is missing (the message names ``pip install "restore[onnx]"``).
    """
    mods = []
    for name in names:
        try:
            mods.append(importlib.import_module(name))
        except ImportError as e:
            raise OnnxUnavailableError(
                f"ONNX support needs the optional package {name!r} ({e}); "
                f"install it with: {INSTALL_HINT}"
            ) from None
    return mods


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def export_onnx(
    name_or_path: str | os.PathLike[str],
    dst: str | os.PathLike[str] | None = None,
    *,
    opset: int = DEFAULT_OPSET,
    tolerance: float = 1e-3,
    overwrite: bool = False,
) -> ExportResult:
    """Export a model's network to an ONNX file and check it with ONNX Runtime.

    The file is written only after the check passes, atomically (temporary file, fsync, rename):
    a failed export leaves no file, and an existing ``dst`` untouched.

    Args:
        name_or_path: shipped model name, weights ``.safetensors`` file or run folder.
        dst: the ``.onnx`` file to write (default ``<card name>.onnx`` in the current folder);
            never one of the model's own files.
        opset: ONNX opset (default 18).
        tolerance: largest accepted absolute difference between torch and ONNX Runtime outputs.
        overwrite: replace an existing ``dst``.

    Returns:
        :class:`ExportResult` with the measured torch / ONNX Runtime difference.

    Raises:
        ExportError: a task that cannot be exported (generation), a refused destination, or
            outputs that differ by more than ``tolerance``.
        OnnxUnavailableError: onnx, onnxscript or onnxruntime is missing.
    """
    t0 = time.perf_counter()
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance}")
    weights, card, _ = resolve(name_or_path)
    name, task = str(card.get("name", Path(weights).stem)), str(card.get("task", "?"))
    if task not in NETWORK_IO:
        why = (
            "it samples latent noise and takes no image (use restore generate)"
            if task in TASKS and spec_of(task).input == "noise"
            else "no exported network description for this task"
        )
        raise ExportError(
            f"{name} ({task}) cannot be exported to ONNX: {why}; exportable tasks: "
            f"{', '.join(sorted(NETWORK_IO))}"
        )
    if runtime(card).get("inference", {}).get("direction", "a2b") != "a2b":
        raise ExportError(f"{name} runs G_b (direction b2a) by default; only G (a2b) is exported")
    dst = Path(f"{name}.onnx") if dst is None else dst
    out = _check_destination(dst, [weights, weights.with_suffix(".json")], overwrite)
    require("onnx", "onnxscript")
    (ort,) = require("onnxruntime")

    from restore.core import checkpoint as ckpt

    tensors, _ = ckpt.load_tensors(weights)
    modules = build_modules(card, tensors)
    key = "G"  # the network every predictor calls (a CycleGAN's b2a G_b is not exported)
    net = modules[key]
    c_in, mult = _in_channels(net), max(1, int(getattr(net, "size_multiple", 1)))
    # traced at (1, c, 2s, 3s), checked at (2, c, 3s, 2s): the check exercises the dynamic axes
    side = mult * math.ceil(32 / mult)
    proto = _trace(net, (1, c_in, 2 * side, 3 * side), opset)
    attrs = {a: getattr(net, a) for a in NETWORK_ATTRS if isinstance(getattr(net, a, None), int)}
    meta = {
        "restore.format": FORMAT_VERSION,
        "restore.card": json.dumps(card, sort_keys=True),
        "restore.module": key,
        "restore.attrs": json.dumps(attrs, sort_keys=True),
        "restore.io": NETWORK_IO[task],
    }
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    data = proto.SerializeToString()

    shape = (2, c_in, 3 * side, 2 * side)
    diff = _max_abs_diff(net, _session(ort, data, threads=None), shape)
    if not diff <= tolerance:
        raise ExportError(
            f"ONNX Runtime differs from torch by {diff:.3g} (> tolerance {tolerance:g}) on a "
            f"random {shape} input; nothing written to {out}"
        )
    atomic_write_bytes(out, data)
    result = ExportResult(
        path=out,
        name=name,
        task=task,
        module=key,
        opset=opset,
        max_abs_diff=diff,
        verify_shape=shape,
        size_bytes=len(data),
        seconds=time.perf_counter() - t0,
    )
    log.debug("exported %s/%s to %s (max |torch - ort| = %.3g)", name, key, out, diff)
    return result


def _check_destination(
    dst: str | os.PathLike[str], inputs: Sequence[Path], overwrite: bool
) -> Path:
    out = Path(dst).expanduser()
    if out.suffix.lower() != ".onnx":
        raise ExportError(f"the destination must be a .onnx file, got {str(dst)!r}")
    if out.exists():
        if any(out.resolve() == Path(p).resolve() for p in inputs if Path(p).exists()):
            raise ExportError(f"refusing to overwrite the model's own file {out}")
        if out.is_dir():
            raise ExportError(f"{out} is a folder")
        if not overwrite:
            raise ExportError(f"{out} exists (pass overwrite=True / --overwrite to replace it)")
    if not out.parent.is_dir():
        raise ExportError(f"the folder of {out} does not exist")
    return out


def _in_channels(net: nn.Module) -> int:
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            return int(m.in_channels)
    raise ExportError(f"cannot tell the input channels of {type(net).__name__} (no conv layer)")


def _trace(net: nn.Module, shape: tuple[int, ...], opset: int) -> Any:
    """The network as an ``onnx.ModelProto`` with dynamic batch, height and width."""
    from torch.export import Dim

    x = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    dyn = ({0: Dim.DYNAMIC, 2: Dim.DYNAMIC, 3: Dim.DYNAMIC},)
    quiet = [logging.getLogger(n) for n in ("onnxscript", "onnx_ir")]
    levels = [q.level for q in quiet]
    for q in quiet:  # their INFO lines (each optimisation pass) drown the CLI's output
        q.setLevel(max(q.getEffectiveLevel(), logging.WARNING))
    try:
        prog = torch.onnx.export(
            net,
            (x,),
            dynamo=True,
            dynamic_shapes=dyn,
            input_names=["x"],
            output_names=["y"],
            opset_version=opset,
            external_data=False,
            verbose=False,
        )
    except Exception as e:  # the exporter raises many types; say which network failed
        raise ExportError(f"torch.onnx.export failed for {type(net).__name__}: {e}") from e
    finally:
        for q, level in zip(quiet, levels):
            q.setLevel(level)
    return prog.model_proto


def _max_abs_diff(net: nn.Module, session: Any, shape: tuple[int, ...]) -> float:
    """Largest |torch - ONNX Runtime| of the network's outputs on a seeded random input."""
    x = torch.rand(shape, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.inference_mode():
        ref = net(x)
    got = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    if got.shape != ref.shape:
        raise ExportError(f"ONNX output shape {tuple(got.shape)} != torch's {tuple(ref.shape)}")
    return float((got - ref).abs().max())


# ---------------------------------------------------------------------------------------------
# Inference
# ---------------------------------------------------------------------------------------------


def _session(ort: ModuleType, model: bytes | str, threads: int | None) -> Any:
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


class OrtNetwork(nn.Module):
    """An ONNX Runtime session standing in for a network inside a task's predictor.

    ``forward`` runs the session on the CPU (the input is copied to host memory and the output
    comes back on the input's device and dtype). The network attributes that predictors read
    (``size_multiple``, ``receptive_radius``) are set from the file's metadata.

    Shape:
        as the exported network's, e.g. (B, 3, H, W) -> (B, 3, H*scale, W*scale).
    """

    def __init__(self, session: Any, attrs: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.session = session
        self.input_name = session.get_inputs()[0].name
        for k, v in (attrs or {}).items():
            setattr(self, k, v)

    def forward(self, x: Tensor) -> Tensor:
        a = x.detach().float().contiguous().numpy(force=True)
        y = self.session.run(None, {self.input_name: a})[0]
        return torch.from_numpy(y).to(device=x.device, dtype=x.dtype)


def load_onnx(
    path: str | os.PathLike[str], *, threads: int | None = None, tile: int | None = None
) -> Restorer:
    """A :class:`~restore.api.Restorer` whose network runs in ONNX Runtime (CPU).

    The file must come from :func:`export_onnx` (it carries the model card). Everything around
    the network (padding, tiling, task keywords, alpha / 16-bit / grayscale handling) is the
    normal API's.

    Args:
        path: the ``.onnx`` file.
        threads: ONNX Runtime intra-op threads (default: its own choice, all physical cores).
        tile: as for :func:`restore.load` (``None``: automatic, ``0``: no tiling).

    Raises:
        OnnxUnavailableError: onnxruntime is not installed.
        ExportError: the file has no ``restore`` metadata.
        FileNotFoundError: no such file.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"no ONNX file {p}")
    (ort,) = require("onnxruntime")
    session = _session(ort, str(p), threads)
    meta = session.get_modelmeta().custom_metadata_map
    if "restore.card" not in meta:
        raise ExportError(f"{p} was not written by restore export (no restore.card metadata)")
    card = upgrade_card(json.loads(meta["restore.card"]))  # a file exported before format 1 too
    key = meta.get("restore.module", "G")
    net = OrtNetwork(session, json.loads(meta.get("restore.attrs", "{}")))
    predictor = task_class(card["task"]).predictor(runtime(card), {key: net})
    card = {**card, "backend": "onnxruntime", "onnx_path": str(p)}
    # ONNX Runtime's CPU provider reads and writes host memory: the Restorer stays on the CPU.
    # ONNX Runtime takes contiguous NCHW arrays: a channels-last input would only add a copy
    return Restorer(
        predictor, card, {key: net}, device=pick_device("cpu"), tile=tile, channels_last=False
    )


__all__ = [
    "NETWORK_IO",
    "ExportError",
    "ExportResult",
    "OnnxUnavailableError",
    "OrtNetwork",
    "export_onnx",
    "load_onnx",
    "require",
]
