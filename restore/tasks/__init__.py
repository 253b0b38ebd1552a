"""Task modules on the GAN core, one file each, found through one dict literal.

The registry maps a config's ``task:`` name to ``"module:Class"`` so that importing
:mod:`restore.tasks` stays cheap; :func:`create_task` imports only the task asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from restore.errors import ConfigError

if TYPE_CHECKING:
    from restore.config import Config
    from restore.tasks.base import Task

TASKS: dict[str, str] = {
    "damage": "restore.tasks.damage:DamageTask",
    "colorization": "restore.tasks.colorization:ColorizationTask",
    "enhance": "restore.tasks.enhance:EnhanceTask",
    "generation": "restore.tasks.generation:GenerationTask",
    "inpainting": "restore.tasks.inpainting:InpaintingTask",
    "pix2pix": "restore.tasks.style_transfer:Pix2PixTask",
    "cyclegan": "restore.tasks.style_transfer:CycleGANTask",
    "super_resolution": "restore.tasks.super_resolution:SuperResolutionTask",
}


def task_class(name: str) -> type[Task]:
    """The class registered under ``name``.

    Raises:
        ConfigError: an unknown task name (the message lists the known ones).
    """
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    module, cls = TASKS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def create_task(cfg: Config) -> Task:
    """Instantiate the task a config names (its ``task_args`` are checked strictly)."""
    return task_class(cfg.task)(cfg)
