"""Run an image-to-image function on large images in overlapping tiles, without seams.

Each tile carries ``halo`` pixels of context on every side that has a neighbour; neighbouring
outputs overlap there and are blended with linear (feathered) weights over the inner half of the halo
(the outer half, cut off from its own context, gets weight 0), so no seam shows and, for a
network whose receptive radius fits in half the halo, the result matches the untiled output. Peak
memory of the network is that of one tile, whatever the image size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor


def pad_run(
    fn: Callable[..., Tensor],
    x: Tensor,
    *,
    multiple: int,
    scale: int,
    extra: Mapping[str, Tensor] | None = None,
) -> Tensor:
    """``fn`` on ``x`` reflect-padded to a multiple of ``multiple``, output cropped back.

    Shape:
        (B, C, H, W) -> (B, C', H*scale, W*scale)
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    extra = dict(extra or {})
    if ph or pw:
        mode = "reflect" if (ph < h and pw < w) else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
        extra = {k: F.pad(v, (0, pw, 0, ph), mode="replicate") for k, v in extra.items()}
    y = fn(x, **extra)
    return y[..., : h * scale, : w * scale]


def _starts(length: int, tile: int, halo: int) -> list[int]:
    """Core-region starts covering ``length`` with cores of ``tile - 2*halo`` (at least 1)."""
    core = max(1, tile - 2 * halo)
    n = max(1, math.ceil(length / core))
    return [min(i * core, max(0, length - core)) for i in range(n)]


def _ramp(length: int, lo_fade: int, hi_fade: int, device: torch.device) -> Tensor:
    """Blend weights along one axis of a tile: 1 in the core, fading towards context sides.

    The outer half of each context strip gets weight 0 (those outputs lack context of their own,
    being near the tile's cut edge) and the inner half ramps up linearly. Neighbouring tiles
    still overlap by a full strip, and a network whose receptive radius is at most half the halo
    gives the untiled result exactly.
    """
    w = torch.ones(length, device=device)
    for fade, sl in ((lo_fade, slice(0, lo_fade)), (hi_fade, slice(length - hi_fade, length))):
        if fade <= 0:
            continue
        dead = fade // 2
        ramp = torch.zeros(fade, device=device)
        ramp[dead:] = (torch.arange(fade - dead, device=device) + 0.5) / (fade - dead)
        if sl.start != 0:
            ramp = ramp.flip(0)
        w[sl] = torch.minimum(w[sl], ramp)
    return w


def tiled_apply(
    fn: Callable[..., Tensor],
    x: Tensor,
    *,
    tile: int,
    halo: int = 32,
    scale: int = 1,
    multiple: int = 1,
    extra: Mapping[str, Tensor] | None = None,
    out_channels: int | None = None,
) -> Tensor:
    """Apply ``fn`` to ``x`` tile by tile with overlap and feathered blending.

    Args:
        fn: image function, (B, C, h, w) -> (B, C', h*scale, w*scale), keyword tensors in ``extra``
            (e.g. a mask) cut into the same tiles.
        x: input images.
        tile: tile side in input pixels, halo included (rounded up to ``multiple``).
        halo: context pixels on each side of a tile's core; the blend ramp is ``halo`` wide.
        scale: output / input size ratio.
        multiple: the network's size multiple (tiles and the padded image are multiples of it).
        extra: per-pixel tensors (B, k, H, W) cut along with ``x``.
        out_channels: channels of ``fn``'s output (default: ``x``'s).

    Returns:
        (B, C', H*scale, W*scale), on ``x``'s device and dtype.
    """
    b, c, h, w = x.shape
    tile = max(multiple, math.ceil(tile / multiple) * multiple)
    if h <= tile and w <= tile:
        return pad_run(fn, x, multiple=multiple, scale=scale, extra=extra)
    halo = min(halo, max(0, (tile - 1) // 2 - 1))
    extra = dict(extra or {})
    oc = out_channels or c
    out = torch.zeros(b, oc, h * scale, w * scale, device=x.device, dtype=torch.float32)
    weight = torch.zeros(1, 1, h * scale, w * scale, device=x.device, dtype=torch.float32)
    for y0 in _starts(h, tile, halo):
        for x0 in _starts(w, tile, halo):
            core_h, core_w = min(tile - 2 * halo, h - y0), min(tile - 2 * halo, w - x0)
            ty0, tx0 = max(0, y0 - halo), max(0, x0 - halo)
            ty1, tx1 = min(h, y0 + core_h + halo), min(w, x0 + core_w + halo)
            patch = x[..., ty0:ty1, tx0:tx1]
            sub = {k: v[..., ty0:ty1, tx0:tx1] for k, v in extra.items()}
            y = pad_run(fn, patch, multiple=multiple, scale=scale, extra=sub).float()
            # feather only towards neighbours: the fade spans the context on that side
            fy = _ramp(
                (ty1 - ty0) * scale, (y0 - ty0) * scale, (ty1 - y0 - core_h) * scale, x.device
            )
            fx = _ramp(
                (tx1 - tx0) * scale, (x0 - tx0) * scale, (tx1 - x0 - core_w) * scale, x.device
            )
            wgt = fy[:, None] * fx[None, :]
            sl = (..., slice(ty0 * scale, ty1 * scale), slice(tx0 * scale, tx1 * scale))
            out[sl] += y * wgt
            weight[sl] += wgt
    return (out / weight.clamp_min(1e-8)).to(x.dtype)


def auto_tile(
    device: torch.device, bytes_per_pixel: int, multiple: int = 1, *, lo: int = 128, hi: int = 1024
) -> int:
    """A tile side whose activations fit comfortably in the memory free on ``device``.

    Args:
        device: where the network runs.
        bytes_per_pixel: the network's peak activation memory per input pixel (estimate).
        multiple: the result is a multiple of this.
        lo, hi: bounds of the tile side.
    """
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        budget = free * 0.5
    else:
        budget = min(_available_ram() * 0.25, 2 * 1024**3)
    side = int(math.sqrt(max(1.0, budget) / max(1, bytes_per_pixel)))
    side = max(lo, min(hi, side))
    return max(multiple, side // multiple * multiple)


def _available_ram() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 1024**3
