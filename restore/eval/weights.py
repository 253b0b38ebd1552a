"""Where the evaluation networks' weights come from: local files only, never a download.

FID / KID (:mod:`restore.eval.fid`) and LPIPS (:mod:`restore.eval.lpips`) look at an explicit
path, then an environment variable, then the torch hub cache (where the upstream packages' own
download would have put the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from restore.errors import ModelNotFoundError

__all__ = ["hub_checkpoints", "local_weights_file"]


def hub_checkpoints() -> Path:
    """The torch hub cache's ``checkpoints`` folder (``torch.hub.get_dir()/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def local_weights_file(path: str | os.PathLike[str], origin: str) -> Path:
    """``path`` (``~`` expanded) when it is a file, else a :class:`ModelNotFoundError`.

    Args:
        path: the weights file a caller named.
        origin: where the name came from, for the message (``"weights_path"``, ``"$VAR"``).
    """
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise ModelNotFoundError(f"weights file {str(resolved)!r} (from {origin}) does not exist")
    return resolved
