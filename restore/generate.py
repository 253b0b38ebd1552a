"""Sampling from generators: ``restore.load("gen-mnist").sample(64, seed=0)``.

:func:`restore.load` returns a :class:`Sampler` (instead of a :class:`~restore.api.Restorer`) for a
model whose card says ``task: generation``. Latents are drawn on the CPU from
``torch.Generator().manual_seed(seed)``, so a seed gives the same images on every device. A
class-conditional model (card ``runtime.inference.num_classes``) draws labels uniformly from the
seed too, or takes one: ``sample(16, label=3)`` gives sixteen 3s.

Example:
    >>> import restore
    >>> gen = restore.load("gen-mnist")                  # doctest: +SKIP
    >>> gen.sample(16, seed=0).shape                     # doctest: +SKIP
    (16, 28, 28, 1)
    >>> gen.sample(16, seed=0, label=7).shape            # doctest: +SKIP
    (16, 28, 28, 1)
    >>> gen.interpolate(0, 1, steps=8).shape             # doctest: +SKIP
    (8, 28, 28, 1)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from restore.core.card import upgrade_card
from restore.errors import ConfigError
from restore.models import load_predictor
from restore.runtime import pick_device
from restore.tasks import spec_of
from restore.tasks.generation import draw_labels, run_generator

__all__ = ["Sampler", "grid_image"]


class Sampler:
    """A loaded unconditional generator.

    Args:
        card: the model card (``runtime.inference``: ``latent_dim``, ``channels``, ``image_size``).
        modules: ``{"G": generator}`` with weights loaded.
        device: where to run it.
    """

    def __init__(
        self, card: Mapping[str, Any], modules: Mapping[str, nn.Module], *, device: torch.device
    ) -> None:
        self.card = upgrade_card(card)
        self.G = modules["G"].to(device).eval()
        self.device = device
        inf = self.card["runtime"].get("inference") or {}
        self.latent_dim = int(inf.get("latent_dim", getattr(self.G, "latent_dim", 64)))
        self.channels = int(inf.get("channels", 3))
        self.image_size = int(inf.get("image_size", 0))
        self.num_classes = int(inf.get("num_classes", 0))

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        device: str | torch.device | None = None,
        **_: Any,
    ) -> Sampler:
        """Load a shipped generation model by name, or trained weights by path (SHA-256 checked)."""
        _, card, modules = load_predictor(name_or_path)
        if spec_of(card["task"]).input != "noise":
            raise ConfigError(
                f"{name_or_path} is a {card.get('task')!r} model, not a generation model: use restore.load"
            )
        return cls(card, modules, device=pick_device(device))

    def latents(self, n: int, seed: int = 0, truncation: float = 1.0) -> Tensor:
        """``n`` latents (n, latent_dim) from ``seed``, pulled toward the mean latent (0) by ``truncation``.

        ``truncation`` psi in (0, 1]: ``z = psi * z`` (the prior's mean is 0); 1 leaves them as drawn.
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not 0.0 < truncation <= 1.0:
            raise ValueError(f"truncation must be in (0, 1], got {truncation}")
        g = torch.Generator().manual_seed(int(seed))
        return torch.randn(n, self.latent_dim, generator=g) * truncation

    def labels(self, n: int, seed: int = 0, label: int | None = None) -> Tensor | None:
        """The ``n`` class labels of a conditional model: all ``label``, or drawn uniformly from
        ``seed``; None for an unconditional model (which refuses a ``label``)."""
        if not self.num_classes:
            if label is not None:
                raise ConfigError(
                    f"{self.card.get('name', 'this model')} is unconditional: it takes no label"
                )
            return None
        if label is None:
            return draw_labels(n, self.num_classes, seed)
        if not 0 <= int(label) < self.num_classes:
            raise ConfigError(f"label must be in 0..{self.num_classes - 1}, got {label}")
        return torch.full((n,), int(label), dtype=torch.long)

    def generate(self, z: Tensor, y: Tensor | None = None, batch_size: int = 256) -> Tensor:
        """Images (N, C, H, W) float in [0, 1] on the CPU from latents ``z`` (N, latent_dim) and,
        for a conditional model, labels ``y`` (N,)."""
        if (y is None) != (not self.num_classes):
            raise ValueError("labels y are needed by a conditional model and only by one")
        out = []
        with torch.inference_mode():
            for i in range(0, z.shape[0], batch_size):
                yi = None if y is None else y[i : i + batch_size].to(self.device)
                x = run_generator(self.G, z[i : i + batch_size].to(self.device), yi)
                out.append(x.clamp(0, 1).cpu())
        return torch.cat(out)

    def sample_tensor(
        self, n: int, seed: int = 0, truncation: float = 1.0, label: int | None = None
    ) -> Tensor:
        """``n`` images (n, C, H, W) float in [0, 1] (of class ``label``, for a conditional model)."""
        return self.generate(self.latents(n, seed, truncation), self.labels(n, seed, label))

    def sample(
        self, n: int, seed: int = 0, truncation: float = 1.0, label: int | None = None
    ) -> np.ndarray:
        """``n`` images as an (n, H, W, C) uint8 array (C = 1 for MNIST), the same for the same seed."""
        return _to_uint8(self.sample_tensor(n, seed, truncation, label))

    def interpolate(
        self,
        a_seed: int,
        b_seed: int,
        steps: int = 8,
        truncation: float = 1.0,
        label: int | None = None,
    ) -> np.ndarray:
        """Images along the spherical path between the latents of two seeds, (steps, H, W, C) uint8.

        A conditional model keeps one class along the path: ``label``, or the one ``a_seed`` draws.
        """
        if steps < 2:
            raise ValueError(f"steps must be >= 2, got {steps}")
        a = self.latents(1, a_seed, truncation)[0]
        b = self.latents(1, b_seed, truncation)[0]
        t = torch.linspace(0, 1, steps)[:, None]
        omega = torch.arccos((a / a.norm()).dot(b / b.norm()).clamp(-1, 1))
        if float(omega) < 1e-6:
            z = (1 - t) * a + t * b
        else:
            z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        y = self.labels(1, a_seed, label)
        return _to_uint8(self.generate(z, None if y is None else y.expand(steps)))

    def grid(
        self,
        n: int = 64,
        seed: int = 0,
        nrow: int = 8,
        truncation: float = 1.0,
        label: int | None = None,
    ) -> np.ndarray:
        """A sample grid (torchvision ``make_grid``, 2 px padding) as an (H, W, 3) uint8 array."""
        return grid_image(self.sample_tensor(n, seed, truncation, label), nrow=nrow)

    def __repr__(self) -> str:
        return f"Sampler({self.card.get('name', '?')!r}, {self.image_size}px x {self.channels}, device={self.device})"


def grid_image(images: Tensor, nrow: int = 8) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> one (H', W', 3) uint8 grid image."""
    from torchvision.utils import make_grid

    g = make_grid(images.float().clamp(0, 1), nrow=max(1, nrow), padding=2)
    return _to_uint8(g[None])[0]


def _to_uint8(x: Tensor) -> np.ndarray:
    return (x.permute(0, 2, 3, 1) * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy()
