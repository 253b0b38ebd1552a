"""GAN losses on logits, penalties, feature matching and pixel losses.

The maths lives in plain functions; the ``nn.Module`` wrappers only hold hyper-parameters and call
them (as kornia does). Every adversarial function takes raw discriminator logits, never
probabilities, so the numerically stable forms (``softplus``) are used throughout.

Adversarial modes (``r`` = real logits, ``f`` = fake logits, ``E`` = mean):

- ``vanilla`` (non-saturating): D ``E softplus(-r) + E softplus(f)``; G ``E softplus(-f)``.
- ``lsgan``: D ``E (r - 1)^2 + E f^2``; G ``E (f - 1)^2``.
- ``hinge``: D ``E relu(1 - r) + E relu(1 + f)``; G ``-E f``.
- ``wgan``: D ``E f - E r``; G ``-E f``.
- ``ragan`` (relativistic average, ESRGAN): D ``E softplus(-(r - E f)) + E softplus(f - E r)``;
  G ``E softplus(r - E f) + E softplus(-(f - E r))``.

The discriminator losses are the sum of the real and fake terms (pix2pix halves this sum in its
training loop; do that there if wanted). ``wgan`` needs a Lipschitz constraint: add
:func:`gradient_penalty` (WGAN-GP).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from restore.core.layers import check_choice
from restore.errors import ConfigError

GanMode = Literal["vanilla", "lsgan", "hinge", "wgan", "ragan"]
Reduction = Literal["mean", "sum", "none"]

GAN_MODES: tuple[str, ...] = get_args(GanMode)
REDUCTIONS: tuple[str, ...] = get_args(Reduction)


def _check_logits(name: str, logits: object) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise ValueError(f"{name} must be floating point, got {logits.dtype}")
    if logits.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(logits.shape)})")


def _check_pair(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> None:
    _check_logits("real_logits", real_logits)
    _check_logits("fake_logits", fake_logits)
    if real_logits.shape[1:] != fake_logits.shape[1:]:
        raise ValueError(
            "real_logits and fake_logits must have the same shape apart from the batch, got "
            f"{tuple(real_logits.shape)} and {tuple(fake_logits.shape)}"
        )


def discriminator_loss(
    real_logits: torch.Tensor, fake_logits: torch.Tensor, mode: GanMode
) -> torch.Tensor:
    """Adversarial loss of the discriminator (lower is better for D).

    Args:
        real_logits: D's logits on real samples, any shape ``(B, *)``.
        fake_logits: D's logits on generated samples (detach them from G), shape ``(B', *)``.
        mode: ``"vanilla"``, ``"lsgan"``, ``"hinge"``, ``"wgan"`` or ``"ragan"`` (module table).

    Returns:
        Scalar loss.

    Example:
        >>> discriminator_loss(torch.zeros(2, 1), torch.zeros(2, 1), "hinge")
        tensor(2.)
    """
    check_choice("mode", mode, GAN_MODES)
    _check_pair(real_logits, fake_logits)
    r, f = real_logits, fake_logits
    if mode == "vanilla":
        return F.softplus(-r).mean() + F.softplus(f).mean()
    if mode == "lsgan":
        return (r - 1).pow(2).mean() + f.pow(2).mean()
    if mode == "hinge":
        return F.relu(1 - r).mean() + F.relu(1 + f).mean()
    if mode == "wgan":
        return f.mean() - r.mean()
    # ragan: is the real sample more realistic than the average fake one, and vice versa?
    return F.softplus(-(r - f.mean())).mean() + F.softplus(f - r.mean()).mean()


def generator_loss(
    fake_logits: torch.Tensor, mode: GanMode, real_logits: torch.Tensor | None = None
) -> torch.Tensor:
    """Adversarial loss of the generator (lower is better for G).

    Args:
        fake_logits: D's logits on generated samples (not detached: G learns through them).
        mode: ``"vanilla"``, ``"lsgan"``, ``"hinge"``, ``"wgan"`` or ``"ragan"`` (module table).
        real_logits: D's logits on real samples; required by ``"ragan"``, ignored otherwise.
            Treated as constants (detached here): the G step must not push gradients into D.

    Returns:
        Scalar loss.

    Example:
        >>> generator_loss(torch.zeros(2, 1), "lsgan")
        tensor(1.)
    """
    check_choice("mode", mode, GAN_MODES)
    _check_logits("fake_logits", fake_logits)
    f = fake_logits
    if mode == "vanilla":
        return F.softplus(-f).mean()
    if mode == "lsgan":
        return (f - 1).pow(2).mean()
    if mode in ("hinge", "wgan"):
        return -f.mean()
    if real_logits is None:
        raise ValueError("mode='ragan' needs real_logits in the generator loss")
    _check_pair(real_logits, fake_logits)
    r = real_logits.detach()
    return F.softplus(r - f.mean()).mean() + F.softplus(-(f - r.mean())).mean()


class AdversarialLoss(nn.Module):
    """Holds a GAN mode; :meth:`d_loss` and :meth:`g_loss` call the functions above.

    Args:
        mode: ``"vanilla"``, ``"lsgan"``, ``"hinge"``, ``"wgan"`` or ``"ragan"``.

    Example:
        >>> gan = AdversarialLoss("vanilla")
        >>> gan.g_loss(torch.zeros(1, 1, 30, 30))
        tensor(0.6931)
    """

    def __init__(self, mode: GanMode = "vanilla") -> None:
        super().__init__()
        check_choice("mode", mode, GAN_MODES)
        self.mode = mode

    def d_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """See :func:`discriminator_loss`."""
        return discriminator_loss(real_logits, fake_logits, self.mode)

    def g_loss(
        self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None
    ) -> torch.Tensor:
        """See :func:`generator_loss`."""
        return generator_loss(fake_logits, self.mode, real_logits)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}"


def gradient_penalty(
    discriminator: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    generator: torch.Generator | None = None,
    weight: float = 10.0,
) -> torch.Tensor:
    """WGAN-GP penalty: ``weight * E (||grad_x D(x_hat)||_2 - 1)^2`` on random interpolates.

    ``x_hat = alpha * real + (1 - alpha) * fake`` with one ``alpha ~ U[0, 1)`` per sample, drawn
    from ``generator`` (which must live on ``real``'s device). The graph is kept
    (``create_graph=True``) so the penalty trains D. Do not use batch norm in a WGAN-GP critic:
    it mixes samples and breaks the per-sample gradient.

    Args:
        discriminator: callable mapping ``(B, C, H, W)`` to logits ``(B, *)``.
        real: real samples, shape ``(B, C, H, W)`` (any ``(B, *)`` works).
        fake: generated samples, same shape (detach them from G in the D step).
        generator: random generator for ``alpha``; ``None`` uses the global one.
        weight: multiplier ``lambda`` (10 in the WGAN-GP paper).

    Returns:
        Scalar penalty.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"real and fake must have the same shape, got {tuple(real.shape)} and "
            f"{tuple(fake.shape)}"
        )
    if weight < 0:
        raise ConfigError(f"weight={weight} must be >= 0")
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    alpha = torch.rand(shape, generator=generator, device=real.device, dtype=real.dtype)
    x_hat = alpha * real + (1 - alpha) * fake
    if not x_hat.requires_grad:
        x_hat.requires_grad_(True)
    logits = discriminator(x_hat)
    (grad,) = torch.autograd.grad(logits.sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)
    return weight * (norm - 1).pow(2).mean()


def r1_penalty(
    real_logits: torch.Tensor, real_images: torch.Tensor, gamma: float = 10.0
) -> torch.Tensor:
    """R1 penalty (Mescheder et al. 2018): ``gamma / 2 * E ||grad_x D(x)||^2`` on real data.

    Call ``real_images.requires_grad_(True)`` before computing ``real_logits = D(real_images)``.
    The graph is kept (``create_graph=True``) so the penalty trains D.

    Args:
        real_logits: D's logits on ``real_images``, shape ``(B, *)``.
        real_images: the real batch, shape ``(B, C, H, W)``, with ``requires_grad=True``.
        gamma: strength (``>= 0``).

    Returns:
        Scalar penalty.
    """
    _check_logits("real_logits", real_logits)
    if not real_images.requires_grad:
        raise ValueError(
            "real_images must require grad: call real_images.requires_grad_(True) before "
            "the discriminator"
        )
    if gamma < 0:
        raise ConfigError(f"gamma={gamma} must be >= 0")
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return gamma / 2 * grad.pow(2).flatten(1).sum(dim=1).mean()


def feature_matching_loss(
    real_features: Sequence[torch.Tensor], fake_features: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Mean over layers of the L1 distance between D's features on real and fake samples.

    pix2pixHD's feature-matching loss (without its per-layer weights); the real features are
    detached, so only the generator learns from it.

    Args:
        real_features: per-layer maps from ``D(real, return_features=True)``.
        fake_features: the matching maps from ``D(fake, return_features=True)``.

    Returns:
        Scalar loss.
    """
    if len(real_features) == 0 or len(real_features) != len(fake_features):
        raise ValueError(
            f"need the same non-zero number of feature maps, got {len(real_features)} real and "
            f"{len(fake_features)} fake"
        )
    losses = []
    for i, (real, fake) in enumerate(zip(real_features, fake_features)):
        if real.shape != fake.shape:
            raise ValueError(
                f"feature map {i}: real shape {tuple(real.shape)} != fake shape {tuple(fake.shape)}"
            )
        losses.append(F.l1_loss(fake, real.detach()))
    return torch.stack(losses).mean()


def charbonnier_loss(
    x: torch.Tensor, y: torch.Tensor, eps: float = 1e-3, reduction: Reduction = "mean"
) -> torch.Tensor:
    """Charbonnier (smooth L1) loss ``sqrt((x - y)^2 + eps^2)``, as in LapSRN / ESRGAN.

    Args:
        x: prediction, any shape (usually ``(B, C, H, W)`` in ``[0, 1]``).
        y: target, same shape.
        eps: smoothing; the loss is ``eps`` where ``x == y`` and ``~|x - y|`` far from it.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-element, same shape as ``x``).

    Returns:
        Scalar, or a tensor shaped like ``x`` for ``reduction="none"``.

    Example:
        >>> charbonnier_loss(torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), eps=0.5)
        tensor(0.5000)
    """
    check_choice("reduction", reduction, REDUCTIONS)
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if eps <= 0:
        raise ConfigError(f"eps={eps} must be > 0")
    loss = ((x - y).pow(2) + eps * eps).sqrt()
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class CharbonnierLoss(nn.Module):
    """Module form of :func:`charbonnier_loss`.

    Args:
        eps: smoothing (``> 0``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Shape:
        - Input: ``x`` and ``y`` of the same shape.
        - Output: scalar, or the input shape for ``reduction="none"``.
    """

    def __init__(self, eps: float = 1e-3, reduction: Reduction = "mean") -> None:
        super().__init__()
        check_choice("reduction", reduction, REDUCTIONS)
        if eps <= 0:
            raise ConfigError(f"eps={eps} must be > 0")
        self.eps = eps
        self.reduction = reduction

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return charbonnier_loss(x, y, self.eps, self.reduction)

    def extra_repr(self) -> str:
        return f"eps={self.eps}, reduction={self.reduction!r}"


class FeatureMatchingLoss(nn.Module):
    """Module form of :func:`feature_matching_loss` (no hyper-parameters)."""

    def forward(
        self, real_features: Sequence[torch.Tensor], fake_features: Sequence[torch.Tensor]
    ) -> torch.Tensor:
        return feature_matching_loss(real_features, fake_features)
