"""Adversarial losses, penalties, feature matching and Charbonnier against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd import gradcheck

from restore.core.losses import (
    GAN_MODES,
    AdversarialLoss,
    CharbonnierLoss,
    FeatureMatchingLoss,
    charbonnier_loss,
    discriminator_loss,
    feature_matching_loss,
    generator_loss,
    gradient_penalty,
    r1_penalty,
)
from restore.errors import ConfigError


def sp(x: float) -> float:
    """softplus, written out: log(1 + e^x)."""
    return math.log1p(math.exp(x))


# real logits r = [2, -1] (mean 0.5), fake logits f = [0, 3] (mean 1.5)
REAL = [2.0, -1.0]
FAKE = [0.0, 3.0]
EXPECTED_D = {
    "vanilla": (sp(-2) + sp(1)) / 2 + (sp(0) + sp(3)) / 2,
    "lsgan": (1 + 4) / 2 + (0 + 9) / 2,  # (r-1)^2 = [1, 4], f^2 = [0, 9]
    "hinge": (0 + 2) / 2 + (1 + 4) / 2,  # relu(1-r) = [0, 2], relu(1+f) = [1, 4]
    "wgan": 1.5 - 0.5,
    # r - E f = [0.5, -2.5], f - E r = [-0.5, 2.5]
    "ragan": (sp(-0.5) + sp(2.5)) / 2 + (sp(-0.5) + sp(2.5)) / 2,
}
EXPECTED_G = {
    "vanilla": (sp(-0) + sp(-3)) / 2,
    "lsgan": (1 + 4) / 2,  # (f-1)^2 = [1, 4]
    "hinge": -1.5,
    "wgan": -1.5,
    "ragan": (sp(0.5) + sp(-2.5)) / 2 + (sp(0.5) + sp(-2.5)) / 2,
}


def _logits(values, dtype=torch.float32):
    return torch.tensor(values, dtype=dtype).reshape(2, 1)


# --- adversarial losses ---


@pytest.mark.parametrize("mode", GAN_MODES)
def test_discriminator_loss_hand_values(mode):
    loss = discriminator_loss(_logits(REAL), _logits(FAKE), mode)
    assert loss.ndim == 0
    assert loss.item() == pytest.approx(EXPECTED_D[mode], rel=1e-6)


@pytest.mark.parametrize("mode", GAN_MODES)
def test_generator_loss_hand_values(mode):
    loss = generator_loss(_logits(FAKE), mode, real_logits=_logits(REAL))
    assert loss.item() == pytest.approx(EXPECTED_G[mode], rel=1e-6)


def test_vanilla_equals_bce_with_logits():
    r, f = torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    expected = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))
    torch.testing.assert_close(discriminator_loss(r, f, "vanilla"), expected)
    torch.testing.assert_close(generator_loss(f, "vanilla"), bce(f, torch.ones_like(f)))


@pytest.mark.parametrize("mode", GAN_MODES)
def test_module_equals_function(mode):
    r, f = torch.randn(2, 1, 3, 3), torch.randn(2, 1, 3, 3)
    gan = AdversarialLoss(mode)
    assert repr(gan) == f"AdversarialLoss(mode={mode!r})"
    torch.testing.assert_close(gan.d_loss(r, f), discriminator_loss(r, f, mode))
    torch.testing.assert_close(gan.g_loss(f, r), generator_loss(f, mode, r))


@pytest.mark.parametrize("mode", GAN_MODES)
def test_gradcheck_adversarial(mode):
    g = torch.Generator().manual_seed(0)
    r = torch.randn(2, 1, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    f = torch.randn(2, 1, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: discriminator_loss(a, b, mode), (r, f))
    assert gradcheck(lambda b: generator_loss(b, mode, real_logits=r.detach()), (f,))


def test_ragan_generator_loss_treats_real_logits_as_constants():
    r = torch.randn(2, 1, requires_grad=True)
    f = torch.randn(2, 1, requires_grad=True)
    generator_loss(f, "ragan", real_logits=r).backward()
    assert r.grad is None and f.grad is not None


def test_adversarial_errors():
    r, f = torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 4, 4)
    with pytest.raises(ConfigError, match="mode='bce'"):
        discriminator_loss(r, f, "bce")
    with pytest.raises(ConfigError, match="mode='wgan-gp'"):
        AdversarialLoss("wgan-gp")
    with pytest.raises(ValueError, match="needs real_logits"):
        generator_loss(f, "ragan")
    with pytest.raises(ValueError, match="same shape apart from the batch"):
        discriminator_loss(r, torch.zeros(2, 1, 3, 3), "hinge")
    with pytest.raises(ValueError, match="same shape apart from the batch"):
        generator_loss(f, "ragan", real_logits=torch.zeros(2, 1, 3, 3))
    with pytest.raises(ValueError, match="fake_logits is empty"):
        generator_loss(torch.zeros(0, 1), "vanilla")
    with pytest.raises(ValueError, match="floating point"):
        discriminator_loss(torch.zeros(2, 1, dtype=torch.long), torch.zeros(2, 1), "lsgan")
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        generator_loss([0.0], "hinge")


def test_different_batch_sizes_are_allowed():
    loss = discriminator_loss(torch.zeros(4, 1, 2, 2), torch.zeros(2, 1, 2, 2), "lsgan")
    assert loss.item() == pytest.approx(1.0)


# --- gradient penalty (WGAN-GP) ---


def _linear_critic(w):
    return lambda x: (x * w).sum(dim=(1, 2, 3))


def test_gradient_penalty_hand_value():
    # D(x) = <w, x> has gradient w everywhere: ||w|| = 5, penalty = 10 * (5 - 1)^2.
    w = torch.tensor([3.0, 4.0]).reshape(1, 2, 1, 1)
    real, fake = torch.rand(3, 2, 1, 1), torch.rand(3, 2, 1, 1)
    gp = gradient_penalty(_linear_critic(w), real, fake, torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(160.0)
    gp = gradient_penalty(_linear_critic(w), real, fake, weight=1.0)
    assert gp.item() == pytest.approx(16.0)


def test_gradient_penalty_interpolates_with_the_generator():
    # D(x) = sum x^2 / 2 has gradient x_hat = alpha * real + (1 - alpha) * fake.
    real, fake = torch.ones(2, 1, 1, 1), torch.zeros(2, 1, 1, 1)
    alpha = torch.rand(2, 1, 1, 1, generator=torch.Generator().manual_seed(7))
    expected = 10 * ((alpha.flatten() - 1) ** 2).mean()

    def critic(x):
        return (x**2).sum(dim=(1, 2, 3)) / 2

    gp = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(7))
    torch.testing.assert_close(gp, expected)
    other = gradient_penalty(critic, real, fake, torch.Generator().manual_seed(8))
    assert not torch.equal(gp, other)


def test_gradient_penalty_trains_the_critic():
    w = torch.tensor([3.0, 4.0]).reshape(1, 2, 1, 1).requires_grad_(True)
    real, fake = torch.rand(2, 2, 1, 1), torch.rand(2, 2, 1, 1)
    gradient_penalty(_linear_critic(w), real, fake, weight=1.0).backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * w / 5
    torch.testing.assert_close(w.grad, 1.6 * w.detach())


def test_gradcheck_gradient_penalty():
    g = torch.Generator().manual_seed(0)
    kw = {"dtype": torch.float64, "requires_grad": True}
    w = torch.randn(1, 2, 2, 2, generator=g, **kw)
    real = torch.randn(2, 2, 2, 2, generator=g, **kw)
    fake = torch.randn(2, 2, 2, 2, generator=g, **kw)

    def fn(w, real, fake):
        def critic(x):
            return torch.tanh(x * w).sum(dim=(1, 2, 3))

        return gradient_penalty(critic, real, fake, torch.Generator().manual_seed(1))

    assert gradcheck(fn, (w, real, fake))


def test_gradient_penalty_errors():
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(_linear_critic(1.0), torch.zeros(2, 1, 2, 2), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ConfigError, match="weight=-1"):
        gradient_penalty(_linear_critic(1.0), torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 1, 1), weight=-1)  # fmt: skip


# --- R1 ---


def test_r1_hand_value():
    w = torch.tensor([3.0, 4.0]).reshape(1, 2, 1, 1)
    x = torch.rand(4, 2, 1, 1, requires_grad=True)
    assert r1_penalty(_linear_critic(w)(x), x).item() == pytest.approx(10 / 2 * 25)
    x = torch.tensor([1.0, 2.0]).reshape(2, 1, 1, 1).requires_grad_(True)
    logits = (x**2).sum(dim=(1, 2, 3))  # gradient 2x: squared norms [4, 16], mean 10
    assert r1_penalty(logits, x, gamma=1.0).item() == pytest.approx(0.5 * 10)


def test_gradcheck_r1():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(1, 2, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(2, 2, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda w, x: r1_penalty(torch.tanh(x * w).sum(dim=(1, 2, 3)), x), (w, x))


def test_r1_errors():
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="requires_grad_"):
        r1_penalty(x.sum(dim=(1, 2, 3)), x)
    x.requires_grad_(True)
    with pytest.raises(ConfigError, match="gamma=-1"):
        r1_penalty(x.sum(dim=(1, 2, 3)), x, gamma=-1)


# --- feature matching ---


def test_feature_matching_hand_value_and_module():
    real = [torch.ones(1, 2, 2, 2), torch.full((1, 1, 3, 3), 3.0)]
    fake = [torch.zeros(1, 2, 2, 2, requires_grad=True), torch.zeros(1, 1, 3, 3)]
    real[0].requires_grad_(True)
    loss = feature_matching_loss(real, fake)
    assert loss.item() == pytest.approx((1 + 3) / 2)
    torch.testing.assert_close(FeatureMatchingLoss()(real, fake), loss)
    loss.backward()
    assert real[0].grad is None and fake[0].grad is not None


def test_gradcheck_feature_matching():
    g = torch.Generator().manual_seed(0)
    real = [torch.randn(1, 2, 2, 2, generator=g, dtype=torch.float64) for _ in range(2)]
    fake = [
        torch.randn(1, 2, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
        for _ in range(2)
    ]
    assert gradcheck(lambda a, b: feature_matching_loss(real, [a, b]), tuple(fake))


def test_feature_matching_errors():
    with pytest.raises(ValueError, match="same non-zero number"):
        feature_matching_loss([torch.zeros(1)], [])
    with pytest.raises(ValueError, match="feature map 0"):
        feature_matching_loss([torch.zeros(1, 2)], [torch.zeros(1, 3)])


# --- Charbonnier ---


def test_charbonnier_hand_values():
    x = torch.tensor([1.0, 4.0, -2.0])
    y = torch.tensor([1.0, 1.0, 2.0])  # x - y = [0, 3, -4]; with eps = 4: [4, 5, sqrt(32)]
    expected = torch.tensor([4.0, 5.0, math.sqrt(32)])
    torch.testing.assert_close(charbonnier_loss(x, y, eps=4.0, reduction="none"), expected)
    assert charbonnier_loss(x, y, eps=4.0, reduction="sum").item() == pytest.approx(
        9 + math.sqrt(32)
    )
    assert charbonnier_loss(x, y, eps=4.0).item() == pytest.approx((9 + math.sqrt(32)) / 3)
    assert charbonnier_loss(x, y).item() == pytest.approx(
        (1e-3 + math.sqrt(9 + 1e-6) + math.sqrt(16 + 1e-6)) / 3
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_charbonnier_module_equals_function(reduction):
    x, y = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    module = CharbonnierLoss(eps=1e-2, reduction=reduction)
    torch.testing.assert_close(module(x, y), charbonnier_loss(x, y, 1e-2, reduction))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradcheck_charbonnier(reduction):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, 2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.rand(1, 2, 3, 3, generator=g, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda a, b: charbonnier_loss(a, b, 1e-2, reduction), (x, y))


def test_charbonnier_errors():
    with pytest.raises(ValueError, match="same shape"):
        charbonnier_loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 3))
    with pytest.raises(ConfigError, match="eps=0"):
        charbonnier_loss(torch.zeros(1), torch.zeros(1), eps=0)
    with pytest.raises(ConfigError, match="reduction='max'"):
        CharbonnierLoss(reduction="max")
