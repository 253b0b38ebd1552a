"""train.max_seconds: the clock that re-plans a run's steps once to fit its budget (the runs
themselves: tests/test_train.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from restore.config import load_config
from restore.errors import ConfigError
from restore.train_clock import MARGIN, PACE_FROM, Clock

TINY = Path(__file__).resolve().parents[1] / "configs" / "tiny.yaml"


def ticking(values):
    """A clock that returns ``values`` one call at a time."""
    it = iter(values)
    return lambda: next(it)


def test_replan_fits_the_time_left_within_the_steps_asked():
    # constructed at t=0; 5 s at step 5, 9 s at step 25: 0.2 s a step
    c = Clock(60.0, warmup_steps=10, start_step=0, now=ticking([0.0, 5.0, 9.0]))
    assert c.replan_at == 25  # a warm-up shorter than 25 steps re-plans at step 25
    assert c.replan(5, 10_000) is None
    got = c.replan(25, 10_000)
    assert c.pace == pytest.approx(0.2)
    assert got == 25 + int((60.0 * MARGIN - 9.0) / 0.2)  # 25 + 240 = 265
    # never more steps than asked, never fewer than done
    fast = Clock(1e6, warmup_steps=100, start_step=0, now=ticking([0.0, 1.0, 2.0]))
    fast.replan(PACE_FROM, 500)
    assert fast.replan(100, 500) == 500
    late = Clock(10.0, warmup_steps=100, start_step=0, now=ticking([0.0, 1.0, 50.0]))
    late.replan(PACE_FROM, 500)
    assert late.replan(100, 500) == 100


def test_a_run_resumed_after_the_replan_step_does_not_replan():
    c = Clock(60.0, warmup_steps=100, start_step=400, now=ticking([0.0, 1.0, 2.0]))
    assert c.replan(405, 1000) is None  # pace measured from step 405 ...
    assert c.replan(100, 1000) is None  # ... the re-plan step is behind it
    assert c.over() is False
    assert Clock(1.0, 0, 0, now=ticking([0.0, 1.0])).over() is True


def test_max_seconds_must_not_be_negative():
    with pytest.raises(ConfigError, match="max_seconds"):
        load_config(TINY, ["train.max_seconds=-1"])
