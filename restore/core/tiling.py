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
from typing import Any, Protocol, runtime_checkable

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


def samples_to_float(t: Tensor) -> Tensor:
    """Images or tiles as float32 in [0, 1]: uint8 / uint16 samples are divided by 255 / 65535,
    floats are taken as they are (the inverse of :func:`store_samples`).

    Example:
        >>> samples_to_float(torch.tensor([0, 255], dtype=torch.uint8))
        tensor([0., 1.])
    """
    if t.is_floating_point():
        return t.float()
    top = 255.0 if t.dtype == torch.uint8 else 65535.0
    return t.to(torch.float32) / top


def store_samples(dst: Tensor, values: Tensor) -> None:
    """Write float values in [0, 1] into ``dst`` in place: a float ``dst`` takes them as they are,
    a uint8 / uint16 one clamped to [0, 1], scaled by 255 / 65535 and rounded."""
    if dst.is_floating_point():
        dst.copy_(values)
        return
    top = 255.0 if dst.dtype == torch.uint8 else 65535.0
    dst.copy_((values.clamp(0.0, 1.0) * top).round())


@runtime_checkable
class RowSource(Protocol):
    """Images that hand out bands of rows on demand (e.g. read from a file as they are needed).

    ``shape`` is (B, C, H, W); ``rows(y0, y1)`` returns rows ``y0:y1`` as a (B, C, y1 - y0, W)
    tensor of floats in [0, 1] or uint8 / uint16 samples. :func:`tiled_apply` asks for each
    band once, top to bottom.
    """

    shape: tuple[int, int, int, int]

    def rows(self, y0: int, y1: int) -> Tensor: ...


@runtime_checkable
class RowSink(Protocol):
    """Where finished output rows go as soon as they are final (e.g. a file being encoded).

    ``shape`` is (B, C, H, W); ``write(y0, values)`` receives rows ``y0:y0 + n`` as a
    (B, C, n, W) float32 tensor in [0, 1] (not clamped); :func:`tiled_apply` writes each row
    exactly once, top to bottom.
    """

    shape: tuple[int, int, int, int]

    def write(self, y0: int, values: Tensor) -> None: ...


class _TensorRows:
    def __init__(self, x: Tensor) -> None:
        self.x, self.shape = x, tuple(x.shape)

    def rows(self, y0: int, y1: int) -> Tensor:
        return self.x[..., y0:y1, :]


class _TensorSink:
    def __init__(self, out: Tensor) -> None:
        self.out, self.shape = out, tuple(out.shape)

    def write(self, y0: int, values: Tensor) -> None:
        store_samples(self.out[:, :, y0 : y0 + values.shape[2]], values.to(self.out.device))


_CHUNK_BYTES = 4 * 1024**2
"""Finished rows are normalised and handed to the sink in chunks of about this many bytes."""


def tiled_apply(
    fn: Callable[..., Tensor],
    x: Tensor | RowSource,
    *,
    tile: int,
    halo: int = 32,
    scale: int = 1,
    multiple: int = 1,
    extra: Mapping[str, Tensor] | None = None,
    out_channels: int | None = None,
    out: Tensor | RowSink | None = None,
) -> Tensor | RowSink:
    """Apply ``fn`` to ``x`` tile by tile with overlap and feathered blending.

    Tiles are processed in bands of rows; a band's output rows are blended in float32 and written
    to the result as soon as no later tile can touch them, so besides the input and the result only
    one band of accumulators (``tile * scale`` output rows) is held. The blend weights are
    separable (a row ramp times a column ramp), so their sum is two vectors, not an image. With
    an integer ``x`` (uint8 / uint16 samples) and an integer ``out`` (e.g. views of numpy images),
    no full-size float copy of either is ever made; with a :class:`RowSource` and a
    :class:`RowSink` (rows read from and encoded to files) neither image is held at all.

    Args:
        fn: image function on float32 tiles in [0, 1], (B, C, h, w) -> (B, C', h*scale, w*scale);
            keyword tensors in ``extra`` (e.g. a mask) are cut into the same tiles.
        x: input images: float in [0, 1], or uint8 / uint16 samples; or a :class:`RowSource`.
        tile: tile side in input pixels, halo included (rounded up to ``multiple``).
        halo: context pixels on each side of a tile's core; the blend ramp is ``halo`` wide.
        scale: output / input size ratio.
        multiple: the network's size multiple (tiles and the padded image are multiples of it).
        extra: per-pixel tensors (B, k, H, W) cut along with ``x``.
        out_channels: channels of ``fn``'s output (default: ``x``'s).
        out: where to write the result (B, C', H*scale, W*scale), any layout; float, uint8 or uint16
            (integers are rounded from [0, 1]); or a :class:`RowSink`. Default: a new float32
            tensor.

    Returns:
        ``out`` (or the new float32 tensor), on ``x``'s device unless ``out`` lives elsewhere.
    """
    src = _TensorRows(x) if isinstance(x, Tensor) else x
    b, c, h, w = src.shape
    s = scale
    tile = max(multiple, math.ceil(tile / multiple) * multiple)
    if out is None:
        dev = x.device if isinstance(x, Tensor) else None
        out = torch.empty(b, out_channels or c, h * s, w * s, device=dev, dtype=torch.float32)
    sink = _TensorSink(out) if isinstance(out, Tensor) else out
    extra = dict(extra or {})
    if h <= tile and w <= tile:
        sink.write(
            0,
            pad_run(fn, samples_to_float(src.rows(0, h)), multiple=multiple, scale=s, extra=extra),
        )
        return out
    halo = min(halo, max(0, (tile - 1) // 2 - 1))
    oc = sink.shape[1]
    ys, xs = _starts(h, tile, halo), _starts(w, tile, halo)
    # Blend weights: tile (band i, column j) gets ramp_y[i] (x) ramp_x[j]; their sum is wy (x) wx.
    cols = []
    wx: Tensor | None = None
    wy: Tensor | None = None
    acc: Tensor | None = None
    lo = 0  # first output row held in acc (row 0 of acc)
    for bi, y0 in enumerate(ys):
        core_h = min(tile - 2 * halo, h - y0)
        ty0, ty1 = max(0, y0 - halo), min(h, y0 + core_h + halo)
        band = src.rows(ty0, ty1)
        dev = band.device
        if acc is None:
            acc = torch.zeros(b, oc, min(h, tile) * s, w * s, device=dev)
            wy = torch.zeros(h * s, device=dev)
            wx = torch.zeros(w * s, device=dev)
            for x0 in xs:
                core_w = min(tile - 2 * halo, w - x0)
                tx0, tx1 = max(0, x0 - halo), min(w, x0 + core_w + halo)
                fx = _ramp((tx1 - tx0) * s, (x0 - tx0) * s, (tx1 - x0 - core_w) * s, dev)
                wx[tx0 * s : tx1 * s] += fx
                cols.append((tx0, tx1, fx))
        assert wy is not None and wx is not None
        fy = _ramp((ty1 - ty0) * s, (y0 - ty0) * s, (ty1 - y0 - core_h) * s, dev)
        wy[ty0 * s : ty1 * s] += fy
        r0, r1 = ty0 * s - lo, ty1 * s - lo
        for tx0, tx1, fx in cols:
            patch = samples_to_float(band[..., tx0:tx1])
            sub = {k: v[..., ty0:ty1, tx0:tx1] for k, v in extra.items()}
            y = pad_run(fn, patch, multiple=multiple, scale=s, extra=sub).float().to(dev)
            acc[..., r0:r1, tx0 * s : tx1 * s] += y * (fy[:, None] * fx[None, :])
        # rows above the next band's first row are final: blend, write out, drop
        done = (max(0, ys[bi + 1] - halo) * s) if bi + 1 < len(ys) else h * s
        if done > lo:
            n = done - lo
            step = max(1, _CHUNK_BYTES // max(1, 4 * b * oc * w * s))
            for a in range(0, n, step):
                e = min(n, a + step)
                norm = wy[lo + a : lo + e, None] * wx[None, :]
                sink.write(lo + a, acc[:, :, a:e] / norm.clamp_min(1e-8))
            keep = r1 - n  # rows of this band that the next band still adds to (>= 0)
            if keep:
                acc[:, :, :keep] = acc[:, :, n : n + keep].clone()
            acc[:, :, keep:] = 0
            lo = done
    return out


def unet_bytes_per_pixel(generator_args: Mapping[str, Any]) -> int:
    """An estimate, with room to spare, of a U-Net's peak float32 activation memory per input
    pixel at inference, from its ``model.generator_args``: 32 bytes per channel of its first
    level (``base_channels``; the U-Net's default, 64, when unset). Measured on the CPU
    (``scripts/bench/tile_memory.py``: peak resident memory growth, untiled 1024 and 2048 px
    squares): 129-158 B/px for the damage detector and 147-198 for enhance, both with 16 base
    channels (this gives 512). :func:`auto_tile` sizes tiles with it, so a photo that fits in
    memory runs untiled.

    Example:
        >>> unet_bytes_per_pixel({"base_channels": 16}), unet_bytes_per_pixel({})
        (512, 2048)
    """
    return 32 * int(generator_args.get("base_channels", 64))


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
