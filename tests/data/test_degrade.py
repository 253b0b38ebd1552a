from __future__ import annotations

import math

import pytest
import torch

from restore.data.degrade import (
    OLD_PHOTO_EFFECTS,
    DegradationConfig,
    OldPhotoConfig,
    add_gaussian_noise,
    add_poisson_noise,
    gaussian_blur,
    jpeg,
    old_photo_damage,
    random_kernel,
    rgb_to_lab_l,
    second_order_degradation,
    sinc_kernel,
    to_gray,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def img() -> torch.Tensor:
    """Smooth colourful images (a blurred random field) in [0, 1]."""
    x = torch.rand(2, 3, 8, 8, generator=_gen(123))
    return torch.nn.functional.interpolate(x, size=(64, 64), mode="bilinear").clamp(0, 1)


# ------------------------------------------------------------------ kernels


@pytest.mark.parametrize("sinc_prob", [0.0, 0.5, 1.0])
def test_random_kernels_sum_to_one(sinc_prob):
    k = random_kernel(32, generator=_gen(0), sinc_prob=sinc_prob)
    assert k.shape == (32, 21, 21) and torch.isfinite(k).all()
    torch.testing.assert_close(k.sum((1, 2)), torch.ones(32))
    if sinc_prob == 0:
        assert (k >= 0).all()
        # symmetric under a half turn, peak at the centre
        torch.testing.assert_close(k, k.flip(1, 2))
        assert (k[:, 10, 10] == k.amax((1, 2))).all()


def test_kernel_sizes_respected():
    k = random_kernel(16, generator=_gen(1), kernel_sizes=(7,), sinc_prob=0.5)
    assert k.shape == (16, 7, 7)
    torch.testing.assert_close(k.sum((1, 2)), torch.ones(16))


def test_isotropic_gaussian_kernel_matches_formula():
    probs = (1.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    k = random_kernel(4, generator=_gen(2), kernel_sizes=(21,), kernel_probs=probs, sinc_prob=0.0)
    # fit sigma from the second moment and compare with the closed form
    ax = torch.arange(21.0) - 10
    var = (k.sum(1) * ax**2).sum(1)
    ref = torch.exp(-0.5 * (ax[None, :, None] ** 2 + ax[None, None, :] ** 2) / var[:, None, None])
    torch.testing.assert_close(k, ref / ref.sum((1, 2), keepdim=True), atol=2e-3, rtol=0)


def test_sinc_kernel_is_low_pass():
    k = sinc_kernel(torch.tensor([math.pi / 4, math.pi]), 21)
    torch.testing.assert_close(k.sum((1, 2)), torch.ones(2))
    spectrum = torch.fft.fft2(k).abs()
    # cut-off pi/4: the Nyquist corner is strongly attenuated; cut-off pi: it is not
    assert spectrum[0, 10, 10] < 0.2 and spectrum[1, 5, 5] > 0.5


# ------------------------------------------------------- second-order degradation


@pytest.mark.parametrize("scale", [2, 4])
def test_second_order_shape_range_quantized(img, scale):
    lr = second_order_degradation(img, scale, generator=_gen(0))
    assert lr.shape == (2, 3, 64 // scale, 64 // scale) and lr.dtype == torch.float32
    assert lr.min() >= 0 and lr.max() <= 1
    torch.testing.assert_close(lr, (lr * 255).round() / 255)


def test_second_order_reproducible_and_seed_sensitive(img):
    a = second_order_degradation(img, 4, generator=_gen(5))
    b = second_order_degradation(img, 4, generator=_gen(5))
    c = second_order_degradation(img, 4, generator=_gen(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_second_order_stays_close_to_bicubic_lr(img):
    # on a smooth image, the degraded LR is a noisy, blurred version of the plain downscale
    ref = torch.nn.functional.interpolate(img, scale_factor=0.25, mode="area")
    errs = [
        (second_order_degradation(img, 4, generator=_gen(s)) - ref).abs().mean() for s in range(4)
    ]
    assert max(errs) < 0.15


def test_second_order_rejects_bad_input(img):
    with pytest.raises(ValueError, match="divisible"):
        second_order_degradation(img[..., :63, :], 4, generator=_gen(0))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        second_order_degradation(img[:, :1], 4, generator=_gen(0))
    with pytest.raises(ValueError, match="second_blur_prob"):
        DegradationConfig(second_blur_prob=1.5)


# ---------------------------------------------------------------- simple ops


@pytest.mark.parametrize("sigma", [5 / 255, 25 / 255])
def test_gaussian_noise_std(sigma):
    x = torch.full((2, 3, 64, 64), 0.5)
    y = add_gaussian_noise(x, sigma, generator=_gen(0))
    assert (y - x).std().item() == pytest.approx(sigma, rel=0.05)
    assert (y - x).mean().abs() < sigma / 20


def test_gaussian_noise_per_image_sigma_and_gray():
    x = torch.full((2, 3, 64, 64), 0.5)
    y = add_gaussian_noise(
        x, torch.tensor([0.02, 0.08]), generator=_gen(0), gray=torch.tensor([True, False])
    )
    d = y - x
    assert d[0].std().item() == pytest.approx(0.02, rel=0.05)
    assert d[1].std().item() == pytest.approx(0.08, rel=0.05)
    assert torch.equal(d[0, 0], d[0, 1]) and not torch.equal(d[1, 0], d[1, 1])


def test_noise_clamped_reproducible():
    x = torch.rand(2, 3, 32, 32, generator=_gen(9))
    for fn, arg in ((add_gaussian_noise, 0.3), (add_poisson_noise, 3.0)):
        a, b = fn(x, arg, generator=_gen(1)), fn(x, arg, generator=_gen(1))
        assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1
        assert not torch.equal(a, fn(x, arg, generator=_gen(2)))


def test_poisson_noise_grows_with_intensity():
    x = torch.cat([torch.full((1, 3, 64, 64), 0.1), torch.full((1, 3, 64, 64), 0.8)])
    d = add_poisson_noise(x, 1.0, generator=_gen(0)) - x
    # variance of poisson(256 x) / 256 is x / 256
    assert d[0].var().item() == pytest.approx(0.1 / 256, rel=0.1)
    assert d[1].var().item() == pytest.approx(0.8 / 256, rel=0.1)


def test_jpeg_per_image_quality(img):
    out = jpeg(img, torch.tensor([10.0, 95.0]))
    assert out.shape == img.shape and out.min() >= 0 and out.max() <= 1
    err = (out - img).abs().mean((1, 2, 3))
    assert err[0] > 2 * err[1] and err[1] < 0.02
    with pytest.raises(ValueError, match="quality"):
        jpeg(img, 0.0)


def test_gaussian_blur_smooths_and_keeps_mean():
    x = torch.rand(2, 3, 32, 32, generator=_gen(0))
    y = gaussian_blur(x, torch.tensor([0.5, 2.0]))
    assert y.shape == x.shape
    assert y[1].std() < y[0].std() < x[0].std()
    torch.testing.assert_close(y.mean(), x.mean(), atol=5e-3, rtol=0)
    with pytest.raises(ValueError, match="sigma"):
        gaussian_blur(x, 0.0)


def test_gray_and_lab_l():
    x = torch.rand(2, 3, 16, 16, generator=_gen(0))
    g = to_gray(x)
    torch.testing.assert_close(g, 0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:])
    white, black = torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 4, 4)
    torch.testing.assert_close(rgb_to_lab_l(white), torch.ones(1, 1, 4, 4), atol=1e-4, rtol=0)
    torch.testing.assert_close(rgb_to_lab_l(black), torch.zeros(1, 1, 4, 4))
    torch.testing.assert_close(rgb_to_lab_l(x, normalize=False), 100 * rgb_to_lab_l(x))
    l_ = rgb_to_lab_l(x)
    assert l_.shape == (2, 1, 16, 16) and l_.min() >= 0 and l_.max() <= 1


# ---------------------------------------------------------------- old photo


def test_old_photo_default(img):
    out, mask = old_photo_damage(img, generator=_gen(0))
    assert out.shape == img.shape and mask.shape == (2, 1, 64, 64)
    assert out.min() >= 0 and out.max() <= 1 and mask.dtype == torch.float32
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    a, b = old_photo_damage(img, generator=_gen(0)), old_photo_damage(img, generator=_gen(0))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], old_photo_damage(img, generator=_gen(1))[0])


@pytest.mark.parametrize("effect", ["scratch", "dust", "crease"])
def test_local_damage_only_inside_mask(img, effect):
    out, mask = old_photo_damage(img, generator=_gen(2), config=OldPhotoConfig.only(effect))
    assert (mask.mean((1, 2, 3)) > 0).all()
    changed = (out - img).abs().amax(1, keepdim=True) > 1e-6
    assert not (changed & (mask == 0)).any()  # nothing changes outside the mask
    assert changed[mask == 1].float().mean() > 0.8  # most masked pixels do change


@pytest.mark.parametrize("effect", ["fade", "sepia", "cast", "grain", "blur", "jpeg"])
def test_global_effects_change_image_not_mask(img, effect):
    out, mask = old_photo_damage(img, generator=_gen(3), config=OldPhotoConfig.only(effect))
    assert mask.sum() == 0
    assert (out - img).abs().mean() > 1e-3


def test_all_effects_damage_concentrated_in_mask(img):
    cfg = OldPhotoConfig.only(*OLD_PHOTO_EFFECTS)
    out, mask = old_photo_damage(img, generator=_gen(4), config=cfg)
    diff = (out - img).abs().mean(1, keepdim=True)
    assert mask.sum() > 0
    assert diff[mask == 1].mean() > 2 * diff[mask == 0].mean()


def test_fade_reduces_contrast(img):
    out, _ = old_photo_damage(img, generator=_gen(5), config=OldPhotoConfig.only("fade"))
    assert out.std((1, 2, 3)).lt(img.std((1, 2, 3))).all()


def test_old_photo_config_validation():
    with pytest.raises(ValueError, match="scratch_prob"):
        OldPhotoConfig(scratch_prob=2.0)
    with pytest.raises(ValueError, match="unknown effects"):
        OldPhotoConfig.only("mold")
