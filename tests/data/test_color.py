"""Colour conversions against skimage.color (MATLAB's rgb2ycbcr / ycbcr2rgb conventions)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.color import rgb2ycbcr, ycbcr2rgb

from restore.data.color import (
    rgb_to_gray,
    rgb_to_y_studio,
    rgb_to_ycbcr_studio,
    ycbcr_studio_to_rgb,
)


def _random_rgb(b: int = 2, h: int = 7, w: int = 5) -> torch.Tensor:
    return torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(0))


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).double().numpy()


def test_ycbcr_matches_skimage():
    x = _random_rgb()
    ours = rgb_to_ycbcr_studio(x) * 255
    for b in range(x.shape[0]):
        ref = rgb2ycbcr(_hwc(x[b]))
        np.testing.assert_allclose(_hwc(ours[b]), ref, atol=1e-4)


def test_y_matches_skimage_and_range():
    x = _random_rgb()
    y = rgb_to_y_studio(x)
    assert y.shape == (2, 1, 7, 5)
    for b in range(x.shape[0]):
        np.testing.assert_allclose(
            y[b, 0].double().numpy() * 255, rgb2ycbcr(_hwc(x[b]))[..., 0], atol=1e-4
        )
    black, white = torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)
    assert rgb_to_y_studio(black).item() == pytest.approx(16 / 255)
    assert rgb_to_y_studio(white).item() == pytest.approx(235 / 255)


def test_inverse_round_trip_and_matches_skimage():
    x = _random_rgb().double()
    ycc = rgb_to_ycbcr_studio(x)
    torch.testing.assert_close(ycbcr_studio_to_rgb(ycc), x)
    ref = ycbcr2rgb(_hwc(ycc[0]) * 255)
    np.testing.assert_allclose(_hwc(ycbcr_studio_to_rgb(ycc)[0]), ref, atol=1e-6)


def test_follows_dtype_and_accepts_unbatched():
    x = _random_rgb()[0].double()
    assert rgb_to_y_studio(x).shape == (1, 7, 5)
    assert rgb_to_y_studio(x).dtype == torch.float64


def test_gray():
    x = _random_rgb()
    gray = rgb_to_gray(x)
    expected = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    torch.testing.assert_close(gray[:, 0], expected)
    rgb = rgb_to_gray(x, keep_channels=True)
    assert rgb.shape == x.shape
    assert torch.equal(rgb[:, 0], rgb[:, 2])
    flat = torch.full((1, 3, 2, 2), 0.4)
    torch.testing.assert_close(rgb_to_gray(flat), torch.full((1, 1, 2, 2), 0.4))


@pytest.mark.parametrize(
    "fn", [rgb_to_y_studio, rgb_to_ycbcr_studio, ycbcr_studio_to_rgb, rgb_to_gray]
)
def test_rejects_wrong_channels(fn):
    with pytest.raises(ValueError, match="3, H, W"):
        fn(torch.rand(1, 4, 2, 2))
    with pytest.raises(ValueError, match="floating-point"):
        fn(torch.zeros(1, 3, 2, 2, dtype=torch.uint8))
