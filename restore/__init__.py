"""restore: repair and enhance photographs with GANs, and the framework to train those models.

The public API is loaded lazily, so ``import restore`` (and ``restore --help``) stays fast::

    import restore
    sr = restore.load("sr-x4")
    big = sr("photo.jpg")            # a PIL image
    restore.list_models()            # name -> model card
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "load": "restore.api",
    "Restorer": "restore.api",
    "list_models": "restore.models",
    "export_onnx": "restore.export",
    "load_onnx": "restore.export",
    "pipeline": "restore.pipelines",
    "Pipeline": "restore.pipelines",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'restore' has no attribute {name!r}")
