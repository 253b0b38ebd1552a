"""What a task is: how clean images become training batches, which networks, which losses.

The training loop (:mod:`restore.train`) is the same for every task. A task is one subclass of
:class:`Task` (one level of inheritance, no deeper) that answers:

1. ``build_networks``  -> ``{"G": ..., "D": ...}`` (CycleGAN adds ``G_b``, ``D_b``)
2. ``train_dataset``   -> a Dataset of uint8 (C, H, W) patches (decoded once, cropped on the fly)
3. ``make_batch``      -> on the device: float inputs / targets, masks, degradations
4. ``forward``         -> the generator outputs, computed once per step
5. ``d_loss``/``g_loss`` -> the two halves of the GAN step, with logs
6. ``validate``        -> metrics on the validation set (the task's protocol)

The pieces that several tasks share are plain functions below (and one small class), not
base-class methods, so a task with another loss writes another function: batch making
(:func:`unit_patches`, :func:`pick_share`, :func:`replace_share`), validation
(:class:`SeededValSet`, :func:`per_image`, :func:`mean_psnrs`), sample grids (:func:`sample_grid`)
and the conditional-GAN halves (:func:`conditional_d_loss`, :func:`conditional_g_loss`, and
:func:`image_d_loss` / :func:`image_g_loss` for images in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.config import Config, LossConfig, from_dict
from restore.core import losses as L
from restore.core.layers import to_signed
from restore.core.registry import build_network
from restore.errors import ConfigError

Batch = dict[str, Tensor]
Logs = dict[str, Tensor]


@dataclass(frozen=True)
class NoOptions:
    """A task without options of its own."""


@dataclass(frozen=True)
class Predictor:
    """Inference for one trained model: a function on float images plus how it may be tiled.

    ``fn(x, **kwargs)`` maps (B, 3, H, W) in [0, 1] to (B, 3, H*scale, W*scale) in [0, 1] on x's
    device. The API pads inputs to ``multiple`` and, for large images, runs ``fn`` on tiles that
    overlap by ``halo`` input pixels (only when ``tileable``: each output pixel depends on a local
    window of the input).
    """

    fn: Callable[..., Tensor]
    scale: int = 1
    multiple: int = 1
    tileable: bool = True
    halo: int = 32


class Task:
    """Base of every task. Subclasses set ``name`` and ``Options`` and implement the hooks."""

    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    generator_keys: ClassVar[tuple[str, ...]] = ("G",)
    discriminator_keys: ClassVar[tuple[str, ...]] = ("D",)
    #: (metric name, "max" | "min") used to keep the best checkpoint, or None.
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = None
    #: Which mirror views of a batch an echoed step may see (``train.echo``, :func:`echo_view`):
    #: 1 the batch as it was, 2 also mirrored left-right, 8 any of the square's 8 symmetries.
    #: A task whose pictures have an up and a down (aligned faces, digits, sky over ground for
    #: colour) keeps 1 or 2.
    echo_views: ClassVar[Literal[1, 2, 8]] = 1

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.opts = from_dict(self.Options, cfg.task_args, "task_args.")

    # -- networks ---------------------------------------------------------------------------
    def build_networks(self) -> dict[str, nn.Module]:
        """G from ``model.generator``; D from ``model.discriminator`` when the adversarial loss is on."""
        m = self.cfg.model
        nets = {"G": build_network(m.generator, m.generator_args, key="model.generator_args")}
        if self.cfg.loss.adv_weight > 0:
            nets["D"] = build_network(
                m.discriminator, m.discriminator_args, key="model.discriminator_args"
            )
        return nets

    # -- data -------------------------------------------------------------------------------
    def train_dataset(self) -> Dataset:
        raise NotImplementedError

    def make_batch(self, raw: Any, generator: torch.Generator) -> Batch:
        raise NotImplementedError

    # -- the GAN step -----------------------------------------------------------------------
    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        raise NotImplementedError

    def d_loss(
        self, nets: Mapping[str, nn.Module], batch: Batch, out: Batch, step: int
    ) -> tuple[Tensor, Logs]:
        raise NotImplementedError

    def g_loss(
        self, nets: Mapping[str, nn.Module], batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        raise NotImplementedError

    # -- evaluation and pictures ------------------------------------------------------------
    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        """Metrics on ``data.val`` in the task's protocol; empty when there is no validation set."""
        return {}

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        """Images (N, 3, H, W) in [0, 1] to show in a sample grid: rows of input | output | target."""
        raise NotImplementedError

    def inference_config(self) -> dict[str, Any]:
        """What :func:`restore.load` needs besides the weights (stored next to them as JSON)."""
        return {}

    @classmethod
    def evaluate(
        cls, run: Callable[..., Tensor], data_dir: str, card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Score a trained model on ``data_dir`` in the task's published protocol, beside its baselines.

        Args:
            run: the model on float (B, 3, H, W) images in [0, 1] (tiled as needed), task keywords
                (``mask=``) passed through.
            data_dir: a validation folder (layout per task, e.g. ``val/Set5/x4`` with HR/ and LR/).
            card: the model card (what runs is described by ``card["runtime"]``).

        Returns:
            JSON-ready results (:func:`restore.eval.report.format_table` prints them).
        """
        raise NotImplementedError(f"task {cls.name!r} has no evaluation protocol yet")

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        """Inference for trained ``modules`` (eval mode, weights loaded).

        ``card`` is the model card's runtime section (``inference``, ``task_args``,
        ``generator_args``, ...; :mod:`restore.core.card`): what runs depends on nothing else.
        """
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Data pieces several tasks share
# ---------------------------------------------------------------------------------------------


def clean_image_folder(cfg: Config, *, min_size: int = 0) -> Dataset:
    """Random ``data.patch_size`` patches of the clean images under ``data.train`` (uint8 CHW).

    Raises:
        ConfigError: ``data.train`` is empty.
    """
    from restore.data.datasets import ImageFolder

    d = cfg.data
    if not d.train:
        raise ConfigError("data.train must name a folder of clean training images")
    return ImageFolder(
        d.train, patch_size=d.patch_size, cache=d.cache, seed=cfg.train.seed, min_size=min_size
    )


def centre_crops(folder: str, n: int, size: int) -> Tensor:
    """Centre crops (``size`` square) of the first ``n`` images of ``folder`` (sorted), smaller ones skipped.

    Shape:
        (N, 3, size, size), float in [0, 1], on the CPU.

    Raises:
        ConfigError: no image of the folder is at least ``size`` x ``size``.
    """
    from restore.data.datasets import list_images
    from restore.data.io import read_image, to_tensor

    crops = []
    for p in list_images(folder)[:n]:
        x = to_tensor(read_image(p))
        h, w = x.shape[-2:]
        if min(h, w) >= size:
            top, left = (h - size) // 2, (w - size) // 2
            crops.append(x[..., top : top + size, left : left + size])
    if not crops:
        raise ConfigError(f"data.val {folder}: no image of at least {size}x{size}")
    return torch.cat(crops)


def random_hflip(x: Tensor, generator: torch.Generator) -> Tensor:
    """Mirror each image of the batch left-right with probability 1/2 (one draw per image)."""
    flip = torch.rand(x.shape[0], device=x.device, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def echo_view(batch: Batch, generator: torch.Generator, views: int = 8) -> Batch:
    """Another look at a batch for data echoing (``train.echo``): each image of it, and every
    (B, C, H, W) tensor that goes with it (mask, target, a low-resolution input), through one of
    ``views`` mirror views drawn per image (1: unchanged; 2: left-right mirror or not; 8: any of
    the 8 symmetries of the square, transposes only when every such tensor is square). Other
    tensors pass unchanged. Draws one number per image from ``generator`` unless ``views`` is 1.

    Data echoing (Choi et al. 2019, "Faster Neural Network Training with Data Echoing") reuses
    a batch whose making costs more than the step that learns from it.

    Example:
        >>> b = {"input": torch.arange(4.0).view(1, 1, 2, 2), "z": torch.zeros(1, 8)}
        >>> v = echo_view(b, torch.Generator().manual_seed(0))
        >>> sorted(v["input"].flatten().tolist()), v["z"].shape
        ([0.0, 1.0, 2.0, 3.0], torch.Size([1, 8]))
    """
    if views not in (1, 2, 8):
        raise ValueError(f"views must be 1, 2 or 8, got {views!r}")
    spatial = [v for v in batch.values() if v.dim() == 4]
    if views == 1 or not spatial:
        return dict(batch)
    n = spatial[0].shape[0]
    k = torch.randint(0, views, (n,), generator=generator, device=generator.device)
    square = all(v.shape[-1] == v.shape[-2] for v in spatial)
    out: Batch = {}
    for key, v in batch.items():
        if v.dim() != 4 or v.shape[0] != n:
            out[key] = v
            continue
        kk = k.to(v.device).view(n, 1, 1, 1)
        v = torch.where(kk % 2 == 1, v.flip(-1), v)
        if views == 8:
            v = torch.where((kk // 2) % 2 == 1, v.flip(-2), v)
            if square:
                v = torch.where(kk >= 4, v.transpose(-1, -2), v)
        out[key] = v
    return out


def unit_patches(raw: Tensor, generator: torch.Generator, *, flip: bool = True) -> Tensor:
    """A batch of uint8 patches as floats in [0, 1], each mirrored left-right with probability 1/2.

    The first step of most ``make_batch``: with ``flip`` it draws one number per image from
    ``generator`` (:func:`random_hflip`), without it none.

    Shape:
        (B, C, H, W) uint8 -> (B, C, H, W) float32 in [0, 1].
    """
    x = raw.float() / 255.0
    return random_hflip(x, generator) if flip else x


def pick_share(n: int, share: float, generator: torch.Generator, device: torch.device) -> Tensor:
    """Which images of a batch of ``n`` get a treatment that a ``share`` of all images gets.

    Draws ``n`` uniform numbers from ``generator`` whatever ``share`` is, so the draws that follow
    do not depend on how many images were picked.

    Returns:
        (n,) bool on ``device``, true for a picked image.
    """
    u = torch.rand(n, generator=generator, device=generator.device)
    return (u < share).to(device)


def replace_share(
    share: float,
    generator: torch.Generator,
    make: Callable[[Tensor], Sequence[Tensor]],
    *tensors: Tensor,
) -> tuple[Tensor, ...]:
    """Replace the rows of a random ``share`` of a batch: ``make(idx)`` gives their new values.

    Picks images with :func:`pick_share` (one draw per image of ``tensors[0]``); when some are
    picked, ``make`` gets their indices (1-D, on the batch's device) and returns one tensor of new
    rows per tensor of ``tensors``, in order. ``make`` is not called when none is picked.

    Example:
        >>> # a share of (damaged, mask) pairs re-made by another damage of the same clean images
        >>> damaged, mask = replace_share(0.5, g, lambda i: other(clean[i], g), damaged, mask)
    """
    idx = pick_share(tensors[0].shape[0], share, generator, tensors[0].device).nonzero().view(-1)
    if idx.numel() == 0:
        return tensors
    new = make(idx)
    return tuple(t.index_copy(0, idx, v) for t, v in zip(tensors, new, strict=True))


# ---------------------------------------------------------------------------------------------
# Validation and sample pieces several tasks share
# ---------------------------------------------------------------------------------------------


class SeededValSet:
    """A task's validation tensors: centre crops of a folder made into pairs, seeded, once.

    ``make(crops, generator)`` turns the crops (:func:`centre_crops`: the first ``n`` images of
    ``folder``, ``size`` square, float in [0, 1]) into the task's tensors, e.g. ``(damaged,
    clean)``, drawing from a ``torch.Generator`` seeded with ``seed``. They are made once, on the
    CPU, at the first :meth:`on`, so every validation of a run sees the same set.

    Args:
        folder: ``data.val``; empty means no validation set (:meth:`on` returns ``None``).
        n, size, seed: ``task_args.val_images``, ``val_size``, ``val_seed`` usually.
        make: crops (N, 3, size, size) and the seeded generator -> a tuple of tensors.
    """

    def __init__(
        self,
        folder: str,
        n: int,
        size: int,
        seed: int,
        make: Callable[[Tensor, torch.Generator], tuple[Tensor, ...]],
    ) -> None:
        self.folder, self.n, self.size, self.seed, self.make = folder, n, size, seed, make
        self.tensors: tuple[Tensor, ...] | None = None

    def on(self, model: nn.Module) -> tuple[Tensor, ...] | None:
        """The set on ``model``'s device (made at the first call), or ``None`` without a folder."""
        if not self.folder:
            return None
        if self.tensors is None:
            crops = centre_crops(self.folder, self.n, self.size)
            self.tensors = tuple(self.make(crops, torch.Generator().manual_seed(self.seed)))
        device = next(model.parameters()).device
        return tuple(t.to(device) for t in self.tensors)


def per_image(fn: Callable[..., Tensor], *batches: Tensor) -> Tensor:
    """``fn`` on one image at a time (row ``i`` of each of ``batches``), outputs concatenated.

    Validation runs this way: memory stays that of one image, and the numbers do not depend on a
    batch size.

    Shape:
        batches (N, ...) each -> (N, ...) as ``fn`` returns for one image.
    """
    return torch.cat([fn(*(b[i : i + 1] for b in batches)) for i in range(len(batches[0]))])


def mean_psnrs(target: Tensor, **outputs: Tensor) -> dict[str, float]:
    """Mean per-image PSNR against ``target`` of each of ``outputs``, under the name it is given.

    Example:
        >>> mean_psnrs(clean, psnr=restored, psnr_input=damaged)  # {"psnr": ..., "psnr_input": ...}
    """
    from restore.eval.metrics import psnr

    return {k: float(psnr(v, target).mean()) for k, v in outputs.items()}


def sample_grid(*rows: Tensor) -> Tensor:
    """A sample grid's images: the first (up to) four of each row, interleaved image by image.

    Rows are e.g. input, output, target; each may already be cut to the first images (a row that
    is costly to make is made for those only).

    Shape:
        k tensors (B, 3, H, W) -> (k * min(4, B), 3, H, W).
    """
    n = min(4, rows[0].shape[0])
    return torch.stack([r[:n] for r in rows], 1).flatten(0, 1)


# ---------------------------------------------------------------------------------------------
# Shared conditional-GAN halves (pix2pix): D judges (condition, image) pairs.
# ---------------------------------------------------------------------------------------------


def pixel_loss(pred: Tensor, target: Tensor, kind: str, weight: Tensor | None = None) -> Tensor:
    """L1 or Charbonnier between ``pred`` and ``target``, optionally weighted per pixel."""
    if kind == "none":
        return pred.new_zeros(())
    if kind == "charbonnier":
        d = torch.sqrt((pred - target) ** 2 + 1e-6)
    else:
        d = (pred - target).abs()
    if weight is not None:
        return (d * weight).sum() / (weight.expand_as(d).sum().clamp_min(1.0))
    return d.mean()


def conditional_d_loss(
    D: nn.Module,
    cond: Tensor | None,
    real: Tensor,
    fake: Tensor,
    cfg: LossConfig,
    step: int,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Logs]:
    """The D half of a (conditional) GAN step.

    D sees ``cat(cond, image)`` when ``cond`` is given (pix2pix), else the image alone. Adds the
    WGAN-GP penalty for ``wgan`` and the lazy R1 penalty when ``cfg.r1_gamma`` > 0.
    """
    fake = fake.detach()
    real_in = real if cond is None else torch.cat([cond, real], 1)
    fake_in = fake if cond is None else torch.cat([cond, fake], 1)
    r1_now = cfg.r1_gamma > 0 and step % cfg.r1_every == 0
    if r1_now:
        real_in = real_in.detach().requires_grad_(True)
    real_logits = D(real_in)
    fake_logits = D(fake_in)
    loss = L.discriminator_loss(real_logits, fake_logits, cfg.adversarial)
    logs: Logs = {
        "d_loss": loss.detach(),
        "d_real_acc": (real_logits.detach() > 0).float().mean(),
        "d_fake_acc": (fake_logits.detach() < 0).float().mean(),
    }
    if cfg.adversarial == "wgan":
        gp = L.gradient_penalty(
            D, real_in.detach(), fake_in, generator=generator, weight=cfg.gp_weight
        )
        loss = loss + gp
        logs["gp"] = gp.detach()
    if r1_now:
        r1 = L.r1_penalty(real_logits, real_in, gamma=cfg.r1_gamma) * cfg.r1_every
        loss = loss + r1
        logs["r1"] = r1.detach()
    return loss, logs


def conditional_g_loss(
    D: nn.Module | None,
    cond: Tensor | None,
    real: Tensor,
    fake: Tensor,
    cfg: LossConfig,
    gan_on: bool,
    pixel_weight_map: Tensor | None = None,
) -> tuple[Tensor, Logs]:
    """The G half: ``pixel_weight * pixel(fake, real) + adv_weight * adversarial (+ feature matching)``."""
    pix = pixel_loss(fake, real, cfg.pixel, pixel_weight_map)
    loss = cfg.pixel_weight * pix
    logs: Logs = {"g_pixel": pix.detach()}
    if gan_on and D is not None:
        fake_in = fake if cond is None else torch.cat([cond, fake], 1)
        need_real = cfg.adversarial == "ragan" or cfg.feature_matching_weight > 0
        real_in = (real if cond is None else torch.cat([cond, real], 1)) if need_real else None
        if cfg.feature_matching_weight > 0:
            fake_logits, fake_feats = D(fake_in, return_features=True)
            with torch.no_grad():
                real_logits, real_feats = D(real_in, return_features=True)
            fm = L.feature_matching_loss(real_feats, fake_feats)
            loss = loss + cfg.feature_matching_weight * fm
            logs["g_fm"] = fm.detach()
        else:
            fake_logits = D(fake_in)
            real_logits = None
            if real_in is not None:
                with torch.no_grad():
                    real_logits = D(real_in)
        adv = L.generator_loss(fake_logits, cfg.adversarial, real_logits=real_logits)
        loss = loss + cfg.adv_weight * adv
        logs["g_adv"] = adv.detach()
    logs["g_loss"] = loss.detach()
    return loss, logs


def image_d_loss(
    D: nn.Module,
    cond: Tensor | None,
    real: Tensor,
    fake: Tensor,
    cfg: LossConfig,
    step: int,
) -> tuple[Tensor, Logs]:
    """:func:`conditional_d_loss` on images in [0, 1]: ``cond`` (when given), ``real`` and ``fake``
    are mapped to the networks' [-1, 1] first (:func:`restore.core.layers.to_signed`)."""
    c = None if cond is None else to_signed(cond)
    return conditional_d_loss(D, c, to_signed(real), to_signed(fake), cfg, step)


def image_g_loss(
    D: nn.Module | None,
    cond: Tensor | None,
    real: Tensor,
    fake: Tensor,
    cfg: LossConfig,
    gan_on: bool,
) -> tuple[Tensor, Logs]:
    """:func:`conditional_g_loss` on images in [0, 1], mapped to [-1, 1] (pixel loss too)."""
    c = None if cond is None else to_signed(cond)
    return conditional_g_loss(D, c, to_signed(real), to_signed(fake), cfg, gan_on)
