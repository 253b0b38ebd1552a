"""Generation: a DCGAN from noise (optionally class-conditional), with DiffAugment and
mode-collapse watching.

``make_batch`` turns real uint8 images into floats in [0, 1] and draws the latents ``z`` (and the
DiffAugment parameters) from the step's ``torch.Generator``; ``forward`` runs G once; D judges real
and fake images alone (``conditional_d_loss`` / ``conditional_g_loss`` with ``cond=None``, so the
adversarial mode, lazy R1 and the D accuracies come from ``loss:`` as for every task).

DiffAugment (Zhao et al. 2020) for small data sets: the same random distribution of colour,
translation and cutout is applied to real and to fake images every time D sees them, with
differentiable ops, so G is trained through the augmentation and cannot learn it.

``validate`` samples ``val_samples`` images from fixed latents and reports the coverage numbers:
with a digit classifier (MNIST), the share classified with confidence >= 0.9 and the entropy of the
predicted class histogram (uniform over 10 classes = ln 10 = 2.303 nats), and FID in the classifier's
penultimate features (otherwise in fixed random conv features) against real training images. A
collapse (entropy below ``collapse_entropy`` or more than ``collapse_drop`` below its best) is
logged as a warning.

Data: ``task_args.source: mnist`` reads IDX files from ``data.train``; ``folder`` reads an image
folder, centre-cropped to a square and resized to ``data.patch_size``.

Class-conditional models (``model.generator_args.num_classes`` = ``discriminator_args.num_classes``
> 0; MNIST with its labels file): each batch's fakes are drawn for the real batch's labels, so D
compares like with like and the class mix follows the data; validation and sampling draw labels
uniformly (:func:`draw_labels`).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core.layers import to_signed, to_unit
from restore.errors import ConfigError, RestoreError
from restore.eval.generation import class_coverage
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    Task,
    conditional_d_loss,
    conditional_g_loss,
    unit_patches,
)

log = logging.getLogger(__name__)

AUGMENTS = ("color", "translation", "cutout")
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
UNIFORM_10 = math.log(10.0)


@dataclass(frozen=True)
class GenerationOptions:
    """``task_args`` of the generation task."""

    source: Literal["folder", "mnist"] = "folder"
    channels: int = 3  # 1 for MNIST; a folder is converted to gray when 1
    flip: bool = False  # random horizontal flips of real images (not for digits)
    augment: str = ""  # DiffAugment policy, comma-separated subset of color,translation,cutout
    translation: float = 0.125  # max shift, fraction of the side
    cutout: float = 0.5  # side of the cut square, fraction of the side
    val_samples: int = 2000  # generated images per validation
    val_real: int = 2000  # real images for the validation FID
    val_seed: int = 1234
    classifier: str = ""  # digit classifier .safetensors (or "mnist-classifier"); "" = none
    collapse_entropy: float = 1.8  # warn below this class entropy (nats)
    collapse_drop: float = 0.3  # ... or when it falls this far below its best

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ConfigError(f"task_args.channels must be 1 or 3, got {self.channels}")
        bad = [a for a in self.policy if a not in AUGMENTS]
        if bad:
            raise ConfigError(f"task_args.augment: unknown {bad}; known: {', '.join(AUGMENTS)}")

    @property
    def policy(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.augment.split(",") if a.strip())


# ---------------------------------------------------------------------------------------------
# DiffAugment: parameters drawn from a generator in make_batch, applied (differentiably) in D's view
# ---------------------------------------------------------------------------------------------


def draw_augment(
    n: int, size: int, opts: GenerationOptions, generator: torch.Generator, device: torch.device
) -> dict[str, Tensor]:
    """Random DiffAugment parameters for ``n`` images of side ``size`` (empty without a policy)."""
    p: dict[str, Tensor] = {}
    if "color" in opts.policy:
        p["brightness"] = torch.rand(n, generator=generator, device=device) - 0.5
        p["saturation"] = torch.rand(n, generator=generator, device=device) * 2.0
        p["contrast"] = torch.rand(n, generator=generator, device=device) + 0.5
    if "translation" in opts.policy:
        r = int(size * opts.translation + 0.5)
        p["shift"] = torch.randint(-r, r + 1, (n, 2), generator=generator, device=device).float()
    if "cutout" in opts.policy:
        c = int(size * opts.cutout + 0.5)
        p["cut_size"] = torch.full((1,), float(c), device=device)
        p["cut_centre"] = torch.randint(
            0, size + (1 - c % 2), (n, 2), generator=generator, device=device
        ).float()
    return p


def diff_augment(x: Tensor, p: Mapping[str, Tensor]) -> Tensor:
    """Apply DiffAugment with parameters from :func:`draw_augment` (differentiable in ``x``).

    Shape:
        ``(B, C, H, W)`` in [-1, 1] -> same shape. Colour: brightness shift, saturation and
        contrast scaling; translation by whole pixels with zero (mid-gray) fill (kornia); cutout:
        one square set to zero per image.
    """
    if "brightness" in p:
        x = x + p["brightness"].view(-1, 1, 1, 1)
        if x.shape[1] == 3:
            mean = x.mean(1, keepdim=True)
            x = (x - mean) * p["saturation"].view(-1, 1, 1, 1) + mean
        mean = x.mean((1, 2, 3), keepdim=True)
        x = (x - mean) * p["contrast"].view(-1, 1, 1, 1) + mean
    if "shift" in p:
        from kornia.geometry.transform import translate

        x = translate(x, p["shift"], mode="nearest", padding_mode="zeros", align_corners=True)
    if "cut_centre" in p:
        h, w = x.shape[-2:]
        c = p["cut_size"][0]
        ys = torch.arange(h, device=x.device).view(1, h, 1).float()
        xs = torch.arange(w, device=x.device).view(1, 1, w).float()
        cy = p["cut_centre"][:, 0].view(-1, 1, 1)
        cx = p["cut_centre"][:, 1].view(-1, 1, 1)
        inside = (ys >= cy - c / 2) & (ys < cy + c / 2) & (xs >= cx - c / 2) & (xs < cx + c / 2)
        x = x * (~inside).unsqueeze(1).to(x.dtype)
    return x


# ---------------------------------------------------------------------------------------------
# Coverage and the collapse flag
# ---------------------------------------------------------------------------------------------


def collapse_warning(
    entropy: float, best: float | None, min_entropy: float = 1.8, max_drop: float = 0.3
) -> str | None:
    """A message when the class entropy says the generator is collapsing, else None.

    Args:
        entropy: current class entropy (nats).
        best: best entropy seen so far in this run (None at the first validation).
        min_entropy: entropy below which the samples cover too few classes.
        max_drop: allowed fall below ``best``.
    """
    if entropy < min_entropy:
        return f"mode collapse: class entropy {entropy:.3f} nats < {min_entropy} (uniform 2.303)"
    if best is not None and best - entropy > max_drop:
        return f"mode collapse: class entropy {entropy:.3f} nats fell {best - entropy:.3f} below its best {best:.3f}"
    return None


def load_classifier(path: str) -> nn.Module:
    """The digit classifier: ``"mnist-classifier"`` (shipped, an evaluation model whose card's
    SHA-256 is checked) or a ``.safetensors`` file (with its card beside it, or bare tensors as
    ``scripts/mnist_classifier.py`` once wrote them)."""
    from restore.core import card as cards
    from restore.core import checkpoint as ckpt
    from restore.core.dcgan import DigitClassifier

    p = WEIGHTS_DIR / f"{path}.safetensors" if path == "mnist-classifier" else Path(path)
    if not p.is_file():
        raise ConfigError(
            f"task_args.classifier: {p} not found (train it: python scripts/mnist_classifier.py)"
        )
    if p.with_suffix(".json").is_file():
        card = cards.read_card_file(p.with_suffix(".json"))
        cards.check_sha256(p, card, required=path == "mnist-classifier")
        (net,) = cards.build_modules(card, ckpt.load_tensors(p)[0]).values()
        return net
    net = DigitClassifier()
    ckpt.load_into(net, ckpt.load_tensors(p)[0], source=f"classifier {p}")
    return net.eval().requires_grad_(False)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


class SquareImages(Dataset):
    """An image folder as uint8 (C, size, size) images: centre square crop, area resize.

    Shape:
        item: (channels, size, size) uint8.
    """

    def __init__(self, root: str, size: int, channels: int = 3) -> None:
        from restore.data.datasets import ImageFolder

        self.folder = ImageFolder(root, patch_size=None, cache=False)
        self.size, self.channels = size, channels
        self._cache: dict[int, Tensor] = {}

    def __len__(self) -> int:
        return len(self.folder)

    def __getitem__(self, index: int) -> Tensor:
        if index not in self._cache:
            x = self.folder[index]
            h, w = x.shape[-2:]
            s = min(h, w)
            x = x[:, (h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
            if s != self.size:
                x = F.interpolate(x[None].float(), size=(self.size,) * 2, mode="area")[0]
                x = x.round().clamp(0, 255).to(torch.uint8)
            if self.channels == 1:
                x = x.float().mean(0, keepdim=True).round().to(torch.uint8)
            self._cache[index] = x.contiguous()
        return self._cache[index]


_LABEL_SEED_OFFSET = 0x9E3779B9


def run_generator(G: nn.Module, z: Tensor, y: Tensor | None = None) -> Tensor:
    """Images in [0, 1] (unclamped) from latents ``z`` (B, latent_dim) and, for a conditional G,
    labels ``y`` (B,)."""
    return to_unit(G(z) if y is None else G(z, y))


def draw_labels(n: int, num_classes: int, seed: int) -> Tensor:
    """``n`` labels drawn uniformly from ``range(num_classes)`` with their own generator (seeded
    ``seed`` plus a fixed offset, so they are not drawn from the bits of the same seed's latents)."""
    g = torch.Generator().manual_seed(int(seed) + _LABEL_SEED_OFFSET)
    return torch.randint(num_classes, (n,), generator=g)


class LabelledMnist(Dataset):
    """MNIST images with their labels: items ``((1, H, W) uint8, int64 label)``."""

    def __init__(self, root: str) -> None:
        from restore.data.mnist import MnistDataset

        self.images = MnistDataset(root)
        if self.images.labels is None:
            raise ConfigError(
                f"{root}: a class-conditional model needs the labels file "
                "(*-labels-idx1-ubyte[.gz]) beside the images"
            )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.images[index], self.images.labels[index]


# ---------------------------------------------------------------------------------------------
# The task
# ---------------------------------------------------------------------------------------------


class GenerationTask(Task):
    name: ClassVar[str] = "generation"
    Options: ClassVar[type] = GenerationOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("fid", "min")

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        g = cfg.model.generator_args
        self.latent_dim = int(g.get("latent_dim", 64))
        if int(g.get("out_channels", self.opts.channels)) != self.opts.channels:
            raise ConfigError("model.generator_args.out_channels must equal task_args.channels")
        self.size = cfg.data.patch_size
        self.num_classes = int(g.get("num_classes", 0))
        d_classes = int(cfg.model.discriminator_args.get("num_classes", 0))
        if d_classes != self.num_classes:
            raise ConfigError(
                f"model.generator_args.num_classes ({self.num_classes}) and "
                f"discriminator_args.num_classes ({d_classes}) must be equal"
            )
        if self.num_classes and self.opts.source != "mnist":
            raise ConfigError("a class-conditional model (num_classes > 0) needs source: mnist")
        self._val: dict[str, Any] = {}
        self._best_entropy: float | None = None

    # -- data ---------------------------------------------------------------------------------
    def train_dataset(self) -> Dataset:
        d = self.cfg.data
        if not d.train:
            raise ConfigError("data.train must name an image folder or a folder of MNIST IDX files")
        if self.opts.source == "mnist":
            from restore.data.mnist import MnistDataset

            if self.opts.channels != 1 or self.size != 28:
                raise ConfigError(
                    "source: mnist needs task_args.channels: 1 and data.patch_size: 28"
                )
            return LabelledMnist(d.train) if self.num_classes else MnistDataset(d.train)
        return SquareImages(d.train, self.size, self.opts.channels)

    def make_batch(self, raw: Any, generator: torch.Generator) -> Batch:
        labels = None
        if self.num_classes:
            raw, labels = raw
        real = unit_patches(raw, generator, flip=self.opts.flip)
        n, dev = real.shape[0], real.device
        batch = {
            "real": real,
            "z": torch.randn(n, self.latent_dim, generator=generator, device=dev),
        }
        if labels is not None:
            batch["y"] = labels.to(dev).long()
        for view in ("d_real", "d_fake", "g_fake"):
            for k, v in draw_augment(n, self.size, self.opts, generator, dev).items():
                batch[f"{view}.{k}"] = v
        return batch

    def _view(self, x: Tensor, batch: Batch, view: str) -> Tensor:
        prefix = f"{view}."
        p = {k[len(prefix) :]: v for k, v in batch.items() if k.startswith(prefix)}
        return diff_augment(to_signed(x), p)

    # -- the GAN step -------------------------------------------------------------------------
    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"fake": run_generator(nets["G"], batch["z"], batch.get("y"))}

    @staticmethod
    def _critic(D: nn.Module | None, batch: Batch) -> Any:
        """D, or with labels D bound to the batch's labels (real and fake share them)."""
        if D is None or "y" not in batch:
            return D
        return functools.partial(D, y=batch["y"])

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        real = self._view(batch["real"], batch, "d_real")
        fake = self._view(out["fake"], batch, "d_fake")
        D = self._critic(nets["D"], batch)
        return conditional_d_loss(D, None, real, fake, self.cfg.loss, step)

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        fake = self._view(out["fake"], batch, "g_fake")
        real = self._view(batch["real"], batch, "d_real")
        D = self._critic(nets.get("D"), batch)
        return conditional_g_loss(D, None, real, fake, self.cfg.loss, gan_on)

    # -- validation -----------------------------------------------------------------------------
    def _features(self) -> nn.Module:
        if "features" not in self._val:
            from restore.core.dcgan import FeatureView, RandomConvFeatures

            clf = load_classifier(self.opts.classifier) if self.opts.classifier else None
            self._val["classifier"] = clf
            self._val["features"] = (
                FeatureView(clf) if clf is not None else RandomConvFeatures(self.opts.channels)
            )
        return self._val["features"]

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        from restore.eval.fid import fid_from_features

        G = generators["G"]
        dev = next(G.parameters()).device
        feat = self._features().to(dev)
        if "real_feats" not in self._val and self.opts.val_real > 1:
            ds = self.train_dataset()
            ds = ds.images if isinstance(ds, LabelledMnist) else ds
            g = torch.Generator().manual_seed(self.opts.val_seed)
            idx = torch.randperm(len(ds), generator=g)[: self.opts.val_real].tolist()
            real = torch.stack([ds[i] for i in idx]).float() / 255.0
            self._val["real_feats"] = _chunked(feat, real.to(dev))
        g = torch.Generator().manual_seed(self.opts.val_seed)
        z = torch.randn(self.opts.val_samples, self.latent_dim, generator=g).to(dev)
        y = (
            draw_labels(len(z), self.num_classes, self.opts.val_seed).to(dev)
            if self.num_classes
            else None
        )
        if y is None:
            fake = _chunked(lambda t: run_generator(G, t).clamp(0, 1), z)
        else:
            fake = _chunked(lambda t, labels: run_generator(G, t, labels).clamp(0, 1), z, y)
        metrics: dict[str, float] = {}
        clf = self._val["classifier"]
        if clf is not None:
            probs = _chunked(lambda t: clf.to(dev)(t).softmax(1), fake)
            conf, entropy, _ = class_coverage(probs)
            metrics.update(confident=conf, class_entropy=entropy)
            msg = collapse_warning(
                entropy, self._best_entropy, self.opts.collapse_entropy, self.opts.collapse_drop
            )
            metrics["collapse"] = float(msg is not None)
            if msg:
                log.warning(msg)
            self._best_entropy = max(entropy, self._best_entropy or entropy)
        if "real_feats" in self._val:
            metrics["fid"] = float(fid_from_features(self._val["real_feats"], _chunked(feat, fake)))
        return metrics

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        x = out["fake"][:32].clamp(0, 1)
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    def inference_config(self) -> dict[str, Any]:
        return {
            "latent_dim": self.latent_dim,
            "channels": self.opts.channels,
            "image_size": self.size,
            **({"num_classes": self.num_classes} if self.num_classes else {}),
        }

    @classmethod
    def evaluate(cls, run, data_dir: str, card: Mapping[str, Any]) -> dict[str, Any]:
        """Coverage, FID and KID of samples against the real images of ``data_dir``, beside the
        real-vs-real floor (:func:`restore.eval.generation.generation_protocol`, as many samples
        as real images, seed 0).

        Args:
            run: ``(n, seed) -> (n, C, H, W)`` samples in [0, 1]
                (:meth:`restore.generate.Sampler.sample_tensor`).
            data_dir: the real images: MNIST IDX files for ``task_args.source: mnist`` (e.g.
                ``../shared/data/generation/mnist_t10k``; scored in the digit classifier's
                features, with coverage), else an image folder (e.g. ``.../cifar10_test``;
                centre squares at the model's size, random conv features).
            card: the model card (``runtime.task_args.source`` / ``classifier``,
                ``runtime.inference``).
        """
        from restore.core.card import read_card_file
        from restore.core.dcgan import FeatureView, RandomConvFeatures
        from restore.eval.generation import generation_protocol

        rt = card.get("runtime") or {}
        targs, inf = rt.get("task_args") or {}, rt.get("inference") or {}
        channels = int(inf.get("channels", targs.get("channels", 3)))
        if targs.get("source") == "mnist":
            from restore.data.mnist import MnistDataset

            real = MnistDataset(data_dir).images.float() / 255.0
            name = targs.get("classifier") or "mnist-classifier"
            clf = load_classifier(name)
            res = generation_protocol(
                run,
                real,
                FeatureView(clf),
                classifier=clf,
                feature_space=f"{name} penultimate features ({clf.num_features}-d)",
            )
            clf_card = WEIGHTS_DIR / "mnist-classifier.json"
            if name == "mnist-classifier" and clf_card.is_file():
                acc = read_card_file(clf_card).get("metrics", {}).get("held_out_accuracy")
                res["classifier_held_out_accuracy"] = acc
        else:
            ds = SquareImages(data_dir, int(inf.get("image_size") or 32), channels)
            real = torch.stack([ds[i] for i in range(len(ds))]).float() / 255.0
            space = f"random-init conv features RandomConvFeatures({channels}, width=32, seed=0)"
            res = generation_protocol(
                run, real, RandomConvFeatures(channels, width=32, seed=0), feature_space=space
            )
        return {**res, "real_data": str(data_dir)}

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        def fn(x: Tensor, **kwargs: Any) -> Tensor:
            raise RestoreError(
                f"{card.get('name', 'this model')} generates from noise and takes no image: "
                "use restore.load(name).sample(n, seed=0) or `restore generate`"
            )

        return Predictor(fn=fn, tileable=False)


def _chunked(fn, *xs: Tensor, chunk: int = 500) -> Tensor:
    """``fn`` over ``chunk`` rows of each of ``xs`` at a time (the same rows of each), no grad."""
    with torch.no_grad():
        n = xs[0].shape[0]
        return torch.cat([fn(*(x[i : i + chunk] for x in xs)) for i in range(0, n, chunk)])


__all__ = [
    "GenerationOptions",
    "GenerationTask",
    "LabelledMnist",
    "SquareImages",
    "class_coverage",
    "collapse_warning",
    "diff_augment",
    "draw_augment",
    "draw_labels",
    "load_classifier",
    "run_generator",
]
