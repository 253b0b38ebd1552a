"""Super-resolution x2 / x4: PSNR-oriented models and GAN fine-tunes of them.

Training pairs are made on the device from clean HR patches: LR = MATLAB-compatible bicubic
``imresize`` (antialiased, rounded to 8-bit levels like the ``LR/`` folders of Set5 / Set14), or
Real-ESRGAN's ``second_order_degradation`` with ``degradation: realistic``. Random flips and 90
degree rotations are applied to the HR patch first.

- PSNR model: ``loss.adv_weight: 0`` (no D), L1 or Charbonnier pixel loss.
- GAN model: the PSNR model's weights as ``task_args.init_weights`` (a ``model.safetensors``
  written by ``restore train``, loaded strictly), an unconditional PatchGAN (spectral norm) on HR
  images and the core adversarial losses, plus the pixel loss to stay close to the target.

Validation (``data.val``, e.g. ``../shared/data/val/Set5/x4``) and ``restore eval`` use the
literature's protocol (:func:`restore.eval.protocols.sr_protocol`: Y channel, ``scale`` pixels
shaved); ``evaluate`` reports the bicubic baseline beside the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core import checkpoint as ckpt
from restore.data.resize import imresize, to_uint8
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    Task,
    clean_image_folder,
    image_d_loss,
    image_g_loss,
    sample_grid,
)

Degradation = Literal["bicubic", "realistic"]


@dataclass(frozen=True)
class SuperResolutionOptions:
    """``task_args`` of the super_resolution task."""

    scale: int = 4  # must equal model.generator_args.scale
    degradation: Degradation = "bicubic"  # how LR training inputs are made from HR patches
    init_weights: str = (
        ""  # model.safetensors of a run to start G from (strict), e.g. the PSNR model
    )
    augment: bool = True  # random flips and 90-degree rotations of the HR patches

    def __post_init__(self) -> None:
        if self.scale not in (2, 3, 4):
            raise ConfigError(f"task_args.scale must be 2, 3 or 4, got {self.scale!r}")
        if self.degradation not in ("bicubic", "realistic"):
            raise ConfigError(
                f"task_args.degradation must be bicubic or realistic, got {self.degradation!r}"
            )


def bicubic_lr(hr: Tensor, scale: int) -> Tensor:
    """MATLAB bicubic downscaling (antialiased) rounded to 8-bit levels, as the ``LR/`` folders.

    Shape:
        (B, 3, H, W) -> (B, 3, H / scale, W / scale), values in [0, 1].
    """
    return to_uint8(imresize(hr, scale=1.0 / scale)).to(hr.dtype) / 255.0


def augment_dihedral(x: Tensor, generator: torch.Generator) -> Tensor:
    """Random horizontal flip and 90-degree rotation per image (the 8 dihedral transforms).

    Shape:
        (B, C, P, P) -> (B, C, P, P); square patches only.
    """
    n = x.shape[0]
    r = torch.randint(0, 8, (n,), generator=generator, device=generator.device).tolist()
    out = []
    for i, k in enumerate(r):
        xi = x[i]
        if k & 4:
            xi = xi.flip(-1)
        out.append(torch.rot90(xi, k & 3, dims=(-2, -1)))
    return torch.stack(out)


def load_init_weights(G: nn.Module, path: str) -> None:
    """Load a run's ``model.safetensors`` (generator module ``G``) into ``G``, strictly.

    Raises:
        CheckpointError: the file is missing, not safetensors, or does not fit ``G``.
    """
    tensors, _ = ckpt.load_tensors(path)
    own = ckpt.unprefixed("G", tensors) or tensors
    ckpt.load_into(G, own, source=f"task_args.init_weights {path}")


class SuperResolutionTask(Task):
    name: ClassVar[str] = "super_resolution"
    echo_views: ClassVar[Literal[1, 2, 8]] = 8  # fine detail has no up or down
    Options: ClassVar[type] = SuperResolutionOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("psnr", "max")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        g_scale = cfg.model.generator_args.get("scale", self.opts.scale)
        if g_scale != self.opts.scale:
            raise ConfigError(
                f"task_args.scale={self.opts.scale} but model.generator_args.scale={g_scale}"
            )
        if self.opts.degradation == "realistic" and cfg.data.patch_size < 64 * self.opts.scale:
            # the second round blurs at about 0.3 x the LR size with kernels up to 21 px
            raise ConfigError(
                f"degradation: realistic needs data.patch_size >= {64 * self.opts.scale}, "
                f"got {cfg.data.patch_size}"
            )
        if cfg.data.patch_size % self.opts.scale:
            raise ConfigError(
                f"data.patch_size={cfg.data.patch_size} must be a multiple of task_args.scale"
            )

    # -- networks and data ---------------------------------------------------------------------
    def build_networks(self) -> dict[str, nn.Module]:
        nets = super().build_networks()
        if getattr(nets["G"], "scale", self.opts.scale) != self.opts.scale:
            raise ConfigError(
                f"the generator does not upscale by task_args.scale={self.opts.scale}"
            )
        if self.opts.init_weights:
            load_init_weights(nets["G"], self.opts.init_weights)
        return nets

    def train_dataset(self) -> Dataset:
        return clean_image_folder(self.cfg, min_size=self.cfg.data.patch_size)

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        hr = raw.float() / 255.0
        if self.opts.augment:
            hr = augment_dihedral(hr, generator)
        if self.opts.degradation == "realistic":
            from restore.data.degrade import second_order_degradation

            lr = second_order_degradation(hr, self.opts.scale, generator=generator)
        else:
            lr = bicubic_lr(hr, self.opts.scale)
        return {"input": lr, "target": hr}

    # -- the GAN step ---------------------------------------------------------------------------
    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"fake": nets["G"](batch["input"])}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        return image_d_loss(nets["D"], None, batch["target"], out["fake"], self.cfg.loss, step)

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        y = batch["target"]
        return image_g_loss(nets.get("D"), None, y, out["fake"], self.cfg.loss, gan_on)

    # -- evaluation -----------------------------------------------------------------------------
    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        """Y-PSNR / SSIM on ``data.val`` (a folder with HR/ and LR/ at this scale)."""
        if not self.cfg.data.val:
            return {}
        from restore.eval.protocols import sr_protocol

        G = generators["G"]
        dev = next(G.parameters()).device
        r = sr_protocol(
            lambda lr: G(lr.to(dev)).clamp(0, 1).cpu(), self.cfg.data.val, self.opts.scale
        )
        m = r["mean"]["model"]  # type: ignore[index]
        return {"psnr": float(m["psnr"]), "ssim": float(m["ssim"])}

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        from restore.eval.baselines import bicubic_upscale

        up = bicubic_upscale(batch["input"][:4], self.opts.scale)
        return sample_grid(up, out["fake"].clamp(0, 1), batch["target"])

    def inference_config(self) -> dict[str, Any]:
        ch = int(self.cfg.model.generator_args.get("channels", 32))
        # activations per LR pixel: a few C-channel maps plus the scale**2 output, float32
        return {"scale": self.opts.scale, "bytes_per_pixel": 4 * (4 * ch + 8 * self.opts.scale**2)}

    @classmethod
    def evaluate(
        cls, run: Callable[..., Tensor], data_dir: str, card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The SR protocol on ``data_dir`` (HR/ and LR/) for the model and the bicubic baseline."""
        from restore.eval.baselines import bicubic_upscale
        from restore.eval.protocols import sr_protocol

        scale = _card_scale(card.get("runtime") or {})
        model = sr_protocol(run, data_dir, scale, method="model")
        base = sr_protocol(lambda lr: bicubic_upscale(lr, scale), data_dir, scale, method="bicubic")
        return {
            **model,
            "methods": ["model", "bicubic"],
            "mean": {**model["mean"], **base["mean"]},  # type: ignore[dict-item]
            "rows": [*model["rows"], *base["rows"]],  # type: ignore[misc]
        }

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        scale = _card_scale(card)
        # tiling blends over the inner half of the halo: twice the receptive radius makes tiles exact
        halo = 2 * int(getattr(G, "receptive_radius", 16)) + 4

        def fn(x: Tensor) -> Tensor:
            return G(x).clamp(0, 1)

        return Predictor(
            fn=fn,
            scale=scale,
            multiple=int(getattr(G, "size_multiple", 1)),
            tileable=True,
            halo=max(32, halo),
        )


def _card_scale(runtime: Mapping[str, Any]) -> int:
    """The output scale a card's runtime section gives (inference.scale, else task_args.scale)."""
    s = runtime.get("inference", {}).get("scale") or runtime.get("task_args", {}).get("scale") or 4
    return int(s)


__all__ = [
    "SuperResolutionOptions",
    "SuperResolutionTask",
    "augment_dihedral",
    "bicubic_lr",
    "load_init_weights",
]
