"""Exponential moving average of a model's weights (the generator used for evaluation)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from restore.errors import ConfigError


class EMA:
    """A frozen copy of a model whose parameters follow the model's as a moving average.

    After each optimizer step, :meth:`update` sets every parameter to
    ``ema = decay * ema + (1 - decay) * param`` (``torch.lerp``) and copies every buffer (batch
    norm statistics, spectral-norm vectors) as it is. The copy is in eval mode and never requires
    grad; run it as ``ema.module(x)``.

    Args:
        model: the model to follow; deep-copied once, on its current device and dtype.
        decay: weight of the old average, in ``[0, 1]`` (``0`` copies, ``1`` freezes).

    Example:
        >>> net = nn.Linear(2, 2)
        >>> ema = EMA(net, decay=0.9)
        >>> ema.update(net)
        >>> ema.module(torch.zeros(1, 2)).shape
        torch.Size([1, 2])
    """

    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0.0 <= decay <= 1.0:
            raise ConfigError(f"decay={decay} must be in [0, 1]")
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.grad = None
        self.module.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average one step toward ``model`` (call after each optimizer step).

        Args:
            model: the trained model; same architecture as the one given at construction.
        """
        ema_params = dict(self.module.named_parameters())
        params = dict(model.named_parameters())
        if ema_params.keys() != params.keys():
            raise ValueError("model does not have the parameters of the EMA copy")
        ema_buffers = dict(self.module.named_buffers())
        buffers = dict(model.named_buffers())
        if ema_buffers.keys() != buffers.keys():
            raise ValueError("model does not have the buffers of the EMA copy")
        # one multi-tensor call each instead of a kernel per tensor (launch-bound on CUDA)
        if params:
            torch._foreach_lerp_(
                list(ema_params.values()),
                [p.detach() for p in params.values()],
                1.0 - self.decay,
            )
        if buffers:
            torch._foreach_copy_(list(ema_buffers.values()), list(buffers.values()))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged model's tensors (parameters and buffers), ready for safetensors."""
        return self.module.state_dict()

    def load_state_dict(self, state_dict: dict[str, torch.Tensor], strict: bool = True) -> None:
        """Load tensors saved by :meth:`state_dict` into the averaged model."""
        self.module.load_state_dict(state_dict, strict=strict)
