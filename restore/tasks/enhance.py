"""Enhance: undo the global damage of old photos (fading, colour cast, grain, blur, JPEG).

Training pairs are made on the device from clean patches: ``old_photo_damage`` with the local
damage (scratches, dust, creases) switched off, since those are found and inpainted before this
stage. The generator predicts a residual on top of its input (``residual: true``), pix2pix style:
a conditional PatchGAN judges (damaged, restored) pairs, with an L1 / Charbonnier pixel loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core.layers import to_signed, to_unit
from restore.core.tiling import unet_bytes_per_pixel
from restore.data.degrade import OldPhotoConfig, old_photo_damage
from restore.data.old_print import HOLE_EFFECTS, OldPrintConfig, old_print_damage
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    SeededValSet,
    Task,
    clean_image_folder,
    image_d_loss,
    image_g_loss,
    mean_psnrs,
    per_image,
    pick_share,
    replace_share,
    sample_grid,
    unit_patches,
)


@dataclass(frozen=True)
class EnhanceOptions:
    """``task_args`` of the enhance task."""

    residual: bool = True  # G predicts a correction added to its input
    local_damage: bool = False  # also train on scratches / dust / creases
    val_images: int = 14  # validation images taken from data.val (sorted), centre-cropped
    val_size: int = 256
    val_seed: int = 1234
    # share of each batch aged like real old prints (restore.data.old_print: fading, yellowing,
    # stains, foxing, silvering, uneven exposure, paper texture, ...; no holes: those are
    # inpainted before this stage); the target is the clean print in its own tone
    print_share: float = 0.0
    # share of each batch given as the clean photo itself (target = input): do no harm
    clean_share: float = 0.0

    def __post_init__(self) -> None:
        for k in ("print_share", "clean_share"):
            if not 0.0 <= getattr(self, k) <= 1.0:
                raise ConfigError(f"task_args.{k} must be in [0, 1], got {getattr(self, k)}")


def _damage_config(local_damage: bool) -> OldPhotoConfig:
    cfg = OldPhotoConfig()
    if not local_damage:
        cfg = replace(cfg, scratch_prob=0.0, dust_prob=0.0, crease_prob=0.0)
    return cfg


def run_generator(G: nn.Module, x: Tensor, residual: bool) -> Tensor:
    """Apply the enhance generator to images in [0, 1]; returns images in [0, 1] (unclamped in training)."""
    y = G(to_signed(x))
    return x + y if residual else to_unit(y)


class EnhanceTask(Task):
    name: ClassVar[str] = "enhance"
    echo_views: ClassVar[Literal[1, 2, 8]] = 8  # local damage has no up or down
    Options: ClassVar[type] = EnhanceOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("psnr", "max")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        if self.opts.residual and cfg.model.generator_args.get("output", "tanh") != "none":
            raise ConfigError("task_args.residual: true needs model.generator_args.output: none")
        self.damage = _damage_config(self.opts.local_damage)
        o = self.opts
        self.val_set = SeededValSet(
            cfg.data.val, o.val_images, o.val_size, o.val_seed, self._damaged
        )

    def _damaged(self, clean: Tensor, g: torch.Generator) -> tuple[Tensor, Tensor]:
        """Validation pairs (damaged, clean) of clean crops."""
        return old_photo_damage(clean, generator=g, config=self.damage)[0], clean

    def train_dataset(self) -> Dataset:
        return clean_image_folder(self.cfg)

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        clean = unit_patches(raw, generator)
        damaged, _ = old_photo_damage(clean, generator=generator, config=self.damage)
        target = clean
        if self.opts.print_share > 0:
            # a share of the batch becomes (aged print, clean toned print) pairs
            no_holes = replace(OldPrintConfig(), **{f"{e}_prob": 0.0 for e in HOLE_EFFECTS})

            def aged(idx: Tensor) -> tuple[Tensor, Tensor]:
                d, _, t = old_print_damage(clean[idx], generator, no_holes)
                return d, t

            damaged, target = replace_share(self.opts.print_share, generator, aged, damaged, clean)
        if self.opts.clean_share > 0:
            n = clean.shape[0]
            keep = pick_share(n, self.opts.clean_share, generator, clean.device)
            damaged = torch.where(keep[:, None, None, None], target, damaged)
        return {"input": damaged, "target": target}

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"fake": run_generator(nets["G"], batch["input"], self.opts.residual)}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        x, y = batch["input"], batch["target"]
        return image_d_loss(nets["D"], x, y, out["fake"], self.cfg.loss, step)

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        x, y = batch["input"], batch["target"]
        return image_g_loss(nets.get("D"), x, y, out["fake"], self.cfg.loss, gan_on)

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        G = generators["G"]
        pairs = self.val_set.on(G)
        if pairs is None:
            return {}
        damaged, clean = pairs
        out = per_image(lambda x: run_generator(G, x, self.opts.residual).clamp(0, 1), damaged)
        return mean_psnrs(clean, psnr=out, psnr_input=damaged)

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        return sample_grid(batch["input"], out["fake"].clamp(0, 1), batch["target"])

    def inference_config(self) -> dict[str, Any]:
        return {
            "residual": self.opts.residual,
            "bytes_per_pixel": unet_bytes_per_pixel(self.cfg.model.generator_args),
        }

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        residual = bool(card.get("inference", {}).get("residual", True))
        multiple = int(getattr(G, "size_multiple", 1))

        def fn(x: Tensor) -> Tensor:
            return run_generator(G, x, residual).clamp(0, 1)

        return Predictor(fn=fn, scale=1, multiple=multiple, tileable=True, halo=max(32, multiple))


__all__ = ["EnhanceOptions", "EnhanceTask", "run_generator"]
