"""EMA: hand-computed lerp, buffers copied, no grads, state dict round trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from restore.core.ema import EMA
from restore.errors import ConfigError


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))


def test_update_is_hand_computed_lerp_and_copies_buffers():
    net = _net()
    ema = EMA(net, decay=0.75)
    old = net[0].weight.detach().clone()
    with torch.no_grad():
        net[0].weight.add_(4.0)
        net[1].running_mean.fill_(3.0)
        net[1].num_batches_tracked.fill_(5)
    ema.update(net)
    # 0.75 * old + 0.25 * (old + 4) = old + 1
    torch.testing.assert_close(ema.module[0].weight, old + 1.0)
    torch.testing.assert_close(ema.module[0].bias, net[0].bias.detach())
    torch.testing.assert_close(ema.module[1].running_mean, torch.full((2,), 3.0))
    assert ema.module[1].num_batches_tracked.item() == 5


def test_copy_is_frozen_independent_and_in_eval_mode():
    net = _net()
    net(torch.randn(2, 1, 3, 3)).sum().backward()
    ema = EMA(net)
    assert not ema.module.training
    assert all(not p.requires_grad and p.grad is None for p in ema.module.parameters())
    assert ema.module[0].weight.data_ptr() != net[0].weight.data_ptr()
    out = ema.module(torch.randn(2, 1, 3, 3))
    assert not out.requires_grad
    ema.update(net)
    assert all(p.grad is None for p in ema.module.parameters())


@pytest.mark.parametrize(("decay", "moves"), [(0.0, True), (1.0, False)])
def test_decay_edges(decay, moves):
    net = _net()
    ema = EMA(net, decay=decay)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    ema.update(net)
    assert torch.equal(ema.module[0].weight, net[0].weight) is moves


def test_state_dict_round_trip():
    net = _net()
    ema = EMA(net, decay=0.5)
    with torch.no_grad():
        net[0].weight.mul_(3.0)
    ema.update(net)
    other = EMA(_net(), decay=0.5)
    other.load_state_dict(ema.state_dict())
    for key, value in ema.state_dict().items():
        torch.testing.assert_close(other.state_dict()[key], value)


@pytest.mark.parametrize("decay", [-0.1, 1.5])
def test_bad_decay(decay):
    with pytest.raises(ConfigError, match=f"decay={decay}"):
        EMA(_net(), decay=decay)


def test_update_with_another_architecture_raises():
    ema = EMA(_net())
    with pytest.raises(ValueError, match="parameters of the EMA copy"):
        ema.update(nn.Linear(1, 1))


def test_multi_tensor_update_equals_per_tensor_lerp_bit_for_bit():
    torch.manual_seed(1)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 1), nn.Linear(5, 5))
    ema = EMA(net, decay=0.999)
    expected = {k: v.clone() for k, v in ema.module.state_dict().items()}
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p))
        net[1].running_var.mul_(2.0)
    for k, p in net.named_parameters():
        expected[k].lerp_(p.detach(), 1.0 - 0.999)
    for k, b in net.named_buffers():
        expected[k].copy_(b)
    ema.update(net)
    for k, v in ema.module.state_dict().items():
        assert torch.equal(v, expected[k]), k
