"""PatchDiscriminator: pix2pix sizes, receptive field, features, spectral norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from restore.core.discriminator import PatchDiscriminator
from restore.core.losses import discriminator_loss
from restore.errors import ConfigError


def _ref_nlayer(input_nc, ndf=64, n_layers=3):
    """pix2pix NLayerDiscriminator with BatchNorm (junyanz/pytorch-CycleGAN-and-pix2pix, BSD)."""
    seq = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, n_layers):
        prev, mult = mult, min(2**n, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=False)]
        seq += [nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
    prev, mult = mult, min(2**n_layers, 8)
    seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=False)]
    seq += [nn.BatchNorm2d(ndf * mult), nn.LeakyReLU(0.2, True)]
    seq += [nn.Conv2d(ndf * mult, 1, 4, 1, 1)]
    ref = nn.Module()
    ref.model = nn.Sequential(*seq)
    return ref


def test_classic_config_matches_pix2pix_sizes():
    d = PatchDiscriminator()
    assert sum(p.numel() for p in d.parameters()) == 2_768_705
    assert d.receptive_field == 70
    with torch.no_grad():
        assert d(torch.zeros(1, 6, 256, 256)).shape == (1, 1, 30, 30)


def test_loads_pix2pix_state_dict_and_computes_the_same():
    torch.manual_seed(0)
    ref = _ref_nlayer(6, ndf=4).eval()
    d = PatchDiscriminator(base_channels=4).eval()
    d.load_state_dict(ref.state_dict(), strict=True)
    x = torch.randn(2, 6, 48, 48)
    with torch.no_grad():
        torch.testing.assert_close(d(x), ref.model(x.clone()))


@pytest.mark.parametrize(("n_layers", "field"), [(1, 16), (2, 34), (3, 70)])
def test_receptive_field_matches_gradient_support(n_layers, field):
    torch.manual_seed(0)
    d = PatchDiscriminator(in_channels=1, base_channels=2, n_layers=n_layers, norm="none")
    assert d.receptive_field == field
    x = torch.randn(1, 1, 96, 96, requires_grad=True)
    logits = d(x)
    i, j = logits.shape[-2] // 2, logits.shape[-1] // 2
    (grad,) = torch.autograd.grad(logits[0, 0, i, j], x)
    rows = grad[0, 0].abs().sum(1).nonzero()
    cols = grad[0, 0].abs().sum(0).nonzero()
    assert rows.max() - rows.min() + 1 == field
    assert cols.max() - cols.min() + 1 == field


def test_return_features():
    d = PatchDiscriminator(in_channels=3, base_channels=4, n_layers=3)
    x = torch.randn(2, 3, 64, 64)
    logits, feats = d(x, return_features=True)
    assert len(feats) == 4
    assert [f.shape[1] for f in feats] == [4, 8, 16, 32]
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 7]
    assert logits.shape == (2, 1, 6, 6)
    torch.testing.assert_close(d.eval()(x), d(x, return_features=True)[0])


@pytest.mark.parametrize("norm", ["instance", "none"])
def test_norm_variants_have_biases(norm):
    d = PatchDiscriminator(in_channels=3, base_channels=4, norm=norm)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is not None for c in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    assert d(torch.randn(1, 3, 64, 64)).shape == (1, 1, 6, 6)


def test_spectral_norm_trains_one_step_and_bounds_sigma():
    torch.manual_seed(0)
    d = PatchDiscriminator(in_channels=3, base_channels=4, n_layers=2, spectral_norm=True)
    d = d.train()
    assert d.receptive_field == 34
    opt = torch.optim.Adam(d.parameters(), lr=1e-3)
    real, fake = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    w0 = d.model[0].parametrizations.weight.original.detach().clone()
    loss = discriminator_loss(d(real), d(fake), "hinge")
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert not torch.equal(w0, d.model[0].parametrizations.weight.original)
    with torch.no_grad():
        for _ in range(30):  # let the power iteration converge
            d(real)
        d.eval()
        for m in d.modules():
            if isinstance(m, nn.Conv2d):
                sigma = torch.linalg.matrix_norm(m.weight.flatten(1), ord=2)
                assert sigma == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"norm": "layer"}, "norm='layer'"), ({"n_layers": 0}, "n_layers=0")],
)
def test_bad_config_raises(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        PatchDiscriminator(**kwargs)


def test_rejects_non_image_input():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        PatchDiscriminator(in_channels=3, base_channels=2)(torch.zeros(3, 32, 32))
