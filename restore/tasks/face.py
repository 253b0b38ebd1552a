"""Face: restore aligned face crops of old photos (blur, low resolution, grain, JPEG, damage).

Training pairs are made on the device from clean aligned faces (``data.train``, e.g.
``../shared/data/faces/utkface_200``): each face is resized to ``size`` (the canonical crop of
:mod:`restore.faces.align`), jittered a little (the detector's alignment is not exact), aged as a
real print (:func:`restore.data.old_print.old_print_damage`: B&W / sepia / colour print,
flaked emulsion, cracks, scratches, dust, blur; no fading: ``enhance`` runs first in
``restore photo``), shrunk by a random factor in [``min_scale``, ``max_scale``] (small faces in a
photo), given film grain, thin scratches and a JPEG scan at that size, and resized back. The target is the clean print *in its own tone*, so grey stays grey and sepia
stays sepia. G predicts a residual on its input (as the enhance task), a conditional PatchGAN
judges (damaged, restored) pairs.

The last ``holdout`` files of the folder (sorted by name) are never trained on: they are the
evaluation set of ``scripts/eval_faces.py``; the ``val_images`` files before them are the
validation set (also never trained on). See :func:`face_split`.

Inference (:meth:`FaceTask.predictor`): on aligned crops (``aligned=True``) the model alone; on
whole photos, :func:`restore.faces.restore_faces` finds the faces, aligns them, runs the model and
pastes them back with a feathered mask and colour matching.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.data.degrade import add_gaussian_noise, jpeg
from restore.data.old_print import OldPrintConfig, old_print_damage
from restore.data.old_print_marks import scratches
from restore.errors import ConfigError
from restore.faces.paste import is_grey, keep_grey
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    Task,
    image_d_loss,
    image_g_loss,
    random_hflip,
)
from restore.tasks.enhance import run_generator


@dataclass(frozen=True)
class FaceOptions:
    """``task_args`` of the face task."""

    size: int = 128  # side of the aligned crop the model works on
    holdout: int = 400  # last files (sorted) kept for evaluation, never trained on
    val_images: int = 32  # files before the holdout: validation, never trained on
    val_seed: int = 1234
    min_scale: float = 1.0  # faces shrunk by a factor in [min_scale, max_scale] before the scan
    max_scale: float = 4.5
    jitter: float = 0.04  # alignment error: shift (fraction of the side), scale and rotation
    grain_prob: float = 0.7
    grain_sigma: tuple[float, float] = (0.01, 0.06)
    jpeg_prob: float = 0.6
    jpeg_range: tuple[float, float] = (30.0, 90.0)
    lr_scratch_prob: float = 0.3  # thin scratches drawn at the face's small size
    residual: bool = True

    def __post_init__(self) -> None:
        if self.size < 32 or self.size % 16:
            raise ConfigError(f"task_args.size must be a multiple of 16, >= 32, got {self.size}")
        if self.holdout < 0 or self.val_images < 0:
            raise ConfigError("task_args.holdout and task_args.val_images must be >= 0")
        if not 1.0 <= self.min_scale <= self.max_scale:
            raise ConfigError(
                f"task_args needs 1 <= min_scale <= max_scale, got {self.min_scale}, {self.max_scale}"
            )
        for k in ("jitter", "grain_prob", "jpeg_prob", "lr_scratch_prob"):
            if not 0.0 <= getattr(self, k) <= 1.0:
                raise ConfigError(f"task_args.{k} must be in [0, 1], got {getattr(self, k)}")
        if not 1.0 <= self.jpeg_range[0] <= self.jpeg_range[1] <= 100.0:
            raise ConfigError(
                f"task_args.jpeg_range must be within [1, 100], got {self.jpeg_range}"
            )


def face_split(folder: str | Path, holdout: int = 400, val: int = 32) -> dict[str, list[Path]]:
    """The fixed split of a face folder: ``train``, ``val`` and ``test`` paths (sorted by name).

    ``test`` is the last ``holdout`` files, ``val`` the ``val`` files before them, ``train`` the
    rest. Neither ``val`` nor ``test`` is ever trained on.

    Raises:
        ConfigError: the folder has no more than ``holdout + val`` images.
    """
    from restore.data.datasets import list_images

    paths = sorted(list_images(folder), key=lambda p: p.name)
    n_train = len(paths) - holdout - val
    if n_train <= 0:
        raise ConfigError(
            f"{folder}: {len(paths)} images, need more than holdout {holdout} + val {val}"
        )
    return {
        "train": paths[:n_train],
        "val": paths[n_train : n_train + val],
        "test": paths[n_train + val :],
    }


def read_face(path: str | Path, size: int) -> np.ndarray:
    """A face image resized (area) to ``size`` x ``size``, RGB uint8 (H, W, 3)."""
    import cv2

    from restore.data.io import read_image

    a = read_image(path).pixels  # (H, W, 3): grey replicated, alpha dropped
    if a.dtype == np.uint16:
        a = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if a.shape[:2] != (size, size):
        a = cv2.resize(a, (size, size), interpolation=cv2.INTER_AREA)
    return a


class FaceCrops(Dataset):
    """Whole aligned faces, resized to ``size`` and kept in memory as uint8.

    Shape:
        item: (3, size, size) uint8.
    """

    def __init__(self, paths: list[Path], size: int) -> None:
        self.paths, self.size = list(paths), size
        self.cache: dict[int, Tensor] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Tensor:
        if index not in self.cache:
            self.cache[index] = torch.from_numpy(read_face(self.paths[index], self.size)).permute(
                2, 0, 1
            )
        return self.cache[index]


def jitter_faces(x: Tensor, amount: float, g: torch.Generator) -> Tensor:
    """Small random similarity transforms (shift, scale, rotation), reflecting at the border.

    Shape:
        (B, C, H, W) -> (B, C, H, W).
    """
    if amount <= 0:
        return x
    n = x.shape[0]
    u = (torch.rand(n, 4, generator=g, device=g.device) * 2 - 1).to(x)
    scale = 1 + amount * u[:, 0]
    angle = amount * 2.5 * u[:, 1]  # radians: 0.04 -> about 6 degrees
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, 2 * amount * u[:, 2]], 1),
            torch.stack([sin, cos, 2 * amount * u[:, 3]], 1),
        ],
        1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


#: The print damage of face crops: old_print_damage's defaults with its own low resolution,
#: grain and JPEG off (degrade_faces does those at the face's size), the effects that cover most
#: of a small crop (crack networks, stains, silvering, torn corners) rarer, more and stronger blur
#: (a small face in a print is rarely sharp), and no global tone damage (fading, yellowing,
#: uneven exposure, vignetting): in ``restore photo`` the faces stage runs after ``enhance``,
#: which corrects the tone of the whole photo; a face model that also "unfades" would change the
#: face's tone against the rest of the photo, and cost PSNR on faces whose tone is right.
FACE_PRINT = replace(
    OldPrintConfig(),
    lowres_prob=0.0,
    grain_prob=0.0,
    jpeg_prob=0.0,
    fade_prob=0.0,
    yellowing_prob=0.0,
    exposure_prob=0.0,
    vignette_prob=0.0,
    blur_prob=0.8,
    blur_sigma=(0.3, 2.0),
    crack_prob=0.15,
    stain_prob=0.2,
    silvering_prob=0.05,
    mould_prob=0.05,
    tear_prob=0.1,
    dust_prob=0.3,
)

#: How the face is shrunk (one per batch): a scan's resampling is not always bicubic.
SHRINK_MODES = ("bicubic", "bilinear", "area")


def degrade_faces(clean: Tensor, g: torch.Generator, opts: FaceOptions) -> tuple[Tensor, Tensor]:
    """Old-photo damage for aligned faces: ``(damaged input, toned clean target)``.

    The print's damage and tone come from :func:`old_print_damage` (:data:`FACE_PRINT`: its own
    low resolution, grain, JPEG and tone damage off, the heaviest effects rarer); then the batch
    is shrunk by one factor in [``opts.min_scale``, ``opts.max_scale``] with one of
    :data:`SHRINK_MODES`, each face given grain, thin scratches at that size
    (``opts.lr_scratch_prob``: a scratch on a small print is thin in the print's pixels) and a
    JPEG scan, and resized back (bicubic).

    Shape:
        (B, 3, S, S) in [0, 1] -> ((B, 3, S, S), (B, 3, S, S)) in [0, 1].
    """
    damaged, _, target = old_print_damage(clean, g, FACE_PRINT)
    n, _, h, w = clean.shape

    def draw(lo: float, hi: float, k: int = n) -> Tensor:
        return lo + (hi - lo) * torch.rand(k, generator=g, device=g.device).cpu()

    s = max(
        8, round(h / float(draw(opts.min_scale, opts.max_scale, 1)))
    )  # one size per batch: fast
    mode = SHRINK_MODES[int(draw(0, len(SHRINK_MODES), 1)) % len(SHRINK_MODES)]
    grain_on = torch.rand(n, generator=g, device=g.device).cpu() < opts.grain_prob
    jpeg_on = torch.rand(n, generator=g, device=g.device).cpu() < opts.jpeg_prob
    scratch_on = torch.rand(n, generator=g, device=g.device).cpu() < opts.lr_scratch_prob
    sigma, quality = draw(*opts.grain_sigma) * grain_on, draw(*opts.jpeg_range)
    if mode == "area":
        lr = F.interpolate(damaged, size=(s, s), mode="area")
    else:
        lr = F.interpolate(damaged, size=(s, s), mode=mode, antialias=True, align_corners=False)
    lr = add_gaussian_noise(lr.clamp(0, 1), sigma.to(lr), generator=g, gray=True)
    if bool(scratch_on.any()):
        marked, _ = scratches(lr, g, count=(1, 3), width=(0.5, 1.5), length=(0.3, 1.2))
        lr = torch.where(scratch_on.to(lr.device).view(-1, 1, 1, 1), marked, lr)
    if bool(jpeg_on.any()):
        lr = torch.where(jpeg_on.to(lr.device).view(-1, 1, 1, 1), jpeg(lr, quality.to(lr)), lr)
    out = F.interpolate(lr, size=(h, w), mode="bicubic", align_corners=False)
    return out.clamp(0, 1), target


class FaceTask(Task):
    name: ClassVar[str] = "face"
    echo_views: ClassVar[Literal[1, 2, 8]] = 2  # its pictures have an up and a down
    Options: ClassVar[type] = FaceOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("psnr", "max")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        if self.opts.residual and cfg.model.generator_args.get("output", "tanh") != "none":
            raise ConfigError("task_args.residual: true needs model.generator_args.output: none")
        self._val: tuple[Tensor, Tensor] | None = None

    def split(self) -> dict[str, list[Path]]:
        if not self.cfg.data.train:
            raise ConfigError("data.train must name a folder of aligned face crops")
        return face_split(self.cfg.data.train, self.opts.holdout, self.opts.val_images)

    def train_dataset(self) -> Dataset:
        return FaceCrops(self.split()["train"], self.opts.size)

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        clean = random_hflip(raw.float() / 255.0, generator)
        clean = jitter_faces(clean, self.opts.jitter, generator).clamp(0, 1)
        damaged, target = degrade_faces(clean, generator, self.opts)
        return {"input": damaged, "target": target}

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"fake": run_generator(nets["G"], batch["input"], self.opts.residual)}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        return image_d_loss(
            nets["D"], batch["input"], batch["target"], out["fake"], self.cfg.loss, step
        )

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        return image_g_loss(
            nets.get("D"), batch["input"], batch["target"], out["fake"], self.cfg.loss, gan_on
        )

    def _val_pairs(self, device: torch.device) -> tuple[Tensor, Tensor] | None:
        if self.opts.val_images == 0 or not self.cfg.data.train:
            return None
        if self._val is None:
            paths = self.split()["val"]
            clean = torch.stack([FaceCrops(paths, self.opts.size)[i] for i in range(len(paths))])
            g = torch.Generator().manual_seed(self.opts.val_seed)
            self._val = degrade_faces(clean.float() / 255.0, g, self.opts)
        damaged, clean = self._val
        return damaged.to(device), clean.to(device)

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        from restore.eval.metrics import psnr

        G = generators["G"]
        pairs = self._val_pairs(next(G.parameters()).device)
        if pairs is None:
            return {}
        damaged, clean = pairs
        out = torch.cat(
            [
                run_generator(G, damaged[i : i + 8], self.opts.residual).clamp(0, 1)
                for i in range(0, len(damaged), 8)
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
        return {"residual": self.opts.residual, "size": self.opts.size}

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        from restore.faces.paste import restore_faces

        G = modules["G"]
        inference = card.get("inference", {})
        residual = bool(inference.get("residual", True))
        size = int(inference.get("size", 128))

        def crops_fn(x: Tensor) -> Tensor:
            if x.shape[-2:] != (size, size):
                raise ValueError(f"aligned face crops must be {size}x{size}, got {tuple(x.shape)}")
            return keep_grey(x, run_generator(G, x, residual).clamp(0, 1))

        def fn(x: Tensor, aligned: bool = False) -> Tensor:
            if aligned:
                return crops_fn(x)
            return torch.cat(
                [restore_faces(x[i : i + 1], crops_fn, size=size)[0] for i in range(len(x))]
            )

        return Predictor(fn=fn, scale=1, multiple=1, tileable=False, halo=0)


__all__ = [
    "FaceCrops",
    "FaceOptions",
    "FaceTask",
    "degrade_faces",
    "face_split",
    "is_grey",
    "jitter_faces",
    "keep_grey",
    "read_face",
    "run_generator",
]
