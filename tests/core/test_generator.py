"""UNetGenerator and the layer helpers (range conversion, norms, padding)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from restore.core.generator import (
    ResBlock,
    UNetGenerator,
    _upsample,
    convert_pix2pix_unet_state_dict,
    unet_channels,
)
from restore.core.layers import crop_to, make_norm, pad_to_multiple, to_signed, to_unit
from restore.errors import ConfigError

# --- a minimal copy of pix2pix's UnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix,
# models/networks.py, BSD licence), BatchNorm only, to check that ours computes the same. ---


class _RefBlock(nn.Module):
    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False,
                 innermost=False, use_dropout=False):  # fmt: skip
        super().__init__()
        self.outermost = outermost
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=False)
        downrelu, downnorm = nn.LeakyReLU(0.2, True), nn.BatchNorm2d(inner_nc)
        uprelu, upnorm = nn.ReLU(True), nn.BatchNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=False)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=False)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
            model += [nn.Dropout(0.5)] if use_dropout else []
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def _ref_unet(input_nc, output_nc, num_downs, ngf):
    block = _RefBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(num_downs - 5):
        block = _RefBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=True)
    block = _RefBlock(ngf * 4, ngf * 8, submodule=block)
    block = _RefBlock(ngf * 2, ngf * 4, submodule=block)
    block = _RefBlock(ngf, ngf * 2, submodule=block)
    ref = nn.Module()
    ref.model = _RefBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True)
    ref.forward = ref.model.forward
    return ref


def _randomize_bn(model: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --- parameters and structure ---


def test_classic_config_has_pix2pix_unet256_parameter_count():
    with torch.device("meta"):  # counting needs no memory
        net = UNetGenerator()
        ref = _ref_unet(3, 3, 8, 64)
    assert _n_params(net) == _n_params(ref) == 54_413_955
    assert net.size_multiple == 256
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == 3


@pytest.mark.parametrize(("depth", "size"), [(5, 32), (6, 64), (8, 256)])
def test_matches_pix2pix_reference_after_key_conversion(depth, size):
    torch.manual_seed(0)
    ref = _ref_unet(3, 3, depth, ngf=2)
    _randomize_bn(ref, seed=1)
    net = UNetGenerator(base_channels=2, depth=depth, max_channels=16)
    net.load_state_dict(convert_pix2pix_unet_state_dict(ref.state_dict(), depth), strict=True)
    ref.eval(), net.eval()
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(net(x), ref(x.clone()), rtol=1e-5, atol=1e-6)


def test_convert_rejects_unknown_key():
    with pytest.raises(ValueError, match="unexpected key 'model.extra.weight'"):
        convert_pix2pix_unet_state_dict({"model.extra.weight": torch.zeros(1)}, depth=5)


def test_unet_channels_are_capped():
    assert unet_channels(8, 64, 512) == [64, 128, 256, 512, 512, 512, 512, 512]
    assert unet_channels(4, 16, 32) == [16, 32, 32, 32]


# --- forward ---


def test_classic_forward_at_256_shape_and_tanh_range():
    torch.manual_seed(0)
    net = UNetGenerator()
    with torch.no_grad():
        y = net(torch.rand(1, 3, 256, 256) * 2 - 1)
    assert y.shape == (1, 3, 256, 256)
    assert y.abs().max() <= 1


@pytest.mark.parametrize(
    ("output", "low", "high"), [("tanh", -1.0, 1.0), ("sigmoid", 0.0, 1.0), ("none", None, None)]
)
def test_output_activation_range(output, low, high):
    torch.manual_seed(0)
    net = UNetGenerator(in_channels=1, out_channels=2, base_channels=4, depth=3, output=output)
    y = net(torch.randn(2, 1, 16, 24) * 10)
    assert y.shape == (2, 2, 16, 24)
    if low is not None:
        assert y.min() >= low and y.max() <= high
    else:
        assert not isinstance(net.up[0][-1], nn.Tanh | nn.Sigmoid)


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
@pytest.mark.parametrize("upsample", ["transposed", "resize", "pixelshuffle"])
def test_small_variants_train_one_step(norm, upsample):
    torch.manual_seed(0)
    net = UNetGenerator(base_channels=4, depth=4, max_channels=16, norm=norm, upsample=upsample)
    x = torch.rand(2, 3, 32, 32)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = (net(x) - x).abs().mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    out_weight = next(net.up[0][1].parameters())  # conv (transposed) or resize + conv
    w0 = out_weight.detach().clone()
    opt.step()
    assert not torch.equal(w0, out_weight)


def test_resize_upsampling_has_no_transposed_convs():
    net = UNetGenerator(base_channels=4, depth=3, upsample="resize")
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())
    assert sum(isinstance(m, nn.Upsample) for m in net.modules()) == 3


def test_pixelshuffle_upsampling_starts_as_nearest_upsampling():
    # ICNR: the four sub-pixel phases start with the same weights, so every 2x2 block of the
    # output is one value: no checkerboard before training.
    torch.manual_seed(0)
    up = _upsample("pixelshuffle", 5, 3, bias=True)
    y = up(torch.rand(2, 5, 6, 7))
    assert y.shape == (2, 3, 12, 14)
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        torch.testing.assert_close(y[..., dy::2, dx::2], y[..., ::2, ::2])
    assert y.std() > 0.01  # not a constant


def test_blocks_start_as_the_identity():
    # Each level gains `blocks` residual blocks whose last conv starts at zero: with the weights
    # of the layers both nets share, the net with blocks computes the same function.
    torch.manual_seed(0)
    plain = UNetGenerator(base_channels=4, depth=3, max_channels=16, norm="none", dropout=0.0)
    deep = UNetGenerator(
        base_channels=4, depth=3, max_channels=16, norm="none", dropout=0.0, blocks=2
    )
    assert sum(isinstance(m, ResBlock) for m in deep.modules()) == 2 * (2 * 3 - 1)
    missing, unexpected = deep.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(".body." in k for k in missing)
    x = torch.rand(2, 3, 16, 16)
    torch.testing.assert_close(deep(x), plain(x))


def test_blocks_from_puts_blocks_only_on_the_inner_levels():
    # depth 4, blocks_from 2: down levels 2 and 3 and up levels 2 and 3 (whose outputs have the
    # channels of levels 1 and 2) get the blocks; the outer levels keep one conv each
    torch.manual_seed(0)
    kw = {"base_channels": 4, "depth": 4, "max_channels": 16, "norm": "none", "dropout": 0.0}
    plain = UNetGenerator(**kw)
    inner = UNetGenerator(**kw, blocks=2, blocks_from=2)
    chans = {
        name: m.body[1].in_channels for name, m in inner.named_modules() if isinstance(m, ResBlock)
    }
    assert sorted({n.rsplit(".", 1)[0] for n in chans}) == ["down.2", "down.3", "up.2", "up.3"]
    assert len(chans) == 8
    assert chans["down.2.3"] == 16 and chans["up.2.3"] == 8  # ch = [4, 8, 16, 16]
    missing, unexpected = inner.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(
        k.startswith(("down.2.", "down.3.", "up.2.", "up.3.")) for k in missing
    )
    x = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(inner(x), plain(x))


def test_bias_only_where_no_batch_norm_follows():
    bn = UNetGenerator(base_channels=4, depth=3, norm="batch")
    inst = UNetGenerator(base_channels=4, depth=3, norm="instance")
    assert bn.down[0][0].bias is None and bn.up[1][1].bias is None
    assert bn.up[0][1].bias is not None  # the output conv keeps its bias
    assert inst.down[0][0].bias is not None and inst.up[1][1].bias is not None
    assert not any(isinstance(m, nn.BatchNorm2d) for m in inst.modules())


def test_forward_rejects_size_not_multiple():
    net = UNetGenerator(base_channels=4, depth=3)
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.zeros(1, 3, 12, 16))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"norm": "group"}, "norm='group'"),
        ({"upsample": "bilinear"}, "upsample='bilinear'"),
        ({"blocks": -1}, "blocks=-1"),
        ({"depth": 3, "blocks_from": 3}, "blocks_from=3"),
        ({"output": "relu"}, "output='relu'"),
        ({"depth": 1}, "depth=1"),
        ({"dropout": 1.0}, "dropout=1.0"),
        ({"base_channels": 0}, "base_channels=0"),
    ],
)
def test_bad_config_raises(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        UNetGenerator(**kwargs)


# --- layers ---


def test_range_conversion_round_trip():
    x = torch.tensor([0.0, 0.25, 1.0])
    torch.testing.assert_close(to_signed(x), torch.tensor([-1.0, -0.5, 1.0]))
    torch.testing.assert_close(to_unit(to_signed(x)), x)


def test_make_norm_kinds():
    inst = make_norm("instance", 4)
    assert isinstance(inst, nn.InstanceNorm2d) and not inst.affine
    assert not inst.track_running_stats
    assert isinstance(make_norm("batch", 4), nn.BatchNorm2d)
    assert isinstance(make_norm("none", 4), nn.Identity)
    with pytest.raises(ConfigError, match="norm='layer'"):
        make_norm("layer", 4)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "constant"])
def test_pad_to_multiple_and_crop_back(mode):
    x = torch.rand(2, 3, 30, 33)
    y, size = pad_to_multiple(x, 16, mode=mode)
    assert y.shape == (2, 3, 32, 48) and size == (30, 33)
    torch.testing.assert_close(crop_to(y, size), x)
    same, _ = pad_to_multiple(y, 16)
    assert same is y


def test_pad_errors():
    with pytest.raises(ValueError, match="use mode='replicate'"):
        pad_to_multiple(torch.zeros(1, 3, 5, 5), 16)
    with pytest.raises(ConfigError, match="mode='circular'"):
        pad_to_multiple(torch.zeros(1, 3, 5, 5), 8, mode="circular")
    with pytest.raises(ValueError, match="cannot crop"):
        crop_to(torch.zeros(1, 3, 4, 4), (5, 4))


def test_padded_input_runs_through_generator():
    net = UNetGenerator(base_channels=4, depth=3).eval()
    x = torch.rand(1, 3, 13, 21)
    y, size = pad_to_multiple(x, net.size_multiple, mode="replicate")
    with torch.no_grad():
        out = crop_to(net(y), size)
    assert out.shape == x.shape
