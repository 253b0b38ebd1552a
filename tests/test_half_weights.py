"""Weights stored as float16 (scripts/ship_model.py --fp16) load into float32 modules."""

from __future__ import annotations

import json
import shutil

import torch

import restore
from restore.core.checkpoint import load_tensors, save_tensors, sha256_file, to_float16


def test_float16_weights_load_as_float32_with_the_same_output(tiny_model_dir, tmp_path):
    half_dir = tmp_path / "half"
    shutil.copytree(tiny_model_dir, half_dir)
    tensors, meta = load_tensors(tiny_model_dir / "model.safetensors")
    assert any(v.dtype == torch.float32 for v in tensors.values())
    save_tensors(
        half_dir / "model.safetensors",
        to_float16(tensors),
        meta,
    )
    card = json.loads((half_dir / "model.json").read_text())
    card["runtime"]["sha256"] = sha256_file(half_dir / "model.safetensors")  # as ship_model does
    (half_dir / "model.json").write_text(json.dumps(card))
    assert (half_dir / "model.safetensors").stat().st_size < 0.6 * (
        tiny_model_dir / "model.safetensors"
    ).stat().st_size
    full = restore.load(tiny_model_dir, device="cpu")
    half = restore.load(half_dir, device="cpu")
    params = [p for m in half.modules.values() for p in m.parameters()]
    assert params and all(p.dtype == torch.float32 for p in params)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    a, b = full(x), half(x)
    assert not torch.equal(a, b)  # the weights were rounded ...
    torch.testing.assert_close(b, a, atol=2e-3, rtol=0)  # ... by float16's 11-bit mantissa
