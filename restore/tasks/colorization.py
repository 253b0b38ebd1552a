"""Colorization: a conditional GAN in CIE Lab that predicts the chroma (a*, b*) of a grey photo.

The generator sees the lightness ``L*`` and predicts ``a*b*``; a PatchGAN judges
``(L*, a*b*)`` triples (3 channels), pix2pix style, with an L1 loss on ``a*b*`` so the colours
stay anchored and the adversarial term keeps them from washing out to sepia.

Scaling (inside the networks only): ``L_n = L* / 50 - 1`` in ``[-1, 1]`` and
``ab_n = ab* / 110`` (the sRGB gamut spans about ``|a*|, |b*| <= 110``), so a ``tanh`` output
covers every sRGB colour.

Two cheap counter-measures against desaturation (Zhang et al. 2016 rebalance rare colours):

- ``chroma_weight``: the L1 loss of each pixel is weighted ``1 + chroma_weight * |ab_n|``, so
  saturated pixels count more than the (common) near-grey ones;
- ``adv_late``: the adversarial weight ramps linearly from ``loss.adv_weight`` at
  ``train.gan_start`` to ``adv_late * loss.adv_weight`` at the last step.

Inference (:func:`colorize`) keeps the input's full-resolution lightness: chroma is predicted at a
working resolution (short side ``work_size``, sides multiples of the net's), upsampled bilinearly
to full size, scaled by ``chroma_gain * saturation`` and recombined with the ORIGINAL ``L*``.
Colours that fall outside sRGB are pulled towards grey per pixel (bisection on the chroma scale)
rather than clipped, so the output's ``L*`` equals the input's
(:func:`restore.data.color.lab_to_rgb_in_gamut`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.data.color import lab_to_rgb_in_gamut, lightness, rgb_to_lab
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    Task,
    conditional_d_loss,
    conditional_g_loss,
    sample_grid,
    unit_patches,
)

L_SCALE = 50.0  # L* in [0, 100] -> L* / 50 - 1 in [-1, 1]
AB_SCALE = 110.0  # a*, b* -> / 110, about [-1, 1] over the sRGB gamut


@dataclass(frozen=True)
class ColorizationOptions:
    """``task_args`` of the colorization task."""

    train_short_side: int = 256  # training images are resized once so their short side is this
    work_size: int = 256  # inference: chroma is predicted with this short side
    chroma_weight: float = 0.0  # L1 weight 1 + chroma_weight * |ab_n| per pixel (rebalancing)
    adv_late: float = 1.0  # adversarial weight multiplier reached at the last step (linear ramp)
    val_images: int = 5  # validation images taken from data.val (sorted), at work_size

    def __post_init__(self) -> None:
        if self.train_short_side < 8 or self.work_size < 8:
            raise ConfigError("task_args.train_short_side and task_args.work_size must be >= 8")
        if self.chroma_weight < 0 or self.adv_late < 0:
            raise ConfigError("task_args.chroma_weight and task_args.adv_late must be >= 0")


# ---------------------------------------------------------------------------------------------
# Inference (the Lab conversions are restore.data.color's, re-exported here)
# ---------------------------------------------------------------------------------------------


def normalize_l(lum: Tensor) -> Tensor:
    """``L*`` in [0, 100] -> the network input in [-1, 1]."""
    return lum / L_SCALE - 1.0


def work_shape(h: int, w: int, short_side: int, multiple: int) -> tuple[int, int]:
    """Working resolution: short side ``short_side``, aspect kept, sides multiples of ``multiple``.

    Example:
        >>> work_shape(768, 1024, 256, 32)
        (256, 352)
    """

    def snap(v: float) -> int:
        return max(multiple, int(round(v / multiple)) * multiple)

    s = short_side / min(h, w)
    return snap(h * s), snap(w * s)


def predict_ab(G: nn.Module, lum: Tensor, size: tuple[int, int]) -> Tensor:
    """The generator's ``a*b*`` (not yet scaled by any gain) for ``L*`` resized to ``size``.

    Shape: (B, 1, H, W) ``L*`` in [0, 100] -> (B, 2, H, W) ``a*b*`` at the input's size.
    """
    h, w = lum.shape[-2:]
    small = F.interpolate(lum, size=size, mode="bilinear", align_corners=False, antialias=True)
    ab_n = G(normalize_l(small))
    ab_n = F.interpolate(ab_n, size=(h, w), mode="bilinear", align_corners=False)
    return ab_n * AB_SCALE


def colorize(
    G: nn.Module,
    x: Tensor,
    *,
    work_size: int = 256,
    saturation: float = 1.0,
    chroma_gain: float = 1.0,
) -> Tensor:
    """Colour images with generator ``G``, keeping their full-resolution lightness.

    Args:
        G: the trained generator (``L_n -> ab_n``), eval mode.
        x: grey (R = G = B) or colour images in [0, 1]; colour images are reduced to ``L*``.
        work_size: short side at which the chroma is predicted.
        saturation: user control, multiplies the chroma (0 gives the grey image back).
        chroma_gain: the model's calibrated chroma gain (from its card).

    Returns:
        RGB images in [0, 1] whose ``L*`` equals the input's.

    Shape:
        (B, 3, H, W) -> (B, 3, H, W).
    """
    if saturation < 0:
        raise ValueError(f"saturation must be >= 0, got {saturation}")
    lum = lightness(x)
    multiple = int(getattr(G, "size_multiple", 1))
    size = work_shape(x.shape[-2], x.shape[-1], work_size, multiple)
    ab = predict_ab(G, lum, size) * (chroma_gain * saturation)
    return lab_to_rgb_in_gamut(lum, ab)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


class ResizedColorImages(Dataset):
    """Colour images resized once (short side ``short_side``) and kept in memory; random crops.

    Grey images (all channels equal) are skipped. Item ``i`` of epoch ``e`` is cropped at a
    position drawn from a generator seeded by ``(seed, e, i)``.

    Shape:
        item: (3, patch_size, patch_size) uint8.
    """

    def __init__(self, root: str, patch_size: int, short_side: int, seed: int = 0) -> None:
        from PIL import Image as PILImage

        from restore.data.datasets import list_images
        from restore.data.io import read_image

        if short_side < patch_size:
            raise ConfigError(
                f"task_args.train_short_side={short_side} must be >= data.patch_size={patch_size}"
            )
        self.patch_size, self.seed, self.epoch = patch_size, seed, 0
        self.images: list[np.ndarray] = []
        self.paths: list[Path] = []
        for p in list_images(root):
            img = read_image(p)
            px = img.pixels
            if px.dtype != np.uint8:
                px = (px // 257).astype(np.uint8)
            if img.grayscale or (np.ptp(px.astype(np.int16), axis=2).max() <= 2):
                continue
            h, w = px.shape[:2]
            s = short_side / min(h, w)
            size = (max(short_side, round(w * s)), max(short_side, round(h * s)))
            small = PILImage.fromarray(px).resize(
                size, PILImage.Resampling.BICUBIC, reducing_gap=None
            )
            self.images.append(np.ascontiguousarray(np.asarray(small)))
            self.paths.append(p)
        if not self.images:
            raise ConfigError(f"data.train {root}: no colour images found")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> Tensor:
        a = self.images[i]
        rng = np.random.default_rng([self.seed, self.epoch, i])
        p = self.patch_size
        top = int(rng.integers(0, a.shape[0] - p + 1))
        left = int(rng.integers(0, a.shape[1] - p + 1))
        return torch.from_numpy(np.ascontiguousarray(a[top : top + p, left : left + p])).permute(
            2, 0, 1
        )


# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------


class ColorizationTask(Task):
    name: ClassVar[str] = "colorization"
    echo_views: ClassVar[Literal[1, 2, 8]] = 2  # its pictures have an up and a down
    Options: ClassVar[type] = ColorizationOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = None

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        ga, da = cfg.model.generator_args, cfg.model.discriminator_args
        if ga.get("in_channels", 3) != 1 or ga.get("out_channels", 3) != 2:
            raise ConfigError(
                "colorization needs model.generator_args in_channels: 1 and out_channels: 2"
            )
        if ga.get("output", "tanh") != "tanh":
            raise ConfigError("colorization needs model.generator_args.output: tanh")
        if cfg.loss.adv_weight > 0 and da.get("in_channels", 6) != 3:
            raise ConfigError("colorization needs model.discriminator_args.in_channels: 3 (L+ab)")

    def train_dataset(self) -> Dataset:
        d = self.cfg.data
        if not d.train:
            raise ConfigError("data.train must name a folder of colour training images")
        return ResizedColorImages(
            d.train, d.patch_size, self.opts.train_short_side, seed=self.cfg.train.seed
        )

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        rgb = unit_patches(raw, generator)
        lab = rgb_to_lab(rgb)
        return {"l": normalize_l(lab[:, :1]), "ab": lab[:, 1:] / AB_SCALE, "rgb": rgb}

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"ab": nets["G"](batch["l"])}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        return conditional_d_loss(
            nets["D"], batch["l"], batch["ab"], out["ab"], self.cfg.loss, step
        )

    def adv_weight(self, step: int) -> float:
        """``loss.adv_weight`` ramped linearly to ``adv_late`` times itself at the last step."""
        tc = self.cfg.train
        t = (step - tc.gan_start) / max(1, tc.steps - 1 - tc.gan_start)
        t = min(1.0, max(0.0, t))
        return self.cfg.loss.adv_weight * (1.0 + (self.opts.adv_late - 1.0) * t)

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        weight = None
        if self.opts.chroma_weight > 0:
            weight = 1.0 + self.opts.chroma_weight * batch["ab"].norm(dim=1, keepdim=True)
        cfg = replace(self.cfg.loss, adv_weight=self.adv_weight(step))
        return conditional_g_loss(
            nets.get("D"), batch["l"], batch["ab"], out["ab"], cfg, gan_on, weight
        )

    def _val_images(self) -> list[Tensor]:
        from restore.data.datasets import list_images
        from restore.data.io import read_image, to_tensor

        imgs = []
        for p in list_images(self.cfg.data.val)[: self.opts.val_images]:
            img = read_image(p)
            if not img.grayscale:
                imgs.append(to_tensor(img))
        return imgs

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        """RGB PSNR and colourfulness ratio on ``data.val`` grey-ified, beside the grey baseline."""
        from restore.eval.baselines import grayscale_baseline
        from restore.eval.metrics import colorfulness, psnr

        if not self.cfg.data.val:
            return {}
        G = generators["G"]
        dev = next(G.parameters()).device
        ps, ps0, ratio = [], [], []
        for x in self._val_images():
            x = x.to(dev)
            grey = grayscale_baseline(x)
            y = colorize(G, grey, work_size=self.opts.work_size)
            ps.append(float(psnr(y, x)[0]))
            ps0.append(float(psnr(grey, x)[0]))
            ratio.append(float(colorfulness(y)[0] / colorfulness(x)[0].clamp_min(1e-6)))
        if not ps:
            return {}
        return {
            "psnr": sum(ps) / len(ps),
            "psnr_gray": sum(ps0) / len(ps0),
            "colorfulness_ratio": sum(ratio) / len(ratio),
        }

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        n = min(4, batch["l"].shape[0])
        lum = (batch["l"][:n] + 1.0) * L_SCALE
        grey = lab_to_rgb_in_gamut(lum, torch.zeros_like(batch["ab"][:n]))
        fake = lab_to_rgb_in_gamut(lum, out["ab"][:n].detach().float() * AB_SCALE)
        return sample_grid(grey, fake, batch["rgb"])

    def inference_config(self) -> dict[str, Any]:
        return {"output_rgb": True, "work_size": self.opts.work_size, "chroma_gain": 1.0}

    @classmethod
    def evaluate(cls, run, data_dir: str, card: Mapping[str, Any]) -> dict[str, Any]:
        """Grey-ified colour images of ``data_dir``: RGB PSNR / SSIM and colourfulness vs grey.

        Images whose ground truth is itself grey but stored as RGB (colourfulness < 1, e.g.
        Set14 ``010.png``) are skipped like one-channel files: the grey baseline scores them
        ~160 dB and any colour is "wrong". Bars of the shipped model: PSNR >= grey + 0.5 dB and
        colourfulness ratio in [0.6, 1.3].
        """
        from restore.eval.metrics import summarize
        from restore.eval.protocols import colorize_protocol

        result = colorize_protocol(run, data_dir)
        rows = result["rows"]
        grey_gt = sorted({r["name"] for r in rows if (r.get("colorfulness_gt") or 0.0) < 1.0})
        if grey_gt:
            rows = [r for r in rows if r["name"] not in grey_gt]
            result["rows"] = rows
            result["skipped"] = [*result.get("skipped", []), *grey_gt]
            result["count"] = len({r["name"] for r in rows})
            per_method = {m: [] for m in result["methods"]}
            for r in rows:
                per_method[r["method"]].append({k: v for k, v in r.items() if k != "method"})
            result["mean"] = {m: summarize(rs)["mean"] for m, rs in per_method.items()}
        mean = result.get("mean", {})
        model, grey = mean.get("model", {}), mean.get("grayscale", {})
        if model.get("psnr") is not None and grey.get("psnr") is not None:
            gain = model["psnr"] - grey["psnr"]
            ratio = model.get("colorfulness_ratio")
            result["bars"] = {
                "psnr_gain_db": gain,
                "psnr_gain_ok": gain >= 0.5,
                "colorfulness_ratio": ratio,
                "colorfulness_ratio_ok": ratio is not None and 0.6 <= ratio <= 1.3,
            }
        return result

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        inf = card.get("inference", {})
        work_size = int(inf.get("work_size", 256))
        gain = float(inf.get("chroma_gain", 1.0))
        if not math.isfinite(gain) or gain < 0:
            raise ConfigError(f"model card inference.chroma_gain must be >= 0, got {gain}")

        def fn(x: Tensor, saturation: float = 1.0) -> Tensor:
            return colorize(G, x, work_size=work_size, saturation=saturation, chroma_gain=gain)

        return Predictor(fn=fn, scale=1, multiple=1, tileable=False, halo=0)


__all__ = [
    "AB_SCALE",
    "L_SCALE",
    "ColorizationOptions",
    "ColorizationTask",
    "colorize",
    "lab_to_rgb_in_gamut",
    "lightness",
    "normalize_l",
    "predict_ab",
    "rgb_to_lab",
    "work_shape",
]
