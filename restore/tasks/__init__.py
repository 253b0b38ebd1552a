"""Task modules on the GAN core, one file each, found through one table of specs.

:data:`TASKS` (in :mod:`restore.tasks.specs`) maps a config's ``task:`` name to its
:class:`TaskSpec`: the class as ``"module:Class"`` (so importing :mod:`restore.tasks` stays
cheap; :func:`create_task` imports only the task asked for), its networks, I/O kinds, shipped
models, evaluation protocol and CLI alias.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from restore.tasks.specs import TASKS, TaskSpec, register_task, spec_of

if TYPE_CHECKING:
    from restore.config import Config
    from restore.tasks.base import Task


def task_class(name: str) -> type[Task]:
    """The class registered under ``name``.

    Raises:
        ConfigError: an unknown task name (the message lists the known ones).
    """
    module, cls = spec_of(name).cls.split(":")
    return getattr(importlib.import_module(module), cls)


def create_task(cfg: Config) -> Task:
    """Instantiate the task a config names (its ``task_args`` are checked strictly)."""
    return task_class(cfg.task)(cfg)


__all__ = ["TASKS", "TaskSpec", "create_task", "register_task", "spec_of", "task_class"]
