"""Several models as one callable: ``restore.pipeline(["inpaint", "enhance", "sr-x4"])``.

Each stage is a :class:`~restore.api.Restorer` (a shipped name, a weights path, or a loaded
Restorer). The image goes through the stages in order on the device, without round trips through
uint8. A stage that needs a mask takes the call's ``mask=`` (resized, nearest, when an earlier stage
changed the size); a stage that changes the size (super-resolution) propagates the new size to the
stages after it. Other keywords go to the stages that take them (``seed=`` to all).

Example:
    >>> import restore
    >>> photo = restore.pipeline(["inpaint", "enhance", "colorize", "sr-x4"])  # doctest: +SKIP
    >>> out = photo("old.jpg", mask="old_mask.png", seed=0)                  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from restore.api import ImageLike, Restorer, call_model, resolve_dtype
from restore.runtime import pick_device

log = logging.getLogger(__name__)

Stage = str | os.PathLike[str] | Restorer


class Pipeline:
    """Stages run one after the other, callable like a :class:`~restore.api.Restorer`.

    Args:
        stages: Restorers, or names / paths loaded with ``device``, ``dtype`` and ``tile``.
        device, dtype, tile: as in :meth:`Restorer.from_pretrained`.
        missing_mask: what a stage that needs a mask does when the call gives none: ``"error"``
            (raise ``ValueError``) or ``"skip"`` (the stage is left out for that call).
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        *,
        device: str | torch.device | None = None,
        dtype: torch.dtype | str | None = None,
        tile: int | None = None,
        missing_mask: Literal["error", "skip"] = "error",
    ) -> None:
        if not stages:
            raise ValueError("a pipeline needs at least one stage")
        if missing_mask not in ("error", "skip"):
            raise ValueError(f"missing_mask must be 'error' or 'skip', got {missing_mask!r}")
        dev = pick_device(device)
        dt = resolve_dtype(dev, dtype)
        self.stages: list[Restorer] = [
            s
            if isinstance(s, Restorer)
            else Restorer.from_pretrained(s, device=dev, dtype=dt, tile=tile)
            for s in stages
        ]
        self.missing_mask = missing_mask

    @property
    def device(self) -> torch.device:
        return self.stages[0].device

    @property
    def scale(self) -> int:
        """Output size / input size (the product of the stages' scales)."""
        return math.prod(s.scale for s in self.stages)

    @property
    def output_rgb(self) -> bool:
        """True when some stage adds colour."""
        return any(s.output_rgb for s in self.stages)

    @property
    def needs_mask(self) -> bool:
        """True when a stage needs ``mask=`` and a missing mask is an error."""
        return self.missing_mask == "error" and any(s.needs_mask for s in self.stages)

    @property
    def card(self) -> dict[str, Any]:
        """A summary card: the stages' names and tasks."""
        return {
            "name": "+".join(s.name for s in self.stages),
            "task": "pipeline",
            "stages": [{"name": s.name, "task": s.task, "scale": s.scale} for s in self.stages],
        }

    @property
    def name(self) -> str:
        return self.card["name"]

    def accepts(self, keyword: str) -> bool:
        return any(s.accepts(keyword) for s in self.stages)

    def run_tensor(self, x: Tensor, *, mask: Tensor | None = None, **kwargs: Any) -> Tensor:
        """Every stage on float images in [0, 1].

        Shape:
            x: (B, 3, H, W) -> (B, 3, H*scale, W*scale); mask: (B, 1, H, W), 1 = hole.

        Raises:
            ValueError: a keyword no stage takes, or a missing mask (``missing_mask="error"``).
        """
        unknown = [k for k in kwargs if not self.accepts(k)]
        if unknown:
            raise ValueError(f"no stage of {self.name} takes {unknown}")
        y = x
        for stage in self.stages:
            kw = {k: v for k, v in kwargs.items() if stage.accepts(k) and k != "scale"}
            if "scale" in kwargs and stage is self.stages[-1]:
                kw["scale"] = kwargs["scale"] * stage.scale / self.scale
            if stage.uses_mask:
                if mask is None:
                    if not stage.needs_mask:
                        y = stage.run_tensor(y, **kw)
                        continue
                    if self.missing_mask == "skip":
                        log.info("no mask given: stage %s skipped", stage.name)
                        continue
                    raise ValueError(f"stage {stage.name} ({stage.task}) needs mask=")
                m = mask.to(y.device).float()
                if m.shape[-2:] != y.shape[-2:]:
                    m = F.interpolate(m, size=tuple(y.shape[-2:]), mode="nearest")
                kw["mask"] = m
            y = stage.run_tensor(y, **kw)
        return y

    def __call__(self, image: ImageLike | Sequence[ImageLike], **kwargs: Any) -> Any:
        """Run the pipeline on any image kind (see :class:`~restore.api.Restorer`)."""
        return call_model(self, image, **kwargs)

    def __repr__(self) -> str:
        return f"Pipeline({[s.name for s in self.stages]!r})"


def pipeline(stages: Sequence[Stage], **kwargs: Any) -> Pipeline:
    """Compose models into one callable; see :class:`Pipeline`."""
    return Pipeline(stages, **kwargs)


__all__ = ["Pipeline", "pipeline"]
