"""Where code runs: device choice, precision and torch.distributed set-up, in one place.

Library functions never name a device: they follow their input tensor. The entry points (the
training loop, :mod:`restore.api`) choose one here: CUDA when present, else the CPU, unless the user
says otherwise.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Literal

import torch

from restore.errors import ConfigError


def pick_device(requested: str | torch.device | None = None) -> torch.device:
    """The device to run on: ``requested`` if given, else CUDA when available, else the CPU.

    Raises:
        ConfigError: an unknown device string, or CUDA asked for where there is none.
    """
    if requested is None or requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(requested)
    except (RuntimeError, TypeError) as e:
        raise ConfigError(f"unknown device {requested!r} (use cpu, cuda, cuda:N or auto)") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {requested!r} asked for, but CUDA is not available here")
    return dev


def use_bf16(device: torch.device, precision: Literal["auto", "fp32", "bf16"]) -> bool:
    """Whether to train under bf16 autocast.

    ``auto``: on CUDA only (the CPU trains in fp32: without AMX, bf16 convolutions are slower
    there). ``bf16``: on any device, the CPU included, when asked for. ``fp32``: never.
    """
    if precision == "fp32":
        return False
    return precision == "bf16" or device.type == "cuda"


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``enabled``, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a (possibly single-process) job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(requested_device: str | None = None) -> DistInfo:
    """Join the torchrun job described by the environment, if any.

    Under ``torchrun`` (``WORLD_SIZE`` > 1) this initialises the default process group: NCCL on GPUs,
    gloo on the CPU, each rank on ``cuda:LOCAL_RANK`` when CUDA is present. Alone, it only picks the
    device.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(device=pick_device(requested_device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(requested_device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return DistInfo(rank=rank, world_size=world, local_rank=local_rank, device=device)


def barrier(info: DistInfo) -> None:
    """Wait for every rank (a no-op when alone)."""
    if info.enabled:
        torch.distributed.barrier()
