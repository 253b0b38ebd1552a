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


def _as_float(t: Tensor) -> Tensor:
    """A tile in [0, 1] as float32: integer samples are divided by their type's maximum."""
    if t.is_floating_point():
        return t.float()
    top = 255.0 if t.dtype == torch.uint8 else 65535.0
    return t.to(torch.float32) / top


def _store(dst: Tensor, values: Tensor) -> None:
    """Write float values in [0, 1] into ``dst`` (float: as they are; integers: clamp, scale, round)."""
    if dst.is_floating_point():
        dst.copy_(values)
        return
    top = 255.0 if dst.dtype == torch.uint8 else 65535.0
    dst.copy_((values.clamp(0.0, 1.0) * top).round())


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
    out: Tensor | None = None,
) -> Tensor:
    """Apply ``fn`` to ``x`` tile by tile with overlap and feathered blending.

    Tiles are processed in bands of rows; a band's output rows are blended in float32 and written
    to the result as soon as no later tile can touch them, so besides the input and the result only
    one band of accumulators is held. With an integer ``x`` (uint8 / uint16 samples) and an integer
    ``out`` (e.g. views of numpy images), no full-size float copy of either is ever made.

    Args:
        fn: image function on float32 tiles in [0, 1], (B, C, h, w) -> (B, C', h*scale, w*scale);
            keyword tensors in ``extra`` (e.g. a mask) are cut into the same tiles.
        x: input images: float in [0, 1], or uint8 / uint16 samples.
        tile: tile side in input pixels, halo included (rounded up to ``multiple``).
        halo: context pixels on each side of a tile's core; the blend ramp is ``halo`` wide.
        scale: output / input size ratio.
        multiple: the network's size multiple (tiles and the padded image are multiples of it).
        extra: per-pixel tensors (B, k, H, W) cut along with ``x``.
        out_channels: channels of ``fn``'s output (default: ``x``'s).
        out: where to write the result (B, C', H*scale, W*scale), any layout; float, uint8 or uint16
            (integers are rounded from [0, 1]). Default: a new float32 tensor.

    Returns:
        ``out`` (or the new float32 tensor), on ``x``'s device unless ``out`` lives elsewhere.
    """
    b, c, h, w = x.shape
    s = scale
    tile = max(multiple, math.ceil(tile / multiple) * multiple)
    if out is None:
        out = torch.empty(b, out_channels or c, h * s, w * s, device=x.device, dtype=torch.float32)
    if h <= tile and w <= tile:
        _store(
            out, pad_run(fn, _as_float(x), multiple=multiple, scale=s, extra=extra).to(out.device)
        )
        return out
    halo = min(halo, max(0, (tile - 1) // 2 - 1))
    extra = dict(extra or {})
    oc = out.shape[1]
    ys, xs = _starts(h, tile, halo), _starts(w, tile, halo)
    acc = torch.zeros(b, oc, 0, w * s, device=x.device)
    wsum = torch.zeros(1, 1, 0, w * s, device=x.device)
    lo = 0  # first output row held in acc
    for bi, y0 in enumerate(ys):
        core_h = min(tile - 2 * halo, h - y0)
        ty0, ty1 = max(0, y0 - halo), min(h, y0 + core_h + halo)
        grow = ty1 * s - (lo + acc.shape[2])
        if grow > 0:  # extend the accumulators down to this band's last row
            acc = torch.cat([acc, acc.new_zeros(b, oc, grow, w * s)], 2)
            wsum = torch.cat([wsum, wsum.new_zeros(1, 1, grow, w * s)], 2)
        for x0 in xs:
            core_w = min(tile - 2 * halo, w - x0)
            tx0, tx1 = max(0, x0 - halo), min(w, x0 + core_w + halo)
            patch = _as_float(x[..., ty0:ty1, tx0:tx1])
            sub = {k: v[..., ty0:ty1, tx0:tx1] for k, v in extra.items()}
            y = pad_run(fn, patch, multiple=multiple, scale=s, extra=sub).float()
            # feather only towards neighbours: the fade spans the context on that side
            fy = _ramp((ty1 - ty0) * s, (y0 - ty0) * s, (ty1 - y0 - core_h) * s, x.device)
            fx = _ramp((tx1 - tx0) * s, (x0 - tx0) * s, (tx1 - x0 - core_w) * s, x.device)
            wgt = fy[:, None] * fx[None, :]
            sl = (..., slice(ty0 * s - lo, ty1 * s - lo), slice(tx0 * s, tx1 * s))
            acc[sl] += y * wgt
            wsum[sl] += wgt
        # rows above the next band's first row are final: blend, write out, drop
        done = (max(0, ys[bi + 1] - halo) * s) if bi + 1 < len(ys) else h * s
        if done > lo:
            n = done - lo
            rows = acc[:, :, :n] / wsum[:, :, :n].clamp_min(1e-8)
            _store(out[:, :, lo:done], rows.to(out.device))
            acc, wsum, lo = acc[:, :, n:], wsum[:, :, n:], done
    return out


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
