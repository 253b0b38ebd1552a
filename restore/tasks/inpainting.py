"""Inpainting: fill the holes of an image given its mask, with a mask-conditioned GAN.

The generator (a U-Net with ``in_channels=4``) sees the image with its holes blanked to mean grey
(0 in the signed range) plus the mask; its output is composited, known pixels from the input and
hole pixels from the network. With ``prefill: true`` (the shipped recipe) the holes are first
filled by a cheap push-pull pyramid (:func:`push_pull_fill`, about as good as Telea) and G, with
a linear output, predicts a correction on top: on a CPU budget the network starts from a
classical-quality fill instead of grey. A PatchGAN judges ``(mask, image)`` pairs, so it knows where the
holes were. G's loss: hole-weighted L1 on the raw output (``pixel_loss`` with a weight map),
adversarial and feature matching on the composite. Training masks are the procedural masks of
:mod:`restore.data.masks` (strokes thin/medium/thick, boxes, blobs, scratches), hole ratio drawn
uniformly in ``[hole_min, hole_max]``.

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core.layers import to_signed, to_unit
from restore.core.tiling import pad_run, tiled_apply
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    SeededValSet,
    Task,
    clean_image_folder,
    conditional_d_loss,
    conditional_g_loss,
    mean_psnrs,
    per_image,
    pixel_loss,
    replace_share,
    sample_grid,
    unit_patches,
)


@dataclass(frozen=True)
class InpaintOptions:
    """``task_args`` of the inpainting task."""

    hole_min: float = 0.02  # training hole ratio range, drawn uniformly per mask
    hole_max: float = 0.6
    kinds: tuple[str, ...] = ("stroke", "box", "blob", "scratch")
    hole_weight: float = 6.0  # L1 weight of hole pixels (partial-conv: 6) ...
    valid_weight: float = 1.0  # ... and of known pixels, on the raw output
    val_images: int = 14
    val_size: int = 192
    val_seed: int = 1234
    work_size: int = 512  # largest side the network runs on at inference
    context: int = 64  # pixels of context around each hole's bounding box at inference
    prefill: bool = False  # G corrects a push-pull fill instead of filling grey holes
    print_share: float = 0.0  # share of masks shaped like real-print holes (old_print)

    def __post_init__(self) -> None:
        if not 0.0 <= self.hole_min <= self.hole_max <= 1.0:
            raise ConfigError("task_args.hole_min / hole_max must satisfy 0 <= min <= max <= 1")
        if self.work_size < 64 or self.context < 0:
            raise ConfigError("task_args.work_size must be >= 64 and context >= 0")


# ---------------------------------------------------------------------------------------------
# The network on one padded image
# ---------------------------------------------------------------------------------------------


def push_pull_fill(x: Tensor, mask: Tensor) -> Tensor:
    """A smooth classical fill of the holes (push-pull pyramid), the generator's starting point.

    Push: masked averages over a pyramid of 2x2 cells. Pull: from the coarsest level down, a
    cell with known pixels keeps their average, an empty one takes the bilinear upsampling of
    the level above. All-hole images come back mean grey (0.5). Not differentiable on purpose.

    Shape:
        (B, C, H, W) in [0, 1], (B, 1, H, W) in {0, 1} -> (B, C, H, W); known pixels unchanged.
    """
    known = (mask < 0.5).to(x.dtype)
    levels = [(x * known, known)]
    while min(levels[-1][1].shape[-2:]) > 1:
        v, w = levels[-1]
        levels.append((F.avg_pool2d(v, 2, ceil_mode=True), F.avg_pool2d(w, 2, ceil_mode=True)))
    v, w = levels[-1]
    fill = torch.where(w > 0, v / w.clamp_min(1e-8), torch.full_like(v, 0.5))
    for v, w in reversed(levels[:-1]):
        up = F.interpolate(fill, size=v.shape[-2:], mode="bilinear", align_corners=False)
        fill = torch.where(w > 0, v / w.clamp_min(1e-8), up)
    return torch.where(mask > 0.5, fill, x)


def network_input(x: Tensor, mask: Tensor, prefill: bool = False) -> Tensor:
    """G's input: the image in [-1, 1] with its holes blanked to 0 (mean grey) or pre-filled by
    :func:`push_pull_fill` (``prefill``), then the mask.

    Shape:
        (B, 3, H, W) in [0, 1], (B, 1, H, W) in {0, 1} -> (B, 4, H, W).
    """
    base = push_pull_fill(x, mask) if prefill else x * (1.0 - mask)
    return torch.cat([to_signed(base), mask], 1)


def run_generator(
    G: nn.Module, x: Tensor, mask: Tensor, prefill: bool = False
) -> tuple[Tensor, Tensor]:
    """G on images whose sides are multiples of its ``size_multiple``.

    Without ``prefill`` G's output (tanh) is the fill; with it, G's raw output is a correction
    added to the push-pull fill (generator ``output: none``).

    Returns:
        (raw output in [0, 1] (unclamped in training), composite: known pixels of ``x``, hole
        pixels of the output).
    """
    inp = network_input(x, mask, prefill)
    if prefill:
        raw = to_unit(inp[:, :3]) + G(inp)
    else:
        raw = to_unit(G(inp))
    return raw, torch.where(mask > 0.5, raw, x)


def _fill(G: nn.Module, x: Tensor, mask: Tensor, prefill: bool = False) -> Tensor:
    """Composite of G on an image of any size (padded to the network multiple); no-op without holes."""
    if not bool((mask > 0.5).any()):
        return x
    multiple = int(getattr(G, "size_multiple", 1))

    def fn(t: Tensor, mask: Tensor) -> Tensor:
        return run_generator(G, t, (mask > 0.5).to(t.dtype), prefill)[1].clamp(0.0, 1.0)

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
    G: nn.Module, x: Tensor, mask: Tensor, work_size: int, context: int, prefill: bool
) -> Tensor:
    """Fill one crop larger than ``work_size``: tiled at full resolution, or downscaled."""
    h, w = x.shape[-2:]
    if _largest_hole(mask) + 2 * context <= work_size:
        halo = min(context, work_size // 4)
        return tiled_apply(
            lambda t, mask: _fill(G, t, mask, prefill),
            x,
            tile=work_size,
            halo=halo,
            extra={"mask": mask},
        )
    s = work_size / max(h, w)
    size = (max(1, round(h * s)), max(1, round(w * s)))
    xs = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    ms = (F.interpolate(mask, size=size, mode="area") > 0).to(x.dtype)  # any hole -> hole
    ys = _fill(G, xs * (1 - ms), ms, prefill)
    return F.interpolate(ys, size=(h, w), mode="bilinear", align_corners=False).clamp(0.0, 1.0)


def inpaint(
    G: nn.Module,
    x: Tensor,
    mask: Tensor,
    *,
    work_size: int = 512,
    context: int = 64,
    prefill: bool = False,
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
            out[b : b + 1] = _fill(G, xb, mb, prefill)
            continue
        for y0, y1, x0, x1 in hole_boxes(mb, context):
            cx, cm = xb[..., y0:y1, x0:x1], mb[..., y0:y1, x0:x1]
            if max(y1 - y0, x1 - x0) <= work_size:
                filled = _fill(G, cx, cm, prefill)
            else:
                filled = _fill_large(G, cx, cm, work_size, context, prefill)
            out[b : b + 1, :, y0:y1, x0:x1] = filled
    # Only hole pixels change: known pixels are the input's values, bit for bit.
    return torch.where(hole, out, x)


# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------


def _val_masks(clean: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """Validation pairs (clean, mask): seeded random masks, 10-50% holes."""
    from restore.data.masks import random_masks

    s = clean.shape[-1]
    return clean, random_masks(len(clean), s, s, hole_range=(0.1, 0.5), generator=g)


class InpaintingTask(Task):
    name: ClassVar[str] = "inpainting"
    Options: ClassVar[type] = InpaintOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("psnr", "max")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        from restore.data.masks import MASK_KINDS

        bad = [k for k in self.opts.kinds if k not in MASK_KINDS]
        if bad or not self.opts.kinds:
            raise ConfigError(f"task_args.kinds must be a non-empty subset of {MASK_KINDS}")
        if cfg.model.generator_args.get("in_channels") != 4:
            raise ConfigError("inpainting needs model.generator_args.in_channels: 4 (image + mask)")
        if cfg.loss.adv_weight > 0 and cfg.model.discriminator_args.get("in_channels") != 4:
            raise ConfigError(
                "inpainting needs model.discriminator_args.in_channels: 4 (mask + image)"
            )
        out_kind = cfg.model.generator_args.get("output", "tanh")
        if self.opts.prefill != (out_kind == "none"):
            raise ConfigError(
                "task_args.prefill: true needs model.generator_args.output: none (G adds a "
                "correction), prefill: false needs tanh"
            )
        self._adv_cfg = replace(cfg.loss, pixel="none")  # the pixel term is ours (weighted)
        o = self.opts
        self.val_set = SeededValSet(cfg.data.val, o.val_images, o.val_size, o.val_seed, _val_masks)

    def train_dataset(self) -> Dataset:
        return clean_image_folder(self.cfg)

    def _masks(self, b: int, h: int, w: int, generator: torch.Generator, device) -> Tensor:
        from restore.data.masks import random_masks

        return random_masks(
            b,
            h,
            w,
            kinds=self.opts.kinds,  # type: ignore[arg-type]
            hole_range=(self.opts.hole_min, self.opts.hole_max),
            generator=generator,
            device=device,
        )

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        clean = unit_patches(raw, generator)
        b, _, h, w = clean.shape
        mask = self._masks(b, h, w, generator, clean.device)
        if self.opts.print_share > 0:
            from restore.data.old_print import print_hole_masks

            def print_holes(idx: Tensor) -> tuple[Tensor]:
                m = print_hole_masks(clean[idx], generator)
                full = m.flatten(1).amax(1) > 0  # an empty print mask keeps the random one
                return (torch.where(full[:, None, None, None], m, mask[idx]),)

            (mask,) = replace_share(self.opts.print_share, generator, print_holes, mask)
        return {"input": clean * (1.0 - mask), "mask": mask, "target": clean}

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        raw, fake = run_generator(nets["G"], batch["input"], batch["mask"], self.opts.prefill)
        return {"raw": raw, "fake": fake}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        return conditional_d_loss(
            nets["D"],
            batch["mask"],
            to_signed(batch["target"]),
            to_signed(out["fake"]),
            self.cfg.loss,
            step,
        )

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        m = batch["mask"]
        weight = m * self.opts.hole_weight + (1.0 - m) * self.opts.valid_weight
        pix = pixel_loss(
            to_signed(out["raw"]), to_signed(batch["target"]), self.cfg.loss.pixel, weight
        )
        adv, logs = conditional_g_loss(
            nets.get("D"),
            m,
            to_signed(batch["target"]),
            to_signed(out["fake"]),
            self._adv_cfg,
            gan_on,
        )
        loss = self.cfg.loss.pixel_weight * pix + adv
        logs["g_pixel"] = pix.detach()
        logs["g_loss"] = loss.detach()
        return loss, logs

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        from restore.eval.baselines import inpaint_telea

        G = generators["G"]
        val = self.val_set.on(G)
        if val is None:
            return {}
        clean, mask = val
        out = per_image(lambda x, m: inpaint(G, x, m, prefill=self.opts.prefill), clean, mask)
        telea = inpaint_telea(clean * (1 - mask), mask)
        return mean_psnrs(clean, psnr=out, psnr_telea=telea)

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        m = batch["mask"][:4]
        shown = batch["input"][:4] * (1 - m) + 0.5 * m
        return sample_grid(shown, out["fake"].clamp(0, 1), batch["target"])

    def inference_config(self) -> dict[str, Any]:
        return {
            "work_size": self.opts.work_size,
            "context": self.opts.context,
            "prefill": self.opts.prefill,
        }

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        inf = card.get("inference", {})
        work_size, context = int(inf.get("work_size", 512)), int(inf.get("context", 64))
        prefill = bool(inf.get("prefill", False))

        def fn(x: Tensor, mask: Tensor | None = None) -> Tensor:
            if mask is None:
                raise ValueError(
                    "inpainting needs a mask: model(image, mask=mask), nonzero/white = hole"
                )
            return inpaint(
                G, x, mask.to(x.dtype), work_size=work_size, context=context, prefill=prefill
            )

        # Not tileable: fn finds the holes and crops around them itself (bounded memory).
        return Predictor(fn=fn, scale=1, multiple=1, tileable=False, halo=0)

    @classmethod
    def evaluate(
        cls, run: Callable[..., Tensor], data_dir: str, card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Bucketed protocol on centre crops of ``data_dir`` beside Telea / NS / biharmonic."""
        from restore.eval.inpaint_buckets import evaluate_buckets

        return evaluate_buckets(lambda x, m: run(x, mask=m), [data_dir])


__all__ = [
    "InpaintOptions",
    "InpaintingTask",
    "hole_boxes",
    "inpaint",
    "network_input",
    "run_generator",
]
