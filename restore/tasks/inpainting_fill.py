"""The inpainting network's input and output, and how it fills images of any size.

G (a U-Net with ``in_channels=4``) sees the image with its holes blanked to mean grey (0 in the
signed range), or pre-filled by a push-pull pyramid (:func:`push_pull_fill`, ``prefill``), plus
the mask; its output is composited, known pixels from the input and hole pixels from the network.

Inference (:func:`inpaint`) pads to the network's multiple. Images larger than the working size
are processed as crops around the holes: connected components of the mask, bounding boxes grown
by ``context`` pixels and merged while they overlap; a crop that fits the working size runs as
it is, a larger one runs in overlapping tiles with feathered blending when its holes are small,
or downscaled to the working size when a hole is too large for a tile. Only hole pixels are ever
written: known pixels come back bit for bit. An all-ones mask gives the network nothing to go
on: it fills the whole image from nothing (a smooth, mostly grey guess), which is what it is
asked.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from restore.core.layers import to_signed, to_unit
from restore.core.tiling import pad_run, tiled_apply

__all__ = ["hole_boxes", "inpaint", "network_input", "push_pull_fill", "run_generator"]


def push_pull_fill(x: Tensor, mask: Tensor, confidence: float = 0.0) -> Tensor:
    """A smooth classical fill of the holes (push-pull pyramid), the generator's starting point.

    Push: masked averages over a pyramid of 2x2 cells. Pull: from the coarsest level down, a
    cell with known pixels keeps their average, an empty one takes the bilinear upsampling of
    the level above. With ``confidence`` k > 0 a cell's own average counts with weight
    ``min(1, k * w)``, ``w`` its share of known pixels, and the level above fills the rest (the
    Lumigraph's push-pull, Gortler et al. 1996, weighs cells the same way): a coarse cell that
    sees only a pixel or two (an island left inside a large hole, a dark crack edge at its rim)
    no longer stamps their value on its whole 2^n block, the blocks and streaks of a large
    hole's plain fill. 0 keeps the plain rule. All-hole images come back mean grey (0.5). Not
    differentiable on purpose.

    Shape:
        (B, C, H, W) in [0, 1], (B, 1, H, W) in {0, 1} -> (B, C, H, W); known pixels unchanged.

    Example (the hole pixels one dark pixel inside a large hole darkens by over 0.1):
        >>> x = torch.full((1, 1, 64, 64), 0.7)
        >>> m = torch.zeros(1, 1, 64, 64); m[..., 9:50, 9:50] = 1  # a large hole
        >>> m[0, 0, 30, 30] = 0; x[0, 0, 30, 30] = 0.0  # one dark pixel left inside it
        >>> [int(((push_pull_fill(x, m, k) - 0.7).abs() > 0.1)[m > 0].sum()) for k in (0, 8)]
        [498, 34]
    """
    if confidence < 0:
        raise ValueError(f"confidence must be >= 0, got {confidence!r}")
    known = (mask < 0.5).to(x.dtype)
    levels = [(x * known, known)]
    while min(levels[-1][1].shape[-2:]) > 1:
        v, w = levels[-1]
        levels.append((F.avg_pool2d(v, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    v, w = levels[-1]
    fill = torch.where(w > 0, v / w.clamp_min(1e-8), torch.full_like(v, 0.5))
    for v, w in reversed(levels[:-1]):
        up = F.interpolate(fill, size=v.shape[-2:], mode="bilinear", align_corners=False)
        own = torch.where(w > 0, v / w.clamp_min(1e-8), up)
        fill = own if confidence == 0 else torch.lerp(up, own, (w * confidence).clamp(max=1.0))
    return torch.where(mask > 0.5, fill, x)


def network_input(
    x: Tensor, mask: Tensor, prefill: bool = False, confidence: float = 0.0
) -> Tensor:
    """G's input: the image in [-1, 1] with its holes blanked to 0 (mean grey) or pre-filled by
    :func:`push_pull_fill` (``prefill``, with its ``confidence``), then the mask.

    Shape:
        (B, 3, H, W) in [0, 1], (B, 1, H, W) in {0, 1} -> (B, 4, H, W).
    """
    base = push_pull_fill(x, mask, confidence) if prefill else x * (1.0 - mask)
    return torch.cat([to_signed(base), mask], 1)


def run_generator(
    G: nn.Module, x: Tensor, mask: Tensor, prefill: bool = False, confidence: float = 0.0
) -> tuple[Tensor, Tensor]:
    """G on images whose sides are multiples of its ``size_multiple``.

    Without ``prefill`` G's output (tanh) is the fill; with it, G's raw output is a correction
    added to the push-pull fill (generator ``output: none``).

    Returns:
        (raw output in [0, 1] (unclamped in training), composite: known pixels of ``x``, hole
        pixels of the output).
    """
    inp = network_input(x, mask, prefill, confidence)
    if prefill:
        raw = to_unit(inp[:, :3]) + G(inp)
    else:
        raw = to_unit(G(inp))
    return raw, torch.where(mask > 0.5, raw, x)


def _fill(
    G: nn.Module, x: Tensor, mask: Tensor, prefill: bool = False, confidence: float = 0.0
) -> Tensor:
    """Composite of G on an image of any size (padded to the network multiple); no-op without holes."""
    if not bool((mask > 0.5).any()):
        return x
    multiple = int(getattr(G, "size_multiple", 1))

    def fn(t: Tensor, mask: Tensor) -> Tensor:
        hole = (mask > 0.5).to(t.dtype)
        return run_generator(G, t, hole, prefill, confidence)[1].clamp(0.0, 1.0)

    return pad_run(fn, x, multiple=multiple, scale=1, extra={"mask": mask})


def hole_boxes(mask: Tensor, context: int) -> list[tuple[int, int, int, int]]:
    """Boxes ``(y0, y1, x0, x1)`` around the holes, grown by ``context`` and merged until disjoint.

    Args:
        mask: (H, W) or (1, 1, H, W), 1 = hole.
        context: pixels added on every side of each connected component's bounding box.

    Returns:
        Disjoint boxes, clipped to the image, covering every hole pixel.
    """
    import cv2
    import numpy as np

    m = (mask.reshape(mask.shape[-2:]) > 0.5).cpu().numpy().astype(np.uint8)
    h, w = m.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    boxes = []
    for i in range(1, n):
        x0, y0, bw, bh = (int(v) for v in stats[i, :4])
        boxes.append(
            (
                max(0, y0 - context),
                min(h, y0 + bh + context),
                max(0, x0 - context),
                min(w, x0 + bw + context),
            )
        )
    merged = True
    while merged:
        merged = False
        out: list[tuple[int, int, int, int]] = []
        for b in boxes:
            for j, o in enumerate(out):
                if b[0] < o[1] and o[0] < b[1] and b[2] < o[3] and o[2] < b[3]:
                    out[j] = (min(b[0], o[0]), max(b[1], o[1]), min(b[2], o[2]), max(b[3], o[3]))
                    merged = True
                    break
            else:
                out.append(b)
        boxes = out
    return boxes


def _largest_hole(mask: Tensor) -> int:
    """Largest bounding-box side of a connected hole component in (1, 1, h, w)."""
    import cv2
    import numpy as np

    m = (mask[0, 0] > 0.5).cpu().numpy().astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    return int(stats[1:, 2:4].max()) if n > 1 else 0


def _fill_large(
    G: nn.Module,
    x: Tensor,
    mask: Tensor,
    work_size: int,
    context: int,
    prefill: bool,
    confidence: float = 0.0,
) -> Tensor:
    """Fill one crop larger than ``work_size``: tiled at full resolution, or downscaled."""
    h, w = x.shape[-2:]
    if _largest_hole(mask) + 2 * context <= work_size:
        halo = min(context, work_size // 4)
        return tiled_apply(
            lambda t, mask: _fill(G, t, mask, prefill, confidence),
            x,
            tile=work_size,
            halo=halo,
            extra={"mask": mask},
        )
    s = work_size / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    xs = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    ms = (F.interpolate(mask, size=size, mode="area") > 0).to(x.dtype)  # any hole -> hole
    ys = _fill(G, xs * (1 - ms), ms, prefill, confidence)
    return F.interpolate(ys, size=(h, w), mode="bilinear", align_corners=False).clamp(0.0, 1.0)


def inpaint(
    G: nn.Module,
    x: Tensor,
    mask: Tensor,
    *,
    work_size: int = 512,
    context: int = 64,
    prefill: bool = False,
    confidence: float = 0.0,
) -> Tensor:
    """Fill the holes of ``x`` with generator ``G``; known pixels are returned exactly.

    Images whose sides fit ``work_size`` run whole (padded to G's multiple). Larger ones run on
    crops around the holes (see the module docstring), so memory follows the holes' extent, not
    the image's.

    Args:
        G: the trained generator (eval mode).
        x: images in [0, 1]; hole pixels may hold anything.
        mask: 1 = hole. An all-zero mask returns ``x`` without running G; an all-one mask makes
            G invent the whole image from nothing.
        work_size: largest side G runs on.
        context: known pixels kept around each hole's bounding box.
        prefill: G corrects a :func:`push_pull_fill` of the holes (a generator with ``output:
            none``) instead of filling them blanked to grey.
        confidence: the push-pull fill's ``confidence`` (0: the plain rule).

    Returns:
        Inpainted images in [0, 1].

    Shape:
        (B, 3, H, W), (B, 1, H, W) -> (B, 3, H, W).
    """
    if x.dim() != 4 or mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(
            f"expected (B, 3, H, W) and (B, 1, H, W), got {tuple(x.shape)}, {tuple(mask.shape)}"
        )
    if mask.shape[0] != x.shape[0] or mask.shape[-2:] != x.shape[-2:]:
        raise ValueError(
            f"mask size {tuple(mask.shape[-2:])} does not match the image size {tuple(x.shape[-2:])}"
        )
    hole = mask > 0.5
    if not bool(hole.any()):
        return x.clone()
    m = hole.to(x.dtype)
    out = x.clone()
    h, w = x.shape[-2:]
    for b in range(x.shape[0]):
        xb, mb = x[b : b + 1], m[b : b + 1]
        if max(h, w) <= work_size:
            out[b : b + 1] = _fill(G, xb, mb, prefill, confidence)
            continue
        for y0, y1, x0, x1 in hole_boxes(mb, context):
            cx, cm = xb[..., y0:y1, x0:x1], mb[..., y0:y1, x0:x1]
            if max(y1 - y0, x1 - x0) <= work_size:
                filled = _fill(G, cx, cm, prefill, confidence)
            else:
                filled = _fill_large(G, cx, cm, work_size, context, prefill, confidence)
            out[b : b + 1, :, y0:y1, x0:x1] = filled
    # Only hole pixels change: known pixels are the input's values, bit for bit.
    return torch.where(hole, out, x)
