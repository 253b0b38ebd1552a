"""Classical baselines: shapes, known pixels kept, holes filled plausibly."""

from __future__ import annotations

import pytest
import torch

from restore.data.resize import imresize
from restore.eval.baselines import (
    INPAINT_BASELINES,
    bicubic_upscale,
    grayscale_baseline,
    inpaint_biharmonic,
    inpaint_ns,
    inpaint_telea,
)


def _smooth_images() -> tuple[torch.Tensor, torch.Tensor]:
    """Two smooth 32 x 32 colour ramps and a square hole in each."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    a = torch.stack([xx, yy, 0.5 * (xx + yy)])
    images = torch.stack([a, a.flip(-1)]) * 0.8 + 0.1
    masks = torch.zeros(2, 1, 32, 32)
    masks[0, :, 10:18, 12:20] = 1
    masks[1, :, 20:28, 4:10] = 1
    return images, masks


@pytest.mark.parametrize("fn", [inpaint_telea, inpaint_ns, inpaint_biharmonic])
def test_inpaint_baselines_fill_holes_and_keep_known_pixels(fn):
    images, masks = _smooth_images()
    damaged = images * (1 - masks)  # holes are black
    out = fn(damaged, masks)
    assert out.shape == images.shape and out.dtype == torch.float32
    known = masks.expand_as(images) == 0
    assert torch.equal(out[known], damaged[known])
    hole = ~known
    assert (out[hole] - images[hole]).abs().mean() < 0.03  # a smooth ramp is easy to continue
    assert (damaged[hole] - images[hole]).abs().mean() > 0.3


def test_registry_and_empty_mask():
    assert list(INPAINT_BASELINES) == ["telea", "navier_stokes", "biharmonic"]
    images, _ = _smooth_images()
    none = torch.zeros(2, 1, 32, 32)
    for fn in INPAINT_BASELINES.values():
        assert torch.equal(fn(images, none), images)


def test_inpaint_checks_mask_shape():
    images, masks = _smooth_images()
    with pytest.raises(ValueError, match="masks"):
        inpaint_telea(images, masks[:, :, :16])
    with pytest.raises(ValueError, match="images"):
        inpaint_ns(images[:, :1], masks)


def test_bicubic_upscale():
    lr = torch.rand(1, 3, 8, 6)
    up = bicubic_upscale(lr, 4)
    assert up.shape == (1, 3, 32, 24)
    assert up.min() >= 0 and up.max() <= 1
    torch.testing.assert_close(up, imresize(lr, scale=4).clamp(0, 1))


def test_grayscale_baseline():
    x = torch.rand(2, 3, 5, 5)
    g = grayscale_baseline(x)
    assert g.shape == x.shape
    assert torch.equal(g[:, 0], g[:, 1]) and torch.equal(g[:, 1], g[:, 2])
