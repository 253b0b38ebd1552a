"""PatchGAN discriminator (pix2pix ``NLayerDiscriminator``).

With its defaults, :class:`PatchDiscriminator` is pix2pix's ``basic`` discriminator for
conditional pairs (``NLayerDiscriminator(6, 64, n_layers=3, norm_layer=BatchNorm2d)``): 2,768,705
parameters, a 70x70 receptive field, 30x30 logits for a 256x256 input. Its layers sit in one flat
``nn.Sequential`` named ``model``, as in pix2pix, so a pix2pix state dict loads as it is.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from restore.core.layers import NORM_KINDS, NormKind, check_choice, make_norm
from restore.errors import ConfigError

_KERNEL = 4
_PAD = 1


class PatchDiscriminator(nn.Module):
    """Fully convolutional discriminator: one logit per overlapping image patch.

    Layers: ``Conv(4, stride 2) -> LeakyReLU(0.2)``, then ``n_layers - 1`` blocks of
    ``Conv(4, stride 2) -> norm -> LeakyReLU(0.2)`` doubling the channels (capped at
    ``8 * base_channels``), one such block with stride 1, and a stride-1 conv to one channel.

    Spectral norm, when asked for, wraps every conv and leaves ``norm`` as given: the two are
    independent choices, nothing is dropped silently. The usual spectral-norm recipe (SN-GAN,
    Real-ESRGAN) pairs it with ``norm="none"``; pass that explicitly.

    Args:
        in_channels: input channels (6 for a conditional pair: input and output concatenated).
        base_channels: channels of the first conv (pix2pix ``ndf``).
        n_layers: number of stride-2 convs (``3`` gives a 70x70 receptive field).
        norm: ``"batch"``, ``"instance"`` or ``"none"``.
        spectral_norm: wrap every conv in ``torch.nn.utils.parametrizations.spectral_norm``.

    Shape:
        - Input: ``(B, in_channels, H, W)``.
        - Output: ``(B, 1, H', W')`` logits (``30x30`` for ``256x256`` and the defaults).

    Example:
        >>> d = PatchDiscriminator(in_channels=3, base_channels=8)
        >>> d(torch.zeros(1, 3, 64, 64)).shape, d.receptive_field
        (torch.Size([1, 1, 6, 6]), 70)
    """

    def __init__(
        self,
        in_channels: int = 6,
        base_channels: int = 64,
        n_layers: int = 3,
        norm: NormKind = "batch",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        check_choice("norm", norm, NORM_KINDS)
        if in_channels < 1 or base_channels < 1:
            raise ConfigError(
                f"in_channels={in_channels} and base_channels={base_channels} must be >= 1"
            )
        if n_layers < 1:
            raise ConfigError(f"n_layers={n_layers} must be >= 1")
        bias = norm != "batch"

        def conv(c_in: int, c_out: int, stride: int, with_bias: bool) -> nn.Module:
            layer = nn.Conv2d(c_in, c_out, _KERNEL, stride=stride, padding=_PAD, bias=with_bias)
            return _spectral_norm(layer) if spectral_norm else layer

        layers: list[nn.Module] = [
            conv(in_channels, base_channels, 2, True),
            nn.LeakyReLU(0.2),
        ]
        ch = base_channels
        for n in range(1, n_layers + 1):
            c_out = base_channels * min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [conv(ch, c_out, stride, bias), make_norm(norm, c_out), nn.LeakyReLU(0.2)]
            ch = c_out
        layers.append(conv(ch, 1, 1, True))
        self.model = nn.Sequential(*layers)

    @property
    def receptive_field(self) -> int:
        """Side in pixels of the input patch that one output logit sees, from the conv stack."""
        field, jump = 1, 1
        for layer in self.model:
            if isinstance(layer, nn.Conv2d):
                field += (layer.kernel_size[0] - 1) * jump
                jump *= layer.stride[0]
        return field

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Score the patches of ``x``.

        Args:
            x: images (or concatenated pairs), shape ``(B, in_channels, H, W)``; ``H`` and ``W``
                at least ``2 ** n_layers * 2`` or so for a non-empty output.
            return_features: also return the output of every LeakyReLU (for feature matching).

        Returns:
            Logits ``(B, 1, H', W')``, or ``(logits, features)`` where ``features`` lists the
            ``n_layers + 1`` intermediate maps, shallowest first.
        """
        if x.ndim != 4:
            raise ValueError(f"expected a (B, C, H, W) tensor, got shape {tuple(x.shape)}")
        if not return_features:
            return self.model(x)
        features: list[torch.Tensor] = []
        for layer in self.model:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                features.append(x)
        return x, features
