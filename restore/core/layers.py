"""Small building blocks shared by the networks, and the one place for value-range conversion.

Images inside ``restore`` are float RGB tensors in ``[0, 1]`` (see ``docs/ARCHITECTURE.md``).
Networks with a ``tanh`` output work in ``[-1, 1]``; :func:`to_signed` and :func:`to_unit` are the
only conversions between the two ranges, so that no module writes ``x * 2 - 1`` by hand.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import nn

from restore.errors import ConfigError

NormKind = Literal["batch", "instance", "none"]
PadMode = Literal["reflect", "replicate", "constant"]

NORM_KINDS: tuple[str, ...] = get_args(NormKind)
PAD_MODES: tuple[str, ...] = get_args(PadMode)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise :class:`~restore.errors.ConfigError` when ``value`` is not one of ``choices``.

    Args:
        name: the option's name, quoted in the message.
        value: the value given.
        choices: the allowed values (usually ``typing.get_args`` of a ``Literal``).
    """
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {list(choices)}")


def make_norm(kind: NormKind, channels: int) -> nn.Module:
    """Build a 2-D normalization layer.

    ``"instance"`` follows pix2pix / CycleGAN: no affine parameters and no running statistics, so
    it normalizes each image with its own statistics in training and in evaluation alike.

    Args:
        kind: ``"batch"`` (``BatchNorm2d``), ``"instance"`` (``InstanceNorm2d``) or ``"none"``
            (``Identity``).
        channels: number of channels ``C`` of the input.

    Returns:
        The layer; it maps ``(B, C, H, W)`` to ``(B, C, H, W)``.

    Example:
        >>> norm = make_norm("instance", 8)
        >>> norm.affine, norm.track_running_stats
        (False, False)
    """
    check_choice("norm", kind, NORM_KINDS)
    if channels < 1:
        raise ConfigError(f"channels={channels} must be >= 1")
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    return nn.Identity()


def to_signed(x: torch.Tensor) -> torch.Tensor:
    """Map values from ``[0, 1]`` (the library's image range) to ``[-1, 1]`` (``tanh`` networks).

    Args:
        x: tensor of any shape, values in ``[0, 1]``.

    Returns:
        ``2 * x - 1``, same shape and dtype; values are not clamped.

    Example:
        >>> to_signed(torch.tensor([0.0, 0.5, 1.0]))
        tensor([-1.,  0.,  1.])
    """
    return x * 2.0 - 1.0


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Map values from ``[-1, 1]`` (``tanh`` networks) back to ``[0, 1]`` (the image range).

    Args:
        x: tensor of any shape, values in ``[-1, 1]``.

    Returns:
        ``(x + 1) / 2``, same shape and dtype; values are not clamped (clamp where you write).

    Example:
        >>> to_unit(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """
    return (x + 1.0) * 0.5


def pad_to_multiple(
    x: torch.Tensor, multiple: int, mode: PadMode = "reflect"
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the bottom and right of an image batch so that H and W are multiples of ``multiple``.

    A U-Net of depth ``d`` needs sides divisible by ``2 ** d`` (its ``size_multiple``); pad before
    the network and :func:`crop_to` the original size after it.

    Args:
        x: images, shape ``(B, C, H, W)``.
        multiple: the side lengths of the result are multiples of this (``>= 1``).
        mode: ``"reflect"`` (needs each pad smaller than the side), ``"replicate"`` or
            ``"constant"`` (zeros).

    Returns:
        ``(padded, (H, W))``: the padded batch, shape ``(B, C, H', W')``, and the original size.

    Example:
        >>> y, size = pad_to_multiple(torch.zeros(1, 3, 30, 33), 16)
        >>> y.shape, size
        (torch.Size([1, 3, 32, 48]), (30, 33))
    """
    check_choice("mode", mode, PAD_MODES)
    if multiple < 1:
        raise ValueError(f"multiple={multiple} must be >= 1")
    if x.ndim != 4:
        raise ValueError(f"expected a (B, C, H, W) tensor, got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (h, w)
    if mode == "reflect" and (pad_h >= h or pad_w >= w):
        raise ValueError(
            f"reflect padding of a {h}x{w} image to a multiple of {multiple} needs pads "
            f"({pad_h}, {pad_w}) smaller than the sides; use mode='replicate'"
        )
    return F.pad(x, (0, pad_w, 0, pad_h), mode=mode), (h, w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Undo :func:`pad_to_multiple`: keep the top-left ``size`` of each image.

    Args:
        x: images, shape ``(B, C, H', W')`` with ``H' >= H`` and ``W' >= W``.
        size: ``(H, W)`` as returned by :func:`pad_to_multiple`.

    Returns:
        A view of shape ``(B, C, H, W)``.
    """
    h, w = size
    if x.shape[-2] < h or x.shape[-1] < w:
        raise ValueError(f"cannot crop shape {tuple(x.shape)} to {(h, w)}")
    return x[..., :h, :w]
