"""SRNet: shapes per scale, parameter count of the pixel-shuffle layout, bicubic start, args."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from restore.core.registry import build_network
from restore.core.srnet import SRNet, num_parameters
from restore.errors import ConfigError


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_shapes(scale):
    net = SRNet(scale=scale, channels=8, n_blocks=2)
    y = net(torch.rand(2, 3, 11, 7))
    assert y.shape == (2, 3, 11 * scale, 7 * scale)


@pytest.mark.parametrize("scale,c,n", [(4, 32, 6), (2, 32, 6), (4, 48, 8), (2, 16, 0)])
def test_parameter_count(scale, c, n):
    conv = lambda ci, co: ci * co * 9 + co  # noqa: E731
    expected = conv(3, c) + n * 2 * conv(c, c) + conv(c, c) + conv(c, 3 * scale * scale)
    assert num_parameters(SRNet(scale=scale, channels=c, n_blocks=n)) == expected


def test_default_layout_is_small():
    assert num_parameters(SRNet(scale=4)) == 134_992


def test_untrained_is_bicubic():
    net = SRNet(scale=4, channels=8, n_blocks=1)
    x = torch.rand(1, 3, 9, 10)
    ref = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(x), ref)


def test_pixel_shuffle_places_subpixels():
    net = SRNet(scale=2, channels=4, n_blocks=0, skip="none")
    with torch.no_grad():
        net.upsample.bias.copy_(torch.arange(12.0))
    y = net(torch.zeros(1, 3, 3, 3))
    # channel c*4 + (i*2 + j) goes to sub-pixel (i, j) of colour c
    assert y[0, 1, 0, 1].item() == 5.0 and y[0, 2, 3, 2].item() == 10.0


def test_registry_and_bad_args():
    assert isinstance(build_network("srnet", {"scale": 2, "channels": 8}), SRNet)
    with pytest.raises(ConfigError, match="scale"):
        SRNet(scale=5)
    with pytest.raises(ConfigError, match="skip"):
        SRNet(skip="bilinear")
    with pytest.raises(ConfigError, match="model.generator_args.width"):
        build_network("srnet", {"width": 8}, key="model.generator_args")
    with pytest.raises(ValueError, match=r"\(B, 3, h, w\)"):
        SRNet(channels=4, n_blocks=0)(torch.zeros(1, 1, 4, 4))


def test_gradients_flow():
    net = SRNet(scale=2, channels=8, n_blocks=1)
    torch.nn.init.normal_(net.upsample.weight, std=0.01)
    net(torch.rand(1, 3, 6, 6)).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
