"""restore.eval.sharpness: the gradient-magnitude ratio the SR protocol reports as grad_ratio."""

from __future__ import annotations

import pytest
import torch

from restore.eval.sharpness import gradient_magnitude, gradient_ratio


def _image(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, 32, 32, generator=g)


def test_ratio_is_one_for_the_target_and_below_for_blur():
    hr = _image()
    assert gradient_ratio(hr, hr, shave=4) == pytest.approx(1.0)
    blurred = torch.nn.functional.avg_pool2d(hr, 3, stride=1, padding=1)
    assert gradient_ratio(blurred, hr, shave=4) < 0.6
    sharper = (hr + 0.5 * (hr - blurred)).clamp(0, 1)
    assert gradient_ratio(sharper, hr, shave=4) > 1.0
    flat = torch.full_like(hr, 0.5)
    assert gradient_ratio(hr, flat) != gradient_ratio(hr, flat)  # nan for a flat target


def test_gradient_magnitude_of_a_ramp():
    # a horizontal ramp of slope 1 per pixel: Sobel / 8 gives exactly 1 inside
    y = torch.arange(10.0).repeat(10, 1)[None, None]
    assert gradient_magnitude(y).tolist() == pytest.approx([1.0])
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        gradient_magnitude(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="expected two"):
        gradient_ratio(_image(), _image()[..., :16])
