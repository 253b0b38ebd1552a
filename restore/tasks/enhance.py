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
from restore.data.degrade import OldPhotoConfig, old_photo_damage
from restore.data.old_print import HOLE_EFFECTS, OldPrintConfig, old_print_damage
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    Task,
    centre_crops,
    clean_image_folder,
    conditional_d_loss,
    conditional_g_loss,
    random_hflip,
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
    Options: ClassVar[type] = EnhanceOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("psnr", "max")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        if self.opts.residual and cfg.model.generator_args.get("output", "tanh") != "none":
            raise ConfigError("task_args.residual: true needs model.generator_args.output: none")
        self.damage = _damage_config(self.opts.local_damage)
        self._val: tuple[Tensor, Tensor] | None = None

    def train_dataset(self) -> Dataset:
        return clean_image_folder(self.cfg)

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        clean = raw.float() / 255.0
        clean = random_hflip(clean, generator)
        damaged, _ = old_photo_damage(clean, generator=generator, config=self.damage)
        target = clean
        if self.opts.print_share > 0:
            damaged, target = self._print_pairs(clean, damaged, generator)
        if self.opts.clean_share > 0:
            keep = torch.rand(clean.shape[0], generator=generator, device=generator.device)
            keep = (keep < self.opts.clean_share).to(clean.device)[:, None, None, None]
            damaged = torch.where(keep, target, damaged)
        return {"input": damaged, "target": target}

    def _print_pairs(
        self, clean: Tensor, damaged: Tensor, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """A ``print_share`` of the batch becomes (aged print, clean toned print) pairs."""
        pick = torch.rand(clean.shape[0], generator=generator, device=generator.device)
        idx = (pick < self.opts.print_share).nonzero().view(-1).to(clean.device)
        if idx.numel() == 0:
            return damaged, clean
        no_holes = {f"{e}_prob": 0.0 for e in HOLE_EFFECTS}
        d, _, t = old_print_damage(clean[idx], generator, replace(OldPrintConfig(), **no_holes))
        return damaged.index_copy(0, idx, d), clean.index_copy(0, idx, t)

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"fake": run_generator(nets["G"], batch["input"], self.opts.residual)}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        return conditional_d_loss(
            nets["D"],
            to_signed(batch["input"]),
            to_signed(batch["target"]),
            to_signed(out["fake"]),
            self.cfg.loss,
            step,
        )

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        return conditional_g_loss(
            nets.get("D"),
            to_signed(batch["input"]),
            to_signed(batch["target"]),
            to_signed(out["fake"]),
            self.cfg.loss,
            gan_on,
        )

    def _val_pairs(self, device: torch.device) -> tuple[Tensor, Tensor] | None:
        if not self.cfg.data.val:
            return None
        if self._val is None:
            clean = centre_crops(self.cfg.data.val, self.opts.val_images, self.opts.val_size)
            g = torch.Generator().manual_seed(self.opts.val_seed)
            damaged, _ = old_photo_damage(clean, generator=g, config=self.damage)
            self._val = (damaged, clean)
        damaged, clean = self._val
        return damaged.to(device), clean.to(device)

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        from restore.eval.metrics import psnr

        G = generators["G"]
        dev = next(G.parameters()).device
        pairs = self._val_pairs(dev)
        if pairs is None:
            return {}
        damaged, clean = pairs
        out = torch.cat(
            [
                run_generator(G, damaged[i : i + 1], self.opts.residual).clamp(0, 1)
                for i in range(len(damaged))
            ]
        )
        return {
            "psnr": float(psnr(out, clean).mean()),
            "psnr_input": float(psnr(damaged, clean).mean()),
        }

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        n = min(4, batch["input"].shape[0])
        rows = [batch["input"][:n], out["fake"][:n].clamp(0, 1), batch["target"][:n]]
        return torch.stack(rows, 1).flatten(0, 1)

    def inference_config(self) -> dict[str, Any]:
        return {"residual": self.opts.residual}

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        residual = bool(card.get("inference", {}).get("residual", True))
        multiple = int(getattr(G, "size_multiple", 1))

        def fn(x: Tensor) -> Tensor:
            return run_generator(G, x, residual).clamp(0, 1)

        return Predictor(fn=fn, scale=1, multiple=multiple, tileable=True, halo=max(32, multiple))


__all__ = ["EnhanceOptions", "EnhanceTask", "run_generator"]
