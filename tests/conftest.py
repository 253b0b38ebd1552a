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


@pytest.fixture
def one_thread():
    """One intra-op thread: tiny convolutions only add contention on a shared 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random-weight tiny enhance model, exported as ``restore train`` does (model.safetensors/json)."""
    from restore.config import load_config
    from restore.tasks import create_task
    from restore.train import export_weights

    cfg = load_config(REPO / "configs" / "tiny.yaml")
    task = create_task(cfg)
    torch.manual_seed(0)
    run = tmp_path_factory.mktemp("run")
    export_weights(run / "model", task, cfg, {"G": task.build_networks()["G"]}, 0, {})
    return run
