"""The enhance stage's split into one tone curve and the local clean-up (restore.photo.global_tone)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from restore.photo.global_tone import BINS, apply_curve, global_enhance, tone_curve


def smooth_photo(seed: int, h: int = 96, w: int = 128) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    small = torch.rand(1, 3, h // 16, w // 16, generator=g)
    return F.interpolate(small, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


def test_a_global_curve_is_kept():
    x = smooth_photo(0)
    e = x**0.7  # a monotone curve, the same everywhere
    y = global_enhance(x, e)
    # within the quantisation of 32 bins (a knot every 1/31, the curve's slope is at most ~2)
    assert float((y - e).abs().mean()) < 0.01
    assert float((y - e).abs().max()) < 0.06


def test_blocky_tone_change_becomes_one_offset():
    x = torch.full((1, 3, 128, 128), 0.5)
    blocks = torch.tensor([[0.1, -0.1], [-0.1, 0.1]]).repeat(2, 2)  # 32-px blocks of +-0.1
    e = x + F.interpolate(blocks[None, None], size=(128, 128), mode="nearest")
    y = global_enhance(x, e)
    # a flat photo has one intensity: its tone change is one number (the mean, 0), no blocks left
    # beyond the local part of the block edges (within a blur width of them)
    # (sigma = 128 / 64 = 2 px): away from the edges (>= 8 px) every block is back at 0.5
    d = torch.arange(128) % 32
    far = (torch.minimum(d, 31 - d) >= 8) & (torch.arange(128) >= 8) & (torch.arange(128) < 120)
    inner = y[..., far, :][..., far]
    torch.testing.assert_close(inner, torch.full_like(inner, 0.5), atol=1e-4, rtol=0)
    assert float((e[..., far, :][..., far] - 0.5).abs().min()) == pytest.approx(0.1)


def test_local_clean_up_is_kept():
    x0 = smooth_photo(1)
    noise = 0.05 * torch.randn(1, 1, 96, 128, generator=torch.Generator().manual_seed(2))
    x = (x0 + noise).clamp(0, 1)
    y = global_enhance(x, x0)  # the model removed the grain
    assert float((y - x0).abs().mean()) < 0.25 * float((x - x0).abs().mean())


def test_tone_curve_by_hand():
    # src 0 -> dst 0.1 and src 1 -> dst 0.8 (two bins with data): interpolated offset inside
    src = torch.tensor([0.0] * 50 + [1.0] * 50)
    dst = torch.tensor([0.1] * 50 + [0.8] * 50)
    c = tone_curve(src, dst)
    xs = np.linspace(0, 1, BINS)
    np.testing.assert_allclose(c, xs + 0.1 + (-0.2 - 0.1) * xs, atol=1e-6)
    # one bin only: its offset is kept everywhere; a falling mapping is made non-decreasing
    c1 = tone_curve(torch.full((10,), 0.5), torch.full((10,), 0.7))
    np.testing.assert_allclose(c1, xs + 0.2, atol=1e-6)
    falling = tone_curve(src, 1 - src)
    assert np.all(np.diff(falling) >= 0)


def test_bad_shapes():
    with pytest.raises(ValueError, match="two"):
        global_enhance(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 9))


def test_local_share_scales_only_the_local_change():
    x0 = smooth_photo(3)
    noise = 0.05 * torch.randn(1, 1, 96, 128, generator=torch.Generator().manual_seed(4))
    x = (x0 + noise).clamp(0.05, 0.95)
    e = (x0 * 0.8 + 0.1).clamp(0, 1)  # the model removed the grain and lowered the contrast
    full = global_enhance(x, e)
    none = global_enhance(x, e, local=0.0)
    half = global_enhance(x, e, local=0.5)
    # local 0: the curve maps every pixel: the grain stays, scaled by the curve's slope (0.8), and
    # the tone change is made (the contrast drop, by the mean per channel)
    hp = lambda t: t - F.avg_pool2d(t, 5, 1, 2, count_include_pad=False)  # noqa: E731
    inner = (..., slice(8, -8), slice(8, -8))
    ratio = float(hp(none)[inner].std() / hp(x)[inner].std())
    assert 0.75 < ratio < 0.85
    torch.testing.assert_close(none.mean((2, 3)), e.mean((2, 3)), atol=0.01, rtol=0)
    assert float(hp(full)[inner].std()) < 0.3 * float(hp(x)[inner].std())
    # and the share blends the two (no clamping here: values stay inside [0, 1])
    torch.testing.assert_close(half, (full + none) / 2, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="local"):
        global_enhance(x, e, local=1.5)


def test_apply_curve_is_numpys_interp():
    g = torch.Generator().manual_seed(5)
    curve = torch.cumsum(torch.rand(BINS, generator=g, dtype=torch.float64), 0) / BINS
    v = torch.cat([torch.rand(1000, generator=g), torch.tensor([0.0, 1.0, 0.5])])
    want = np.interp(v.numpy(), np.linspace(0, 1, BINS), curve.numpy())
    np.testing.assert_allclose(apply_curve(v, curve).numpy(), want, atol=1e-6)


def test_the_gate_drops_weak_curves_keeps_strong_ones_and_ramps_between():
    from restore.photo.global_tone import curve_strength

    x = smooth_photo(6)
    for offset, want_k in ((2 / 255, 0.0), (7 / 255, 0.5), (20 / 255, 1.0)):
        e = (x + offset).clamp(0, 1)
        whole = global_enhance(x, e, local=0.0)
        gated = global_enhance(x, e, local=0.0, gate=(4.0, 10.0))
        # the curve's strength: its RMS move over the (low-pass) photo, here the offset itself
        # wherever the shifted photo is not clipped at 1
        moved = (whole - x).pow(2).mean().sqrt() * 255
        assert float(moved) == pytest.approx(offset * 255, rel=0.1)
        # a curve through the gate is the identity pulled toward the whole curve by k (in the
        # ramp, k follows the strength measured on the low-pass photo: within ~10% of the offset)
        tol = (0.15 if 0 < want_k < 1 else 0.02) * offset
        torch.testing.assert_close(gated, torch.lerp(x, whole, want_k), atol=tol, rtol=0)
    ident = [torch.linspace(0, 1, BINS, dtype=torch.float64)] * 3
    assert curve_strength(x[0], ident) == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(ValueError, match="gate"):
        global_enhance(x, x, gate=(5.0, 2.0))


def test_curves_fitted_on_a_small_copy_apply_to_the_full_photo():
    from restore.photo.global_tone import WORKING_SIDE, working_factor

    big = smooth_photo(3, 384, 512)
    small = F.interpolate(big, scale_factor=0.25, mode="area")
    y = global_enhance(small, small**0.7, local=0.0, apply_to=big)
    assert y.shape == big.shape
    torch.testing.assert_close(y, big**0.7, atol=0.08, rtol=0)  # the small copy's curve
    same = global_enhance(big, big**0.7, local=0.0)
    assert float((y - same).abs().mean()) < 0.01  # as fitting at full size would
    with pytest.raises(ValueError, match="apply_to"):
        global_enhance(small, small**0.7, local=0.5, apply_to=big)
    assert working_factor(WORKING_SIDE * 2 - 1, 4000) == 1
    assert working_factor(WORKING_SIDE * 2, 4000) == 2
    assert working_factor(WORKING_SIDE * 8, WORKING_SIDE * 9) == 8


def test_shared_curve_keeps_the_colour_balance():
    """A model that warms the photo (red up, blue down by 0.06): per-channel curves put that cast
    in; one curve shared by the channels is their mean (here the identity) and keeps it out."""
    x = smooth_photo(7) * 0.8 + 0.1
    warm = x + torch.tensor([0.06, 0.0, -0.06]).view(1, 3, 1, 1)
    per_channel = global_enhance(x, warm, local=0.0)
    torch.testing.assert_close(per_channel, warm, atol=0.01, rtol=0)
    shared = global_enhance(x, warm, local=0.0, shared=[True])
    torch.testing.assert_close(shared, x, atol=0.005, rtol=0)
    # a contrast change (the same on every channel) is kept whole by the shared curve, and a
    # neutral pixel stays neutral
    grey_x = torch.cat([x, x.mean(1, keepdim=True).expand(-1, 3, -1, -1)])
    y = global_enhance(grey_x, grey_x * 0.8 + 0.1, local=0.0, shared=[True, True])
    torch.testing.assert_close(y, grey_x * 0.8 + 0.1, atol=0.01, rtol=0)
    assert float((y[1].amax(0) - y[1].amin(0)).max()) == 0.0
    # a batch: only the marked photo is shared
    both = global_enhance(
        torch.cat([x, x]), torch.cat([warm, warm]), local=0.0, shared=[False, True]
    )
    torch.testing.assert_close(both[0], per_channel[0])
    torch.testing.assert_close(both[1], shared[0])
    with pytest.raises(ValueError, match="shared"):
        global_enhance(x, warm, shared=[True, False])


def test_gate_judges_the_shared_curve_it_applies():
    """A colour photo's gate measures the one curve it gets, not the channel curves averaged into
    it: a model that warms the photo (red +15 levels) and lifts it (+5 on green and blue) moves
    the channels by 9.6 levels RMS, nearly through a (4, 10) gate, but their shared curve moves
    the photo by only 8.3 levels, which the ramp scales by (8.3 - 4) / 6 = 0.72."""
    x = smooth_photo(8) * 0.8 + 0.1
    shift = torch.tensor([15.0, 5.0, 5.0]).view(1, 3, 1, 1) / 255
    e = x + shift
    y = global_enhance(x, e, local=0.0, gate=(4.0, 10.0), shared=[True])
    whole = global_enhance(x, e, local=0.0, shared=[True])
    mean_shift = float(shift.mean()) * 255  # 8.33 levels, the shared curve's move
    assert float((whole - x).mean()) * 255 == pytest.approx(mean_shift, rel=0.05)
    k = (mean_shift - 4.0) / 6.0
    assert float((y - x).mean()) * 255 == pytest.approx(k * mean_shift, rel=0.1)
    # judged on the channel curves (RMS 9.6 levels), the ramp would have kept 0.93 of it
    channel_rms = float(shift.pow(2).mean().sqrt()) * 255
    assert (channel_rms - 4.0) / 6.0 > k + 0.15
