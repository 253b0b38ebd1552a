from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RESTORE_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (or $RESTORE_DATA): the real data sets, present in CI beside the clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set RESTORE_DATA)")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _few_threads():
    # Two cores here and in CI: keep each test from oversubscribing them.
    torch.set_num_threads(2)
    yield
