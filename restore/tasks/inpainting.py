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

Inference (:func:`inpaint`, in :mod:`restore.tasks.inpainting_fill` with the network's input and
output, re-exported here) runs on crops around the holes of large images; only hole pixels change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core.layers import to_signed
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
from restore.tasks.inpainting_fill import (
    hole_boxes,
    inpaint,
    network_input,
    push_pull_fill,
    run_generator,
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
    # that fill's confidence (restore.tasks.inpainting_fill.push_pull_fill; 0: the plain rule)
    prefill_confidence: float = 0.0
    print_share: float = 0.0  # share of masks shaped like real-print holes (old_print)

    def __post_init__(self) -> None:
        if not 0.0 <= self.hole_min <= self.hole_max <= 1.0:
            raise ConfigError("task_args.hole_min / hole_max must satisfy 0 <= min <= max <= 1")
        if self.work_size < 64 or self.context < 0:
            raise ConfigError("task_args.work_size must be >= 64 and context >= 0")
        if not self.prefill_confidence >= 0:
            raise ConfigError("task_args.prefill_confidence must be >= 0")


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
    echo_views: ClassVar[Literal[1, 2, 8]] = 8  # local damage has no up or down
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
        raw, fake = run_generator(
            nets["G"],
            batch["input"],
            batch["mask"],
            self.opts.prefill,
            self.opts.prefill_confidence,
        )
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
        prefill, confidence = self.opts.prefill, self.opts.prefill_confidence
        out = per_image(
            lambda x, m: inpaint(G, x, m, prefill=prefill, confidence=confidence), clean, mask
        )
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
            "prefill_confidence": self.opts.prefill_confidence,
        }

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        inf = card.get("inference", {})
        work_size, context = int(inf.get("work_size", 512)), int(inf.get("context", 64))
        prefill = bool(inf.get("prefill", False))
        confidence = float(inf.get("prefill_confidence", 0.0))  # cards before it: the plain rule

        def fn(x: Tensor, mask: Tensor | None = None) -> Tensor:
            if mask is None:
                raise ValueError(
                    "inpainting needs a mask: model(image, mask=mask), nonzero/white = hole"
                )
            return inpaint(
                G,
                x,
                mask.to(x.dtype),
                work_size=work_size,
                context=context,
                prefill=prefill,
                confidence=confidence,
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
    "push_pull_fill",
    "run_generator",
]
