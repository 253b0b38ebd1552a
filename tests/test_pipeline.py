"""restore.pipeline: stages in order, masks to the stages that need them (resized after an
upscale), sizes propagated, keywords routed, and the same call forms as a Restorer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
import torch.nn.functional as F

import restore
from restore.api import Restorer
from restore.pipelines import Pipeline
from restore.tasks.base import Predictor

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir) -> Path:
    return tiny_model_dir


def _toy(fn, scale=1, task="toy", **inference) -> Restorer:
    card = {"name": f"toy-{task}", "task": task, "inference": inference}
    return Restorer(Predictor(fn=fn, scale=scale, multiple=1, halo=4), card, {}, device=CPU)


def _inpaint() -> Restorer:
    return _toy(lambda x, mask: x * (1 - mask) + mask, task="inpaint")  # holes -> white


def _sr2() -> Restorer:
    return _toy(lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), scale=2, task="sr")


def _colorize() -> Restorer:
    def fn(x):
        y = x.clone()
        y[:, 0] = y[:, 0] * 0.5  # less red: a colour output
        return y

    return _toy(fn, task="colorize", output_rgb=True)


def test_stages_compose_like_sequential_calls(run_dir):
    enhance = restore.load(run_dir, device="cpu")
    p = restore.pipeline([enhance, _sr2(), run_dir])
    assert isinstance(p, Pipeline) and p.scale == 2
    x = np.random.default_rng(0).integers(0, 256, (16, 20, 3), dtype=np.uint8)
    t = torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255
    by_hand = enhance.run_tensor(_sr2().run_tensor(enhance.run_tensor(t)))
    out = p(x)
    assert out.shape == (32, 40, 3) and out.dtype == np.uint8
    expect = (by_hand[0].permute(1, 2, 0) * 255).round().byte().numpy()
    assert np.abs(out.astype(int) - expect).max() <= 1


def test_mask_reaches_inpaint_and_is_resized_after_upscale():
    x = np.zeros((8, 10, 3), np.uint8)
    hole = np.zeros((8, 10), bool)
    hole[1:3, 2:5] = True
    first = restore.pipeline([_inpaint(), _sr2()])(x, mask=hole)
    last = restore.pipeline([_sr2(), _inpaint()])(x, mask=hole)
    big = hole.repeat(2, 0).repeat(2, 1)
    for out in (first, last):
        assert out.shape == (16, 20, 3)
        assert (out[big] == 255).all() and (out[~big] == 0).all()


def test_missing_mask_error_or_skip():
    x = np.full((8, 8, 3), 7, np.uint8)
    with pytest.raises(ValueError, match="needs mask"):
        restore.pipeline([_inpaint(), _sr2()])(x)
    p = Pipeline([_inpaint(), _sr2()], missing_mask="skip")
    assert not p.needs_mask
    assert (p(x) == 7).all() and p(x).shape == (16, 16, 3)


def test_colour_and_keywords_route_to_stages():
    gray = PIL.Image.fromarray(np.full((6, 6), 200, np.uint8))
    out = restore.pipeline([_sr2(), _colorize()])(gray)
    assert out.mode == "RGB" and out.size == (12, 12)
    # a stage's own keyword reaches it; a keyword no stage takes is refused
    seen = {}

    def fn(x, strength=1.0):
        seen["strength"] = strength
        return x

    p = restore.pipeline([_sr2(), _toy(fn)])
    p(np.zeros((4, 4, 3), np.uint8), strength=0.25)
    assert seen["strength"] == 0.25
    with pytest.raises(ValueError, match="no stage"):
        p(np.zeros((4, 4, 3), np.uint8), bogus=1)
    # scale= resizes the final result
    assert p(np.zeros((4, 6, 3), np.uint8), scale=3).shape == (12, 18, 3)


def test_batch_calls_and_tensors():
    p = restore.pipeline([_sr2(), _sr2()])
    assert p.scale == 4
    outs = p([np.zeros((3, 5, 3), np.uint8), torch.rand(2, 3, 4, 4)])
    assert outs[0].shape == (12, 20, 3) and outs[1].shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="at least one"):
        Pipeline([])
