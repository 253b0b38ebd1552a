"""A training run's wall-clock budget (``train.max_seconds``).

A relay leg is planned at the pace of the card's last leg, and a leg run beside other work can
take twice that (2026-12-02: 0.21 s a step planned, about 0.4 run). :class:`Clock` lets the run
keep to its budget in two ways:

1. **Re-plan once, at the end of the lr warm-up** (or at step :data:`REPLAN_MIN_STEPS`): from
   the pace of the steps so far it sets ``train.steps`` to what fits in the time left (times
   :data:`MARGIN`, for validations and checkpoints), never more than asked. The warm-up's
   learning rate does not depend on ``train.steps``, so the run is exactly the run of the same
   command with ``--set train.steps=N``: the card's leg records that command.
2. **Stop at the budget:** past it, the run ends at the step it is on (validates, checkpoints and
   exports as at its last step); the leg's command says where it stopped.
3. **Resume the re-planned length:** a run resumed by the same budgeted command keeps the
   ``train.steps`` it re-planned (:func:`resumed_length`); its clock starts again at the resume.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from restore.config import Config, to_dict
from restore.core import checkpoint as ckpt
from restore.runtime import DistInfo

log = logging.getLogger("restore.train")

#: The earliest step a run re-plans at (when the warm-up is shorter than this, the warm-up's
#: learning rates of the re-planned command differ from the run's by the change of schedule).
REPLAN_MIN_STEPS = 25
#: Steps left out of the pace (start-up: the first batches, the loader's workers, allocation).
PACE_FROM = 5
#: Share of the time left that a re-planned run plans its steps into.
MARGIN = 0.95


class Clock:
    """The budget of one run (``max_seconds`` from ``now()`` at construction), started at
    ``start_step`` (a resumed run re-plans only when it resumes before the re-plan step).

    Example:
        >>> t = iter([0.0, 1.0, 6.0, 7.0])
        >>> c = Clock(100.0, warmup_steps=30, start_step=0, now=lambda: next(t))
        >>> c.replan(5, 1000), c.replan(30, 1000)  # steps 5-30 in 5 s: 0.2 s a step
        (None, 475)
        >>> c.over()
        False
    """

    def __init__(
        self,
        max_seconds: float,
        warmup_steps: int,
        start_step: int,
        now: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.max_seconds = float(max_seconds)
        self.now = now
        self.t0 = now()
        self.replan_at = max(int(warmup_steps), REPLAN_MIN_STEPS)
        self.pace_step = start_step + PACE_FROM
        self.pace_t: float | None = None
        self.pace: float | None = None  # seconds a step, once measured

    def elapsed(self) -> float:
        return self.now() - self.t0

    def replan(self, done: int, steps: int) -> int | None:
        """After step ``done`` of ``steps``: the new ``train.steps`` at the re-plan step (at
        least ``done``, at most ``steps``), else None."""
        if done == self.pace_step:
            self.pace_t = self.now()
        if done != self.replan_at or self.pace_t is None or done <= self.pace_step:
            return None
        t = self.now()
        self.pace = (t - self.pace_t) / (done - self.pace_step)
        left = self.max_seconds * MARGIN - (t - self.t0)
        return max(done, min(steps, done + int(left / max(self.pace, 1e-9))))

    def over(self) -> bool:
        """Whether the budget is spent."""
        return self.elapsed() >= self.max_seconds


def keep_to_clock(
    clock: Clock,
    cfg: Config,
    done: int,
    d_only: range,
    info: DistInfo,
    out_dir: Path,
    command: str | None,
) -> tuple[Config, str | None]:
    """``cfg`` and the leg's command after step ``done`` under ``train.max_seconds``
    (:mod:`restore.train_clock`): ``train.steps`` re-planned once, or cut to ``done`` when the
    budget is spent (checked at every step, or at log steps under DDP). All ranks take rank 0's
    decision."""
    tc = cfg.train
    steps = clock.replan(done, tc.steps)
    if steps is not None:
        steps = from_rank0(steps, info)
        if steps != tc.steps:
            log.info(
                "train.max_seconds=%g: %.3f s a step, train.steps %d -> %d",
                tc.max_seconds,
                clock.pace or 0.0,
                tc.steps,
                steps,
            )
            extra = [f"train.steps={steps}", "train.max_seconds=0"]
            if len(d_only):  # the D-only warm-up was sized from the steps asked
                extra.append(f"train.d_warmup_steps={len(d_only)}")
            if command is not None:
                command += "".join(f" --set={s}" for s in extra)
            cfg = replace(cfg, train=replace(tc, steps=steps))
            if info.is_main:
                ckpt.atomic_write_json(out_dir / "config.json", to_dict(cfg))
        return cfg, command
    # under DDP the ranks agree at log steps only (a broadcast every step would sync the host)
    check = not info.enabled or done % tc.log_every == 0
    if done < tc.steps and check and from_rank0(int(clock.over()), info):
        log.info(
            "train.max_seconds=%g spent: stopped at step %d of %d", tc.max_seconds, done, tc.steps
        )
        if command is not None:
            command += f"  # stopped at step {done} of {tc.steps} by train.max_seconds"
        cfg = replace(cfg, train=replace(tc, steps=done))
    return cfg, command


def from_rank0(value: int, info: DistInfo) -> int:
    """``value`` as rank 0 has it (the same on every rank under DDP)."""
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.long, device=info.device)
    torch.distributed.broadcast(t, src=0)
    return int(t.item())


def resumed_length(cfg: Config, meta: Mapping[str, Any]) -> Config:
    """``cfg`` for a run resumed from a checkpoint with metadata ``meta``: a run that re-planned
    its ``train.steps`` under ``train.max_seconds`` and is resumed by the same budgeted command
    keeps the re-planned length (its learning-rate schedule), since a resumed run past the
    re-plan step does not re-plan. Any other resume keeps ``cfg`` (``--set train.steps=N``
    without a budget still ends a run at N)."""
    saved = (meta.get("config") or {}).get("train") or {}
    steps = saved.get("steps")
    if cfg.train.max_seconds > 0 and saved.get("max_seconds", 0) > 0 and steps != cfg.train.steps:
        log.info("resumed a re-planned run: train.steps %d -> %d", cfg.train.steps, steps)
        return replace(cfg, train=replace(cfg.train, steps=int(steps)))
    return cfg
