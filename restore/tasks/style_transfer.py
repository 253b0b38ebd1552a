"""Style transfer: paired pix2pix and unpaired CycleGAN, trained from two folders.

Both tasks read domain A from ``data.train`` and domain B from ``data.train_b``:

- ``pix2pix`` (Isola et al. 2017): pairs matched by file name (:class:`PairedFolders`), one U-Net
  ``G`` (A -> B), a conditional PatchGAN ``D`` judging ``(a, b)`` pairs, plus an L1 pixel loss.
- ``cyclegan`` (Zhu et al. 2017): unpaired samples (:class:`UnpairedFolders`), two generators
  ``G`` (A -> B) and ``G_b`` (B -> A), two unconditional discriminators ``D`` (on B) and ``D_b``
  (on A), cycle-consistency and identity losses, and a pool of past fakes per discriminator.

The image pool (``task_args.pool_size``, 50 as in the paper) is the one piece of training state
that lives on the task object. It stays deterministic: every random draw it makes comes from
numbers drawn in :meth:`CycleGANTask.make_batch` from the loop's step generator, a fixed amount
per step whatever the pool holds, so the data and RNG streams do not depend on it. It is not
checkpointed: a resumed run restarts with an empty pool (it refills within ``pool_size`` images,
and until then D sees the current fakes, exactly as at the start of training), so a resumed
CycleGAN run is reproducible but not bit-identical to an uninterrupted one.

Inference: the predictor runs ``G`` (A -> B); ``direction="b2a"`` runs ``G_b`` (CycleGAN exports
both generators), e.g. ``restore.load(path).run_tensor(x, direction="b2a")``.

Evaluation (:meth:`CycleGANTask.evaluate`, the protocol in :mod:`restore.eval.style`): KID between
the model's outputs on held-out content photos and the style images, beside KID between the photos
themselves and the style images and a colour-statistics baseline's, in an offline feature space
(colour statistics and Gram matrices of a fixed, seeded random conv net; no downloaded weights).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core.layers import to_signed, to_unit
from restore.core.registry import build_network
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    Task,
    conditional_g_loss,
    image_d_loss,
    image_g_loss,
    pixel_loss,
    sample_grid,
)

Direction = Literal["a2b", "b2a"]


def _need_folders(cfg) -> None:
    d = cfg.data
    if not d.train or not d.train_b:
        raise ConfigError(
            "style transfer needs two folders: data.train (domain A) and data.train_b (domain B)"
        )


def _to_float_pair(raw: Any, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """uint8 ``(a, b)`` batches -> float [0, 1], each flipped left-right with probability 1/2."""
    a, b = raw
    a, b = a.float() / 255.0, b.float() / 255.0
    flips = torch.rand(2, a.shape[0], device=a.device, generator=generator) < 0.5
    return (
        torch.where(flips[0][:, None, None, None], a.flip(-1), a),
        torch.where(flips[1][:, None, None, None], b.flip(-1), b),
    )


def translate(G: nn.Module, x: Tensor, residual: bool = False) -> Tensor:
    """Apply a style generator to images in [0, 1]; returns images in [0, 1] (unclamped).

    With ``residual`` G predicts a change added to its input (in [-1, 1] units), which keeps the
    input's full-resolution detail that the U-Net's half-resolution outermost level blurs.

    Shape:
        (B, 3, H, W) -> (B, 3, H, W), H and W multiples of ``G.size_multiple``.
    """
    s = to_signed(x)
    y = G(s)
    return to_unit(s + y if residual else y)


def _predictor(modules: Mapping[str, nn.Module], card: Mapping[str, Any]) -> Predictor:
    default = card.get("inference", {}).get("direction", "a2b")
    residual = bool(card.get("inference", {}).get("residual", False))
    keys = {"a2b": "G", "b2a": "G_b"}
    norm = card.get("generator_args", {}).get("norm", "batch")
    G = modules["G"]
    multiple = int(getattr(G, "size_multiple", 1))

    def fn(x: Tensor, direction: Direction | None = None) -> Tensor:
        d = direction or default
        if d not in keys:
            raise ValueError(f"direction must be 'a2b' or 'b2a', got {d!r}")
        if keys[d] not in modules:
            raise ValueError(
                f"direction {d!r} needs module {keys[d]!r}; this model has {list(modules)}"
            )
        return translate(modules[keys[d]], x, residual).clamp(0, 1)

    # instance norm makes every output pixel depend on the whole input: no tiling then
    return Predictor(
        fn=fn, scale=1, multiple=multiple, tileable=norm != "instance", halo=max(32, multiple)
    )


def _shrink_uint8(a: Any, short_side: int) -> Any:
    """(H, W, 3) uint8 array shrunk (area filter) so that its shorter side is ``short_side``."""
    import cv2

    h, w = a.shape[:2]
    s = short_side / min(h, w)
    if s >= 1:
        return a
    return cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


def _samples(rows: list[Tensor]) -> Tensor:
    return sample_grid(*(r[:4].clamp(0, 1) for r in rows))


# ---------------------------------------------------------------------------------------------
# pix2pix (paired)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pix2PixOptions:
    """``task_args`` of pix2pix (the losses are in ``loss``: ``pixel_weight`` is pix2pix's lambda)."""


class Pix2PixTask(Task):
    """Paired A -> B translation: U-Net ``G``, conditional PatchGAN ``D`` (6 input channels), L1."""

    name: ClassVar[str] = "pix2pix"
    echo_views: ClassVar[Literal[1, 2, 8]] = 2  # its pictures have an up and a down
    Options: ClassVar[type] = Pix2PixOptions

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        _need_folders(cfg)

    def train_dataset(self) -> Dataset:
        from restore.data.datasets import PairedFolders

        d = self.cfg.data
        return PairedFolders(
            d.train, d.train_b, patch_size=d.patch_size, cache=d.cache, seed=self.cfg.train.seed
        )

    def make_batch(self, raw: Any, generator: torch.Generator) -> Batch:
        a, b = raw
        a, b = a.float() / 255.0, b.float() / 255.0
        flip = torch.rand(a.shape[0], device=a.device, generator=generator) < 0.5
        f = flip[:, None, None, None]  # the same flip for both halves of a pair
        return {"a": torch.where(f, a.flip(-1), a), "b": torch.where(f, b.flip(-1), b)}

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"fake_b": translate(nets["G"], batch["a"])}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        a, b = batch["a"], batch["b"]
        return image_d_loss(nets["D"], a, b, out["fake_b"], self.cfg.loss, step)

    def g_loss(self, nets, batch: Batch, out: Batch, step: int, gan_on: bool):
        a, b = batch["a"], batch["b"]
        return image_g_loss(nets.get("D"), a, b, out["fake_b"], self.cfg.loss, gan_on)

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        """Rows of a | G(a) | b."""
        return _samples([batch["a"], out["fake_b"], batch["b"]])

    def inference_config(self) -> dict[str, Any]:
        return {"direction": "a2b"}

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        return _predictor(modules, card)


# ---------------------------------------------------------------------------------------------
# CycleGAN (unpaired)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleGANOptions:
    """``task_args`` of CycleGAN.

    The generator loss is ``adv(D(G(a))) + adv(D_b(G_b(b))) + lambda_cycle * (cycle_a + cycle_b)
    + lambda_cycle * lambda_identity * (idt_a + idt_b)`` (the paper's weighting), each term an
    ``loss.pixel`` distance (L1 or Charbonnier) on [-1, 1] images; ``loss.adv_weight`` scales the
    adversarial terms and ``loss.pixel_weight`` is not used. ``g_cycle`` and ``g_idt`` in
    ``log.csv`` are the means of the two directions.
    """

    lambda_cycle: float = 10.0  # weight of |G_b(G(a)) - a| + |G(G_b(b)) - b|
    lambda_identity: float = 0.5  # identity weight, relative to lambda_cycle (0 turns it off)
    pool_size: int = 50  # past fakes kept per discriminator (0: D sees only the current fakes)
    direction: Direction = "a2b"  # default direction of the exported predictor
    residual: bool = False  # generators predict a change added to their input
    short_side: int = 0  # >0: shrink both domains' images once, at load, to this shorter side

    def __post_init__(self) -> None:
        if self.lambda_cycle < 0 or self.lambda_identity < 0 or self.pool_size < 0:
            raise ConfigError("task_args.lambda_cycle, lambda_identity and pool_size must be >= 0")
        if self.direction not in ("a2b", "b2a"):
            raise ConfigError(f"task_args.direction must be a2b or b2a, got {self.direction!r}")


class ImagePool:
    """Shrivastava et al.'s history of generated images, as CycleGAN uses it, seeded from outside.

    ``query(images, u, idx)``: while the pool has room each image is stored and returned; once it
    is full, image ``i`` with ``u[i] < 0.5`` swaps with pool entry ``idx[i]`` (D sees the old one)
    and otherwise is returned as is. ``u`` (uniform [0, 1)) and ``idx`` (integers in
    ``[0, size)``) come from the caller's ``torch.Generator``, so the pool is deterministic.

    Args:
        size: capacity; 0 returns the images unchanged.

    Shape:
        images (B, C, H, W); u (B,); idx (B,) -> (B, C, H, W).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[Tensor] = []

    def query(self, images: Tensor, u: Tensor, idx: Tensor) -> Tensor:
        if self.size == 0:
            return images
        out = []
        u_l, idx_l = u.tolist(), idx.tolist()
        for i, img in enumerate(images.detach()):
            if len(self.images) < self.size:
                self.images.append(img.clone())
                out.append(img)
            elif u_l[i] < 0.5:
                j = int(idx_l[i]) % self.size
                out.append(self.images[j])
                self.images[j] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)


class CycleGANTask(Task):
    """Unpaired A <-> B translation with two generators, two discriminators and cycle losses."""

    name: ClassVar[str] = "cyclegan"
    echo_views: ClassVar[Literal[1, 2, 8]] = 2  # its pictures have an up and a down
    Options: ClassVar[type] = CycleGANOptions
    generator_keys: ClassVar[tuple[str, ...]] = ("G", "G_b")
    discriminator_keys: ClassVar[tuple[str, ...]] = ("D", "D_b")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        _need_folders(cfg)
        # Training state beyond the networks (see the module docstring: not checkpointed).
        self.pools = {"D": ImagePool(self.opts.pool_size), "D_b": ImagePool(self.opts.pool_size)}

    def build_networks(self) -> dict[str, nn.Module]:
        """``G``, ``G_b`` from ``model.generator``; ``D``, ``D_b`` from ``model.discriminator``."""
        m = self.cfg.model
        nets = {
            k: build_network(m.generator, m.generator_args, key="model.generator_args")
            for k in self.generator_keys
        }
        if self.cfg.loss.adv_weight > 0:
            for k in self.discriminator_keys:
                nets[k] = build_network(
                    m.discriminator, m.discriminator_args, key="model.discriminator_args"
                )
        return nets

    def train_dataset(self) -> Dataset:
        from restore.data.datasets import UnpairedFolders

        d = self.cfg.data
        ds = UnpairedFolders(
            d.train, d.train_b, patch_size=d.patch_size, cache=d.cache, seed=self.cfg.train.seed
        )
        if self.opts.short_side > 0:
            if not d.cache:
                raise ConfigError("task_args.short_side needs data.cache: true")
            # shrink each decoded image once in the dataset's uint8 cache, so that photos and
            # paintings of very different pixel sizes are seen at a similar scale
            for store in (ds.a, ds.b):
                for i in range(len(store)):
                    store.cache[i] = _shrink_uint8(store.get(i), self.opts.short_side)
        return ds

    def make_batch(self, raw: Any, generator: torch.Generator) -> Batch:
        a, b = _to_float_pair(raw, generator)
        n, dev = a.shape[0], a.device
        size = max(1, self.opts.pool_size)
        # the image pools' random numbers, drawn every step so the generator stream is fixed
        return {
            "a": a,
            "b": b,
            "pool_u": torch.rand(2, n, device=dev, generator=generator),
            "pool_idx": torch.randint(size, (2, n), device=dev, generator=generator),
        }

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        G, G_b = nets["G"], nets["G_b"]
        a, b = batch["a"], batch["b"]
        r = self.opts.residual
        fake_b = translate(G, a, r)
        fake_a = translate(G_b, b, r)
        out = {
            "fake_b": fake_b,
            "rec_a": translate(G_b, fake_b, r),
            "fake_a": fake_a,
            "rec_b": translate(G, fake_a, r),
        }
        if self.opts.lambda_identity > 0:
            out["idt_b"] = translate(G, b, r)  # G should leave B images alone
            out["idt_a"] = translate(G_b, a, r)
        return out

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        u, idx = batch["pool_u"], batch["pool_idx"]
        fake_b = self.pools["D"].query(out["fake_b"], u[0], idx[0])
        fake_a = self.pools["D_b"].query(out["fake_a"], u[1], idx[1])
        cfg = self.cfg.loss
        loss_b, logs_b = image_d_loss(nets["D"], None, batch["b"], fake_b, cfg, step)
        loss_a, logs_a = image_d_loss(nets["D_b"], None, batch["a"], fake_a, cfg, step)
        logs = dict(logs_b)
        logs.update({f"{k}_b": v for k, v in logs_a.items()})
        return loss_b + loss_a, logs

    def g_loss(self, nets, batch: Batch, out: Batch, step: int, gan_on: bool):
        cfg, o = self.cfg.loss, self.opts
        a, b = to_signed(batch["a"]), to_signed(batch["b"])
        s = {k: to_signed(v) for k, v in out.items()}
        # adversarial halves only (the pixel term of conditional_g_loss is switched off)
        adv_cfg = replace(cfg, pixel="none")
        adv_b, logs_b = conditional_g_loss(nets.get("D"), None, b, s["fake_b"], adv_cfg, gan_on)
        adv_a, logs_a = conditional_g_loss(nets.get("D_b"), None, a, s["fake_a"], adv_cfg, gan_on)
        kind = cfg.pixel if cfg.pixel != "none" else "l1"
        cycle = 0.5 * (pixel_loss(s["rec_a"], a, kind) + pixel_loss(s["rec_b"], b, kind))
        loss = adv_a + adv_b + 2 * o.lambda_cycle * cycle
        logs: Logs = {"g_cycle": cycle.detach()}
        if gan_on:
            logs["g_adv"] = 0.5 * (logs_b["g_adv"] + logs_a["g_adv"])
        if o.lambda_identity > 0:
            idt = 0.5 * (pixel_loss(s["idt_b"], b, kind) + pixel_loss(s["idt_a"], a, kind))
            loss = loss + 2 * o.lambda_cycle * o.lambda_identity * idt
            logs["g_idt"] = idt.detach()
        logs["g_loss"] = loss.detach()
        return loss, logs

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        """Rows of a | G(a) | G_b(G(a)) | b | G_b(b) | G(G_b(b))."""
        return _samples(
            [batch["a"], out["fake_b"], out["rec_a"], batch["b"], out["fake_a"], out["rec_b"]]
        )

    def inference_config(self) -> dict[str, Any]:
        return {"direction": self.opts.direction, "residual": self.opts.residual}

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        return _predictor(modules, card)

    @classmethod
    def evaluate(
        cls, run: Callable[..., Tensor], data_dir: str, card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """KID to the style domain of the model's outputs, beside the input photos' and a
        colour-statistics baseline's (:func:`restore.eval.style.style_protocol`).

        Args:
            run: the model on (B, 3, H, W) images in [0, 1].
            data_dir: a folder with ``content/`` (held-out photos) and ``style/`` (the B domain),
                like ``../shared/data/style``.
            card: the model card (unused beyond the protocol's defaults).

        Returns:
            ``mean``: method -> ``kid`` (lower is closer to the style), plus the flat
            ``kid_photos_style``, ``kid_outputs_style``, ``kid_colour_baseline_style`` (and their
            std over KID subsets) and the protocol's settings.
        """
        from restore.eval.style import style_protocol

        return style_protocol(run, data_dir)


__all__ = [
    "CycleGANOptions",
    "CycleGANTask",
    "ImagePool",
    "Pix2PixOptions",
    "Pix2PixTask",
    "translate",
]
