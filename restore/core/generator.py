"""U-Net generator (pix2pix), built as two lists of blocks instead of nested skip blocks.

With its defaults, :class:`UNetGenerator` is exactly pix2pix's ``unet_256``
(``UnetGenerator(3, 3, 8, 64, norm_layer=BatchNorm2d, use_dropout=True)`` in
junyanz/pytorch-CycleGAN-and-pix2pix): same layers, same biases, 54,413,955 parameters, and the
same function (:func:`convert_pix2pix_unet_state_dict` maps its weights onto this module).

Level ``i`` (``0`` = outermost, ``depth - 1`` = innermost) halves the resolution on the way down
and doubles it on the way up::

    x -> down[0] -> down[1] -> ... -> down[d-1] -> up[d-1] -> ... -> up[1] -> up[0] -> y
            |          |                                        ^        ^
            +----------)------------- skip (concat) ------------)--------+
                       +------------- skip (concat) ------------+
"""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import nn

from restore.core.layers import NORM_KINDS, NormKind, check_choice, make_norm
from restore.errors import ConfigError

UpsampleKind = Literal["transposed", "resize", "pixelshuffle"]
OutputKind = Literal["tanh", "sigmoid", "none"]

UPSAMPLE_KINDS: tuple[str, ...] = get_args(UpsampleKind)
OUTPUT_KINDS: tuple[str, ...] = get_args(OutputKind)

# pix2pix builds 5 fixed levels and adds the rest (``num_downs - 5``, with dropout) in a loop.
_FIRST_DROPOUT_LEVEL = 4


def unet_channels(depth: int, base_channels: int, max_channels: int) -> list[int]:
    """Channels produced by each down level: ``min(base_channels * 2**i, max_channels)``.

    Args:
        depth: number of levels.
        base_channels: channels of the outermost level.
        max_channels: cap on the channels of any level.

    Returns:
        A list of ``depth`` channel counts, outermost first.

    Example:
        >>> unet_channels(8, 64, 512)
        [64, 128, 256, 512, 512, 512, 512, 512]
    """
    return [min(base_channels * 2**i, max_channels) for i in range(depth)]


class ResBlock(nn.Module):
    """``x + conv3x3(act(norm(conv3x3(act(x)))))``: a pre-activation residual block (LeakyReLU 0.2).

    The second conv starts at zero, so a new block is the identity and a U-Net given blocks starts
    as the same function as without them.

    Shape:
        (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(self, channels: int, norm: NormKind = "none") -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, padding=1),
            make_norm(norm, channels),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, channels, 3, padding=1),
        )
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _icnr_(conv: nn.Conv2d, r: int = 2) -> None:
    """ICNR init (Aitken et al. 2017): the ``r * r`` sub-pixel phases start equal, so a pixel
    shuffle begins as nearest upsampling of one conv and has no checkerboard at the start."""
    out_ch = conv.out_channels // (r * r)
    w = torch.empty(out_ch, conv.in_channels, *conv.kernel_size)
    nn.init.kaiming_uniform_(w, a=5**0.5)  # nn.Conv2d's own default
    with torch.no_grad():
        conv.weight.copy_(w.repeat_interleave(r * r, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[:: r * r].repeat_interleave(r * r))


def _upsample(kind: UpsampleKind, in_ch: int, out_ch: int, bias: bool) -> nn.Module:
    """Double H and W: a 4x4 stride-2 transposed conv, nearest resize + 3x3 conv, or a 3x3 conv
    to ``4 * out_ch`` channels + pixel shuffle (ESPCN; the same MACs as resize + conv, on a 4x
    smaller grid, so about twice as fast on a CPU; ICNR-initialised)."""
    if kind == "transposed":
        return nn.ConvTranspose2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=bias)
    if kind == "pixelshuffle":
        conv = nn.Conv2d(in_ch, 4 * out_ch, kernel_size=3, stride=1, padding=1, bias=bias)
        _icnr_(conv)
        return nn.Sequential(conv, nn.PixelShuffle(2))
    # Odena et al. 2016, "Deconvolution and Checkerboard Artifacts": resize, then convolve.
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=1, padding=1, bias=bias),
    )


class UNetGenerator(nn.Module):
    """pix2pix U-Net: 4x4 stride-2 convs down, upsampling convs up, skip connections between.

    Down level ``i`` is ``LeakyReLU(0.2) -> Conv(4, stride 2) -> norm`` (no activation before the
    outermost conv, no norm after the innermost). Up level ``i`` is ``ReLU -> upsample -> norm``
    on the concatenation ``[skip_i, up_{i+1}]`` (the innermost level sees only its own down
    output); the outermost up level ends with the output activation instead of a norm.
    Dropout follows the up norm at levels ``4 .. depth - 2``, as pix2pix (3 levels for depth 8,
    none for depth <= 5). Convs followed by a batch norm have no bias.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        base_channels: channels of the outermost level (pix2pix ``ngf``).
        depth: number of levels (pix2pix ``num_downs``); sides must be multiples of
            ``2 ** depth`` (:attr:`size_multiple`).
        max_channels: cap on the channels of any level (pix2pix: ``8 * ngf``).
        norm: ``"batch"``, ``"instance"`` or ``"none"``.
        dropout: dropout probability in the inner up levels; ``0`` disables it.
        upsample: ``"transposed"`` (pix2pix), ``"resize"`` (nearest resize + 3x3 conv, no
            checkerboard artifacts) or ``"pixelshuffle"`` (3x3 conv + pixel shuffle, ICNR init:
            as free of checkerboard at the start, and faster).
        output: ``"tanh"`` (values in ``[-1, 1]``: use :func:`restore.core.layers.to_unit`),
            ``"sigmoid"`` (values in ``[0, 1]``) or ``"none"`` (raw).
        blocks: :class:`ResBlock` s after every down level and every up level but the outermost
            (``0``: pix2pix's single conv per level). A 4x4 stride-2 conv per level sees little
            context; the blocks give each resolution 3x3 convs of its own (restoration models
            such as the face model need them more than a deeper U-Net).
        blocks_from: only levels ``i >= blocks_from`` get the blocks (down level ``i`` and up
            level ``i``, whose output has the resolution of level ``i - 1``). ``0``: every level.
            The inner levels are the cheap ones (a 3x3 conv at 1/32 of the photo costs a
            thousandth of one at full size) and the ones that widen the view: two blocks at the
            innermost level of a depth-5 U-Net add about 128 px of context for about a tenth
            more compute, where blocks at every level would triple it. Blocks start as the
            identity, so a model can grow them and continue from its weights
            (:func:`restore.continuation.load_start_weights`).

    Shape:
        - Input: ``(B, in_channels, H, W)`` with ``H`` and ``W`` multiples of ``2 ** depth``.
        - Output: ``(B, out_channels, H, W)``.

    Example:
        >>> net = UNetGenerator(base_channels=8, depth=4, max_channels=32)
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        base_channels: int = 64,
        depth: int = 8,
        max_channels: int = 512,
        norm: NormKind = "batch",
        dropout: float = 0.5,
        upsample: UpsampleKind = "transposed",
        output: OutputKind = "tanh",
        blocks: int = 0,
        blocks_from: int = 0,
    ) -> None:
        super().__init__()
        check_choice("norm", norm, NORM_KINDS)
        check_choice("upsample", upsample, UPSAMPLE_KINDS)
        check_choice("output", output, OUTPUT_KINDS)
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("base_channels", base_channels),
            ("max_channels", max_channels),
        ):
            if value < 1:
                raise ConfigError(f"{name}={value} must be >= 1")
        if depth < 2:
            raise ConfigError(f"depth={depth} must be >= 2")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout={dropout} must be in [0, 1)")
        if blocks < 0:
            raise ConfigError(f"blocks={blocks} must be >= 0")
        if not 0 <= blocks_from < depth:
            raise ConfigError(f"blocks_from={blocks_from} must be in [0, depth={depth})")
        self.depth = depth
        self.output = output

        bias = norm != "batch"  # a batch norm right after the conv makes its bias redundant
        ch = unet_channels(depth, base_channels, max_channels)
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(depth):
            outermost, innermost = i == 0, i == depth - 1
            # Down: [LeakyReLU,] Conv 4x4/2 [, norm]
            conv = nn.Conv2d(
                in_channels if outermost else ch[i - 1],
                ch[i],
                kernel_size=4,
                stride=2,
                padding=1,
                bias=bias,
            )
            n_res = blocks if i >= blocks_from else 0
            res = [ResBlock(ch[i], norm) for _ in range(n_res)]
            if outermost:
                self.down.append(nn.Sequential(conv, *res))
            elif innermost:
                self.down.append(nn.Sequential(nn.LeakyReLU(0.2), conv, *res))
            else:
                self.down.append(
                    nn.Sequential(nn.LeakyReLU(0.2), conv, make_norm(norm, ch[i]), *res)
                )
            # Up: ReLU, upsample, then norm [+ dropout] or the output activation.
            up_in = ch[i] if innermost else 2 * ch[i]
            if outermost:
                layers = [nn.ReLU(), _upsample(upsample, up_in, out_channels, bias=True)]
                if output == "tanh":
                    layers.append(nn.Tanh())
                elif output == "sigmoid":
                    layers.append(nn.Sigmoid())
            else:
                up_out = ch[i - 1]
                layers = [
                    nn.ReLU(),
                    _upsample(upsample, up_in, up_out, bias=bias),
                    make_norm(norm, up_out),
                ]
                if dropout > 0 and _FIRST_DROPOUT_LEVEL <= i < depth - 1:
                    layers.append(nn.Dropout(dropout))
                layers += [ResBlock(up_out, norm) for _ in range(n_res)]
            self.up.append(nn.Sequential(*layers))

    @property
    def size_multiple(self) -> int:
        """Input sides must be multiples of this (``2 ** depth``): see ``pad_to_multiple``."""
        return 2**self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the U-Net.

        Args:
            x: input, shape ``(B, in_channels, H, W)``, H and W multiples of ``size_multiple``.

        Returns:
            Output, shape ``(B, out_channels, H, W)``; range set by ``output``.
        """
        m = self.size_multiple
        if x.ndim != 4 or x.shape[-2] % m or x.shape[-1] % m:
            raise ValueError(
                f"expected (B, C, H, W) with H and W multiples of {m}, got {tuple(x.shape)}; "
                "pad with restore.core.layers.pad_to_multiple"
            )
        skips: list[torch.Tensor] = []
        h = x
        for block in self.down:
            h = block(h)
            skips.append(h)
        h = self.up[-1](skips[-1])
        for i in range(self.depth - 2, -1, -1):
            h = self.up[i](torch.cat([skips[i], h], dim=1))
        return h


def convert_pix2pix_unet_state_dict(
    state_dict: dict[str, torch.Tensor], depth: int = 8
) -> dict[str, torch.Tensor]:
    """Rename the keys of a pix2pix ``UnetGenerator`` state dict to :class:`UNetGenerator`'s.

    pix2pix nests one ``UnetSkipConnectionBlock`` per level; its outermost block lists
    ``[downconv, submodule, uprelu, upconv, ...]``, a middle one ``[downrelu, downconv, downnorm,
    submodule, uprelu, upconv, upnorm, ...]``, the innermost ``[downrelu, downconv, uprelu, upconv,
    upnorm]``. Only ``upsample="transposed"`` has the same layers.

    Args:
        state_dict: tensors of a pix2pix ``UnetGenerator`` (e.g. read from safetensors).
        depth: its ``num_downs``.

    Returns:
        A new dict with the same tensors under this module's keys; load it with ``strict=True``.
    """
    rename: dict[str, str] = {}
    for i in range(depth):
        prefix = "model.model." if i == 0 else "model.model.1.model." + "3.model." * (i - 1)
        if i == 0:
            pairs = {"0": "down.0.0", "3": "up.0.1"}
        elif i == depth - 1:
            pairs = {"1": f"down.{i}.1", "3": f"up.{i}.1", "4": f"up.{i}.2"}
        else:
            pairs = {"1": f"down.{i}.1", "2": f"down.{i}.2", "5": f"up.{i}.1", "6": f"up.{i}.2"}
        for theirs, ours in pairs.items():
            rename[prefix + theirs] = ours
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        module, _, leaf = key.rpartition(".")
        if module not in rename:
            raise ValueError(f"unexpected key {key!r} for a pix2pix U-Net of depth {depth}")
        out[f"{rename[module]}.{leaf}"] = value
    return out
