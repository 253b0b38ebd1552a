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
    from restore.train_checkpoint import export_weights

    cfg = load_config(REPO / "configs" / "tiny.yaml")
    task = create_task(cfg)
    torch.manual_seed(0)
    run = tmp_path_factory.mktemp("run")
    export_weights(run / "model", task, cfg, {"G": task.build_networks()["G"]}, 0, {})
    return run


@pytest.fixture(scope="session")
def blocky_images(tmp_path_factory):
    """``make(n, cells, block)``: a new folder of ``n`` PNGs, each ``cells`` x ``cells`` random
    colour blocks of ``block`` x ``block`` pixels (smooth enough for tiny training runs)."""

    def make(n: int, cells: int, block: int) -> Path:
        import numpy as np
        from PIL import Image

        d = tmp_path_factory.mktemp("imgs")
        rng = np.random.default_rng(0)
        for i in range(n):
            img = np.kron(rng.random((cells, cells, 3)), np.ones((block, block, 1)))
            Image.fromarray((img * 255).astype(np.uint8)).save(d / f"{i}.png")
        return d

    return make
