"""What a training run reports as it goes: ``log.csv``, TensorBoard scalars, sample grids and the
progress bar (rank 0 only; :func:`restore.train.train` decides when)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from restore.core import checkpoint as ckpt
from restore.errors import ConfigError


class CsvLog:
    """``log.csv``: one row per logging interval (and one per validation), appended as it comes.

    The header is the union of the columns seen so far, in order of first appearance, so the file
    stays one plain CSV table that any reader parses. A row whose columns are all known is
    appended (flushed, not fsynced: a log, not a checkpoint); a row that brings new columns (the
    first one, the first validation row) rewrites the file once, atomically, under the wider
    header, with the earlier rows' new cells empty. On resume the rows after ``resume_step`` are
    dropped (the steps are redone) by one such rewrite; without resume the first row starts a new
    file.
    """

    def __init__(self, path: Path, resume_step: int | None) -> None:
        self.path = path
        self.cols: list[str] = []  # the file's header; empty: the next row starts the file
        if resume_step is not None and path.is_file():
            with path.open(newline="") as f:
                reader = csv.DictReader(f)
                rows = [r for r in reader if self._step(r) <= resume_step]
                self._rewrite(list(reader.fieldnames or []), rows)

    def append(self, row: Mapping[str, float]) -> None:
        r = {k: (f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in row.items()}
        new = [k for k in r if k not in self.cols]
        if new:
            rows: list[dict[str, str]] = []
            if self.cols:
                with self.path.open(newline="") as f:
                    rows = list(csv.DictReader(f))
            self._rewrite(self.cols + new, [*rows, r])
            return
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.cols, restval="").writerow(r)

    @staticmethod
    def _step(row: Mapping[str, str | None]) -> float:
        """A row's step; a torn row (a run killed mid-append) counts as after any resume step."""
        try:
            return int(row.get("step") or "")
        except ValueError:
            return float("inf")

    def _rewrite(self, cols: list[str], rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, restval="")
        w.writeheader()
        w.writerows(rows)
        ckpt.atomic_write_bytes(self.path, buf.getvalue().encode())
        self.cols = cols


def mean_across_ranks(row: dict[str, float], dev: torch.device) -> dict[str, float]:
    """Each value of ``row`` averaged over the DDP ranks (every rank must call it)."""
    keys = sorted(row)
    t = torch.tensor([row[k] for k in keys], device=dev, dtype=torch.float64)
    torch.distributed.all_reduce(t)
    t /= torch.distributed.get_world_size()
    return dict(zip(keys, t.tolist()))


def save_samples(path: Path, images: Tensor) -> None:
    """A PNG grid of ``images`` (B, 3, H, W) in [0, 1] (clamped), written atomically."""
    from torchvision.utils import make_grid

    grid = make_grid(
        images.detach().float().clamp(0, 1).cpu(), nrow=max(1, min(8, images.shape[0])), padding=2
    )
    arr = (grid.permute(1, 2, 0).numpy() * 255 + 0.5).astype("uint8")
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    ckpt.atomic_write_bytes(path, buf.getvalue())


def tensorboard(out_dir: Path) -> Any:
    """A TensorBoard ``SummaryWriter`` on ``out_dir/tb``.

    Raises:
        ConfigError: the tensorboard package is not installed.
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise ConfigError(
            "train.tensorboard: true needs the tensorboard package (pip install tensorboard)"
        ) from e
    return SummaryWriter(str(out_dir / "tb"))


class _NoBar:
    def update(self, n: int = 1) -> None: ...
    def set_postfix(self, d: Mapping[str, str]) -> None: ...
    def close(self) -> None: ...


def progress(total: int, initial: int, enabled: bool) -> Any:
    """A tqdm bar over the steps (off when not ``enabled`` or ``RESTORE_NO_PROGRESS=1``)."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="step",
        dynamic_ncols=True,
        disable=os.environ.get("RESTORE_NO_PROGRESS") == "1",
    )
