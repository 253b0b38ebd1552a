"""Property tests: random arrays and random bytes into a Restorer raise only documented errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from restore.api import Restorer
from restore.core.checkpoint import prefixed, save_tensors, sha256_file
from restore.core.registry import build_network
from restore.errors import RestoreError

ARGS = {
    "base_channels": 4,
    "depth": 2,
    "max_channels": 8,
    "norm": "none",
    "dropout": 0.0,
    "output": "none",
}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    torch.manual_seed(0)
    G = build_network("unet", ARGS)
    d = tmp_path_factory.mktemp("model")
    st_path = d / "model.safetensors"
    save_tensors(st_path, prefixed("G", G.state_dict()))
    card = {
        "name": "fuzz",
        "task": "enhance",
        "generator": "unet",
        "generator_args": ARGS,
        "modules": ["G"],
        "inference": {"residual": True},
        "sha256": sha256_file(st_path),
    }
    (d / "model.json").write_text(json.dumps(card))
    return Restorer.from_pretrained(d, device="cpu", tile=64)


# documented: RestoreError (bad files, bad masks), ValueError / TypeError (bad array shapes / dtypes)
ALLOWED = (RestoreError, ValueError, TypeError)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    arrays(
        dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int32, np.bool_]),
        shape=st.tuples(st.integers(1, 40), st.integers(1, 40))
        | st.tuples(st.integers(1, 24), st.integers(1, 24), st.integers(1, 5)),
    )
)
def test_random_arrays(tiny_model, a):
    try:
        out = tiny_model(a)
    except ALLOWED:
        return
    assert isinstance(out, np.ndarray)
    assert out.dtype == a.dtype and out.shape == a.shape  # same kind back, scale 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=2048),
    st.sampled_from([".png", ".jpg", ".tif", ".webp", ".bmp", ".gif", ".txt"]),
)
def test_random_files(tiny_model, tmp_path_factory, data, suffix):
    p = tmp_path_factory.mktemp("f") / f"x{suffix}"
    p.write_bytes(data)
    try:
        tiny_model(p)
    except RestoreError:
        return


def test_edge_sizes_and_kinds(tiny_model):
    for shape in [(1, 1), (1, 1, 3), (2, 97, 3), (67, 1), (5, 5, 4), (9, 9, 2)]:
        a = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
        assert tiny_model(a).shape == a.shape
    t = torch.rand(3, 33, 35)
    assert tiny_model(t).shape == t.shape
    with pytest.raises(ValueError, match="float"):
        tiny_model(torch.zeros(3, 8, 8, dtype=torch.uint8))
    with pytest.raises(TypeError, match="cannot process"):
        tiny_model(object())
    with pytest.raises(ValueError, match="finite"):
        tiny_model(np.full((4, 4, 3), np.nan, np.float32))


def test_streamed_colour_path_equals_the_float_path(tiny_model):
    from restore.data.io import from_tensor, to_tensor

    a = np.random.default_rng(3).integers(0, 256, (150, 170, 3), dtype=np.uint8)  # > tile=64: tiled
    streamed = tiny_model(a)
    ref = from_tensor(tiny_model.run_tensor(to_tensor(a)))
    np.testing.assert_array_equal(streamed, ref)
