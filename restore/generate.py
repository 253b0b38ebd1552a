"""Sampling from unconditional generators: ``restore.load("gen-mnist").sample(64, seed=0)``.

:func:`restore.load` returns a :class:`Sampler` (instead of a :class:`~restore.api.Restorer`) for a
model whose card says ``task: generation``. Latents are drawn on the CPU from
``torch.Generator().manual_seed(seed)``, so a seed gives the same images on every device.

Example:
    >>> import restore
    >>> gen = restore.load("gen-mnist")                  # doctest: +SKIP
    >>> gen.sample(16, seed=0).shape                     # doctest: +SKIP
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
from restore.tasks.generation import run_generator

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

    def generate(self, z: Tensor, batch_size: int = 256) -> Tensor:
        """Images (N, C, H, W) float in [0, 1] on the CPU from latents ``z`` (N, latent_dim)."""
        out = []
        with torch.inference_mode():
            for i in range(0, z.shape[0], batch_size):
                out.append(
                    run_generator(self.G, z[i : i + batch_size].to(self.device)).clamp(0, 1).cpu()
                )
        return torch.cat(out)

    def sample_tensor(self, n: int, seed: int = 0, truncation: float = 1.0) -> Tensor:
        """``n`` images (n, C, H, W) float in [0, 1]."""
        return self.generate(self.latents(n, seed, truncation))

    def sample(self, n: int, seed: int = 0, truncation: float = 1.0) -> np.ndarray:
        """``n`` images as an (n, H, W, C) uint8 array (C = 1 for MNIST), the same for the same seed."""
        return _to_uint8(self.sample_tensor(n, seed, truncation))

    def interpolate(
        self, a_seed: int, b_seed: int, steps: int = 8, truncation: float = 1.0
    ) -> np.ndarray:
        """Images along the spherical path between the latents of two seeds, (steps, H, W, C) uint8."""
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
        return _to_uint8(self.generate(z))

    def grid(
        self, n: int = 64, seed: int = 0, nrow: int = 8, truncation: float = 1.0
    ) -> np.ndarray:
        """A sample grid (torchvision ``make_grid``, 2 px padding) as an (H, W, 3) uint8 array."""
        return grid_image(self.sample_tensor(n, seed, truncation), nrow=nrow)

    def __repr__(self) -> str:
        return f"Sampler({self.card.get('name', '?')!r}, {self.image_size}px x {self.channels}, device={self.device})"


def grid_image(images: Tensor, nrow: int = 8) -> np.ndarray:
    """(N, C, H, W) in [0, 1] -> one (H', W', 3) uint8 grid image."""
    from torchvision.utils import make_grid

    g = make_grid(images.float().clamp(0, 1), nrow=max(1, nrow), padding=2)
    return _to_uint8(g[None])[0]


def _to_uint8(x: Tensor) -> np.ndarray:
    return (x.permute(0, 2, 3, 1) * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy()
