"""Damage detection: find the scratches, dust and creases of old photos (a segmentation task).

Training pairs are made on the device from clean patches with :func:`old_photo_damage`, which
returns the damaged photo and the exact mask of the pixels its local damage destroyed (global
fading, sepia, grain, blur and JPEG are applied too, so the detector learns to ignore them). The
generator is a small U-Net with one output channel of logits; the loss is BCE + Dice (no
discriminator: ``loss.adv_weight: 0``). Validation and :meth:`DamageTask.evaluate` report IoU,
precision and recall of the thresholded mask against the synthetic ground truth.

At inference the predictor returns the damage probability replicated on three channels (so
:class:`restore.api.Restorer` can tile it like any image); :func:`binarize` turns it into a mask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from restore.core.layers import to_signed
from restore.core.tiling import unet_bytes_per_pixel
from restore.data.color import rgb_to_gray
from restore.data.degrade import OldPhotoConfig, old_photo_damage
from restore.data.degrade.ops import add_gaussian_noise, gaussian_blur, jpeg, uniform
from restore.data.masks import max_filter
from restore.data.old_print import OldPrintConfig, old_print_damage
from restore.errors import ConfigError
from restore.tasks.base import (
    Batch,
    Logs,
    Predictor,
    SeededValSet,
    Task,
    centre_crops,
    clean_image_folder,
    per_image,
    pick_share,
    replace_share,
    sample_grid,
    unit_patches,
)


@dataclass(frozen=True)
class DamageOptions:
    """``task_args`` of the damage task."""

    scratch_prob: float = 0.8  # how often each kind of local damage appears in a training patch
    dust_prob: float = 0.7
    crease_prob: float = 0.4
    bce_weight: float = 1.0
    dice_weight: float = 1.0
    pos_weight: float = 2.0  # BCE weight of damaged pixels (they are rare)
    threshold: float = 0.5  # probability above which a pixel counts as damaged
    dilate: int = 1  # pixels the inference mask grows by (covers the soft edges of a scratch)
    val_images: int = 4
    val_size: int = 256
    val_seed: int = 1234
    # share of each batch damaged like real old prints (restore.data.old_print: cracks, flaking,
    # folds, tears, mould, stains ...); the rest gets the older scratch + dust damage
    print_share: float = 0.0
    # share of each batch left undamaged (input = clean photo, empty mask): teaches the detector
    # that clean texture, edges and grain are not damage (false positives cost clean photos)
    clean_share: float = 0.0
    # share of those undamaged samples drawn as intact old prints instead of the clean photo:
    # B&W, sepia, colour or hand-tinted bases with the tone-only effects (fading, stains, grain,
    # JPEG ...) and no hole, so the mask stays empty. Without them every undamaged sample is a
    # colour photo while most damaged ones are B&W or sepia, and the detector learns "grey means
    # damage": it marked 23 regions on the clean grey versions of Set5/Set14 against 2 on the
    # colour ones (highlights, a white chest, flat black areas)
    clean_print_share: float = 0.0
    # share of the other undamaged samples (the photos themselves) turned plain grey, R = G = B:
    # B&W conversions of modern photos. Without them the only grey an undamaged sample shows is
    # an aged print's, and the detector took the edges of clean grey photos for cracks (a white
    # chest against a black beak, the dark rims of petals)
    clean_grey_share: float = 0.0
    # share of those photos (grey or colour) slightly blurred, noisy and JPEG-compressed, with no
    # damage (:func:`plain_negatives`): the softness and noise of a camera or scanner are no damage
    # either, and without them noise came only with damage in training
    clean_mild_share: float = 0.0
    # share of the real-print samples that lose a few large flakes (a cheek, an eye) instead of
    # scattered ones (restore.data.old_print.OldPrintConfig.flaking_large_prob)
    flaking_large_prob: float = 0.0
    # share of those large flakes torn along the emulsion's cracks (OldPrintConfig.flaking_torn_prob)
    flaking_torn_prob: float = 0.0
    # share of the real-print samples that lose emulsion at all (OldPrintConfig.flaking_prob);
    # None keeps OldPrintConfig's. With flaking_large_prob it sets how often a batch shows large
    # flakes (print_share x flaking_prob x flaking_large_prob of the damaged samples)
    flaking_prob: float | None = None
    # crumple creases and crazing in the real-print samples (OldPrintConfig.crazing_prob,
    # crazing_width and crazing_strength, which checks them); None keeps OldPrintConfig's
    crazing_prob: float | None = None
    crazing_width: tuple[float, float] | None = None
    crazing_strength: tuple[float, float] | None = None
    # the widest width in px of the real-print samples' crack networks and scratches
    # (OldPrintConfig.crack_width, scratch_width); None keeps OldPrintConfig's. At their defaults
    # (at most 2.5 and 3 px) the detector misses most cracks 6 px and wider
    # (scripts/bench/crack_width.py), as a scan of a real print has them
    crack_width: tuple[float, float] | None = None
    scratch_width: tuple[float, float] | None = None
    # how much of the picture their cores replace (OldPrintConfig.crack_strength,
    # scratch_strength); None keeps OldPrintConfig's
    crack_strength: tuple[float, float] | None = None
    scratch_strength: tuple[float, float] | None = None
    # weights of the print kinds the real-print samples are drawn as (OldPrintConfig.kind_probs:
    # bw, sepia, cyanotype, colour, tinted); None keeps OldPrintConfig's
    kind_probs: tuple[float, ...] | None = None
    # a coarse detector: each damaged patch and its mask are shrunk by this factor (area mean;
    # a pixel is damage where at least half of its area was) before the network sees them, so
    # it learns the damage that is still there at a whole print's scale: large flakes, tears,
    # dense crack fields, with the print around them in view (configs/damage_coarse.yaml)
    downscale: int = 1
    # share of the patches (damaged or not) whose photo first gets a few large blobs lifted most
    # of the way to white with their detail kept (:func:`bright_regions`): white clothes, lit
    # skin and highlights are scene content, not damage. Without them the coarse detector took
    # every bright region of a print (a baby's white sleeve, a sailor's shirt, a lit face) for
    # a flake: a flake is flat bare paper, a white shirt keeps its folds
    bright_share: float = 0.0

    def __post_init__(self) -> None:
        for k in (
            "scratch_prob",
            "dust_prob",
            "crease_prob",
            "threshold",
            "print_share",
            "clean_share",
            "clean_print_share",
            "clean_grey_share",
            "clean_mild_share",
            "flaking_large_prob",
            "flaking_torn_prob",
            "bright_share",
        ):
            if not 0.0 <= getattr(self, k) <= 1.0:
                raise ValueError(f"{k} must be in [0, 1], got {getattr(self, k)}")
        if self.flaking_prob is not None and not 0.0 <= self.flaking_prob <= 1.0:
            raise ValueError(f"flaking_prob must be in [0, 1], got {self.flaking_prob}")
        if self.dilate < 0 or self.pos_weight <= 0:
            raise ValueError("dilate must be >= 0 and pos_weight > 0")
        if self.downscale < 1:
            raise ValueError(f"downscale must be >= 1, got {self.downscale}")


def damage_config(opts: DamageOptions) -> OldPhotoConfig:
    """The old-photo damage used for training: defaults, with the local-damage rates of ``opts``."""
    return replace(
        OldPhotoConfig(),
        scratch_prob=opts.scratch_prob,
        dust_prob=opts.dust_prob,
        crease_prob=opts.crease_prob,
    )


def print_config(opts: DamageOptions) -> OldPrintConfig:
    """The real-print damage used for training: OldPrintConfig's, with the print options of
    ``opts`` (flaking, large and torn flakes, crazing, crack and scratch widths and strengths,
    print kinds) where the recipe sets them."""
    given = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in (
            ("crazing_prob", opts.crazing_prob),
            ("crazing_width", opts.crazing_width),
            ("crazing_strength", opts.crazing_strength),
            ("crack_width", opts.crack_width),
            ("scratch_width", opts.scratch_width),
            ("crack_strength", opts.crack_strength),
            ("scratch_strength", opts.scratch_strength),
            ("kind_probs", opts.kind_probs),
            ("flaking_prob", opts.flaking_prob),
        )
        if v is not None
    }
    return replace(
        OldPrintConfig(),
        flaking_large_prob=opts.flaking_large_prob,
        flaking_torn_prob=opts.flaking_torn_prob,
        **given,
    )


def dice_loss(logits: Tensor, target: Tensor, eps: float = 1.0) -> Tensor:
    """Soft Dice loss ``1 - 2|P.T| / (|P| + |T|)`` per image, averaged.

    Args:
        logits: (B, 1, H, W) raw scores.
        target: (B, 1, H, W) masks in {0, 1}.
        eps: smoothing, keeps images without damage well defined (loss 0 when nothing is predicted).

    Returns:
        Scalar loss in [0, 1].
    """
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    inter = (p * t).sum(1)
    return (1 - (2 * inter + eps) / (p.sum(1) + t.sum(1) + eps)).mean()


def dilate(mask: Tensor, pixels: int) -> Tensor:
    """Grow a {0, 1} mask by ``pixels`` (square structuring element).

    Shape: (B, 1, H, W) -> (B, 1, H, W).
    """
    if pixels <= 0:
        return mask
    return max_filter(mask, 2 * pixels + 1)


def binarize(
    prob: Tensor, threshold: float = 0.5, grow: int = 0, seed: float | None = None
) -> Tensor:
    """Damage probabilities -> a {0, 1} float mask, grown by ``grow`` pixels.

    With ``seed`` (hysteresis, as Canny's edges): a connected region of ``prob > threshold`` is
    damaged only if some pixel of it has ``prob > seed``. Weak, scattered responses on clean
    texture go; a crack keeps its faint ends because its core is sure.

    Args:
        prob: (B, C, H, W) probabilities in [0, 1] (the first channel is used).
        threshold: pixels with ``prob > threshold`` are damaged.
        grow: dilation in pixels.
        seed: hysteresis: the probability a region must reach somewhere (``None``: off).

    Returns:
        (B, 1, H, W) float mask, 1 = damaged.
    """
    mask = prob[:, :1] > threshold
    if seed is not None and seed > threshold:
        from restore.data.masks import regions_touching

        p = prob[:, :1].detach().float().cpu().numpy()
        kept = [regions_touching(im > threshold, im > seed) for im in p[:, 0]]
        mask = torch.from_numpy(np.stack(kept)[:, None]).to(prob.device)
    return dilate(mask.float(), grow)


def mask_scores(pred: Tensor, target: Tensor) -> dict[str, float]:
    """IoU, precision, recall and F1 of binary masks, pooled over all pixels of the batch.

    Args:
        pred, target: (B, 1, H, W) masks in {0, 1}.
    """
    p, t = pred > 0.5, target > 0.5
    tp = float((p & t).sum())
    fp = float((p & ~t).sum())
    fn = float((~p & t).sum())
    prec = tp / max(tp + fp, 1.0)
    rec = tp / max(tp + fn, 1.0)
    return {
        "iou": tp / max(tp + fp + fn, 1.0),
        "precision": prec,
        "recall": rec,
        "f1": 2 * prec * rec / max(prec + rec, 1e-12),
    }


def detect_logits(G: nn.Module, x: Tensor) -> Tensor:
    """Damage logits (B, 1, H, W) of photos x (B, 3, H, W) in [0, 1] (sides multiples of G's)."""
    return G(to_signed(x))[:, :1]


class DamageTask(Task):
    name: ClassVar[str] = "damage"
    echo_views: ClassVar[Literal[1, 2, 8]] = 8  # local damage has no up or down
    Options: ClassVar[type] = DamageOptions
    best_metric: ClassVar[tuple[str, Literal["max", "min"]] | None] = ("iou", "max")
    discriminator_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, cfg) -> None:
        super().__init__(cfg)
        if cfg.loss.adv_weight != 0:
            raise ConfigError("the damage task is a segmentation task: set loss.adv_weight: 0")
        if cfg.model.generator_args.get("output", "tanh") != "none":
            raise ConfigError("the damage task needs model.generator_args.output: none (logits)")
        self.damage = damage_config(self.opts)
        o = self.opts
        self.prints = print_config(o)
        self.val_set = SeededValSet(
            cfg.data.val,
            o.val_images,
            o.val_size,
            o.val_seed,
            lambda clean, g: old_photo_damage(clean, generator=g, config=self.damage),
        )

    def train_dataset(self) -> Dataset:
        return clean_image_folder(self.cfg)

    def make_batch(self, raw: Tensor, generator: torch.Generator) -> Batch:
        clean = unit_patches(raw, generator)
        if self.opts.bright_share > 0:  # draws only then: other recipes repeat exactly
            clean = bright_regions(clean, self.opts.bright_share, generator)
        damaged, mask = old_photo_damage(clean, generator=generator, config=self.damage)
        if self.opts.print_share > 0:
            damaged, mask = mix_print_damage(
                clean, damaged, mask, self.opts.print_share, generator, self.prints
            )
        o = self.opts
        if o.clean_share > 0:
            keep = pick_share(clean.shape[0], o.clean_share, generator, clean.device)
            negatives = clean
            kinds = o.clean_print_share > 0 or o.clean_grey_share > 0 or o.clean_mild_share > 0
            if kinds and bool(keep.any()):  # only the kept rows
                idx = keep.nonzero().view(-1)
                rows = plain_negatives(
                    clean[idx], o.clean_grey_share, o.clean_mild_share, generator
                )
                if o.clean_print_share > 0:
                    rows = mix_intact_prints(clean[idx], o.clean_print_share, generator, rows)
                negatives = clean.index_copy(0, idx, rows)
            keep = keep[:, None, None, None]
            damaged = torch.where(keep, negatives, damaged)
            mask = torch.where(keep, torch.zeros_like(mask), mask)
        damaged, mask = shrink_pair(damaged, mask, o.downscale)
        return {"input": damaged, "mask": mask}

    def forward(self, nets: Mapping[str, nn.Module], batch: Batch) -> Batch:
        return {"logits": detect_logits(nets["G"], batch["input"])}

    def d_loss(self, nets, batch: Batch, out: Batch, step: int) -> tuple[Tensor, Logs]:
        raise RuntimeError("the damage task has no discriminator")

    def g_loss(
        self, nets, batch: Batch, out: Batch, step: int, gan_on: bool
    ) -> tuple[Tensor, Logs]:
        logits, mask = out["logits"], batch["mask"]
        pw = torch.tensor(self.opts.pos_weight, device=logits.device)
        bce = F.binary_cross_entropy_with_logits(logits, mask, pos_weight=pw)
        dice = dice_loss(logits, mask)
        loss = self.opts.bce_weight * bce + self.opts.dice_weight * dice
        return loss, {"g_bce": bce.detach(), "g_dice": dice.detach(), "g_loss": loss.detach()}

    def validate(self, generators: Mapping[str, nn.Module]) -> dict[str, float]:
        G = generators["G"]
        pairs = self.val_set.on(G)
        if pairs is None:
            return {}
        damaged, mask = shrink_pair(*pairs, self.opts.downscale)
        logits = per_image(lambda x: detect_logits(G, x), damaged)
        pred = binarize(torch.sigmoid(logits), self.opts.threshold)
        return mask_scores(pred, mask)

    def samples(self, batch: Batch, out: Batch) -> Tensor:
        prob = torch.sigmoid(out["logits"][:4].detach()).expand(-1, 3, -1, -1)
        return sample_grid(batch["input"], prob, batch["mask"].expand(-1, 3, -1, -1))

    def inference_config(self) -> dict[str, Any]:
        return {
            "threshold": self.opts.threshold,
            "dilate": self.opts.dilate,
            "output_rgb": True,
            "bytes_per_pixel": unet_bytes_per_pixel(self.cfg.model.generator_args),
        }

    @classmethod
    def evaluate(
        cls, run: Callable[..., Tensor], data_dir: str, card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """IoU / precision / recall of the detected mask on ``data_dir`` images with seeded damage.

        Each image (full size) gets scratches + dust + grain + fading (:func:`eval_damage_config`)
        from a generator seeded with 0 + its index; the mask is thresholded without dilation.
        """
        from restore.data.datasets import list_images
        from restore.data.io import read_image, to_tensor

        inf = (card.get("runtime") or {}).get("inference", {})
        thr = float(inf.get("threshold", 0.5))
        preds, targets, per = [], [], []
        for i, p in enumerate(list_images(data_dir)):
            clean = to_tensor(read_image(p))
            g = torch.Generator().manual_seed(i)
            damaged, mask = old_photo_damage(clean, generator=g, config=eval_damage_config())
            pred = binarize(run(damaged), thr)
            preds.append(pred.flatten())
            targets.append(mask.flatten())
            per.append({"image": p.name, **mask_scores(pred, mask)})
        if not per:
            raise ConfigError(f"no images in {data_dir}")
        pooled = mask_scores(torch.cat(preds)[None, None], torch.cat(targets)[None, None])
        return {
            "protocol": "seeded scratches+dust+grain+fade, threshold " + str(thr),
            **pooled,
            "images": per,
        }

    @classmethod
    def predictor(cls, card: Mapping[str, Any], modules: Mapping[str, nn.Module]) -> Predictor:
        G = modules["G"]
        multiple = int(getattr(G, "size_multiple", 1))

        def fn(x: Tensor) -> Tensor:
            return torch.sigmoid(detect_logits(G, x)).expand(-1, 3, -1, -1)

        return Predictor(fn=fn, scale=1, multiple=multiple, tileable=True, halo=max(32, multiple))


def shrink_pair(damaged: Tensor, mask: Tensor, factor: int) -> tuple[Tensor, Tensor]:
    """Images and masks shrunk ``factor`` times (area mean; a mask pixel stays damage where at
    least half of its area was): a coarse detector's view of the damage. ``factor`` 1: as given.

    Example:
        >>> m = torch.zeros(1, 1, 4, 4); m[..., :2, :2] = 1; m[..., 3, :] = 1  # a blob, a line
        >>> shrink_pair(torch.zeros(1, 3, 4, 4), m, 2)[1][0, 0].tolist()
        [[1.0, 0.0], [1.0, 1.0]]
    """
    if factor == 1:
        return damaged, mask
    small = F.avg_pool2d(damaged, factor)
    return small, (F.avg_pool2d(mask, factor) >= 0.5).to(mask)


def mix_print_damage(
    clean: Tensor,
    damaged: Tensor,
    mask: Tensor,
    share: float,
    generator: torch.Generator,
    config: OldPrintConfig | None = None,
) -> tuple[Tensor, Tensor]:
    """Replace a random ``share`` of a batch's (damaged, mask) pairs by real-print damage of the
    same clean images (:func:`restore.data.old_print.old_print_damage` with ``config``, default
    :class:`~restore.data.old_print.OldPrintConfig`)."""
    cfg = config or OldPrintConfig()

    def aged(idx: Tensor) -> tuple[Tensor, Tensor]:
        d, m, _ = old_print_damage(clean[idx], generator, cfg)
        return d, m

    damaged, mask = replace_share(share, generator, aged, damaged, mask)
    return damaged, mask


def mix_intact_prints(
    clean: Tensor, share: float, generator: torch.Generator, background: Tensor | None = None
) -> Tensor:
    """``background`` (default ``clean``) with a random ``share`` of its rows replaced by intact
    old prints of the same photos ``clean``: the print bases and tone effects of
    :func:`restore.data.old_print.old_print_damage` with no hole (``intact_prob`` = 1), so they
    need no mask."""
    intact = replace(OldPrintConfig(), intact_prob=1.0)

    def prints(idx: Tensor) -> tuple[Tensor]:
        return (old_print_damage(clean[idx], generator, intact)[0],)

    return replace_share(share, generator, prints, clean if background is None else background)[0]


#: Ranges of :func:`plain_negatives`' mild degradation: blur sigma (px), Gaussian noise sigma
#: (image units), JPEG quality.
MILD_BLUR = (0.3, 1.2)
MILD_NOISE = (0.0, 0.02)
MILD_JPEG = (60.0, 95.0)


def plain_negatives(
    clean: Tensor, grey_share: float, mild_share: float, generator: torch.Generator
) -> Tensor:
    """Undamaged photos as users' modern photos come, for the detector's empty-mask samples: a
    random ``grey_share`` of ``clean`` (B, 3, H, W) turned plain grey (BT.601 luma on the three
    channels), then a random ``mild_share`` (grey or colour) blurred, noisy and JPEG-compressed,
    each amount drawn per photo from :data:`MILD_BLUR`, :data:`MILD_NOISE` and :data:`MILD_JPEG`.
    A grey photo stays grey: its noise is the same on the three channels and its JPEG round trip
    keeps only the luma. A share of 0 draws nothing, so recipes without it repeat exactly.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> y = plain_negatives(torch.rand(4, 3, 32, 32), 1.0, 0.0, g)
        >>> bool((y[:, 0] == y[:, 1]).all() and (y[:, 1] == y[:, 2]).all())
        True
    """
    from restore.faces.paste import is_grey, keep_grey

    x = clean
    if grey_share > 0:

        def grey(idx: Tensor) -> tuple[Tensor]:
            return (rgb_to_gray(x[idx], keep_channels=True),)

        (x,) = replace_share(grey_share, generator, grey, x)
    if mild_share > 0:

        def mild(idx: Tensor) -> tuple[Tensor]:
            y, n = x[idx], idx.numel()
            z = gaussian_blur(y, uniform(generator, n, *MILD_BLUR, y))
            sigma = uniform(generator, n, *MILD_NOISE, y)
            z = add_gaussian_noise(z, sigma, generator=generator, gray=is_grey(y))
            z = jpeg(z, uniform(generator, n, *MILD_JPEG, y))
            return (keep_grey(y, z),)

        (x,) = replace_share(mild_share, generator, mild, x)
    return x


#: Ranges of :func:`bright_regions`: the share of a photo lifted, how far towards white (1 =
#: white), and the steepness of the blobs' rims (4: soft as a highlight, 40: crisp as a collar).
BRIGHT_AREA = (0.03, 0.2)
BRIGHT_LIFT = (0.35, 0.8)
BRIGHT_RIM = (4.0, 40.0)


def bright_regions(clean: Tensor, share: float, generator: torch.Generator) -> Tensor:
    """Photos ``clean`` (B, 3, H, W) in [0, 1] with a random ``share`` of them given a few large
    blobs (the shapes of :func:`restore.data.old_print_holes.emulsion_flaking`'s large flakes,
    :data:`BRIGHT_AREA` of the photo in all) lifted part of the way to white
    (:data:`BRIGHT_LIFT`) with their detail kept, at scale: the white clothes, lit skin and
    highlights of a scene. A flake is flat bare paper; these keep their folds and features, so
    a detector trained with them as undamaged content has to look inside a bright blob. A grey
    photo stays grey.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.rand(2, 3, 64, 64) * 0.5
        >>> y = bright_regions(x, 1.0, g)
        >>> bool((y >= x).all()), bool((y > x + 0.1).any())
        (True, True)
    """
    from restore.data.old_print_fields import fbm, pixel_generator, quantile_threshold

    def lift(idx: Tensor) -> tuple[Tensor]:
        y = clean[idx]
        n, _, h, w = y.shape
        gd, s = pixel_generator(generator, y), min(h, w)
        cells = [s / 2**k for k in range(2, 8)] + [2.0]
        c = torch.tensor(cells, device=y.device, dtype=y.dtype).view(1, -1)
        size = uniform(generator, n, 0.12, 0.3, y).view(n, 1) * s
        blob = torch.where(c >= size, (size / c) ** 0.5, (c / size) ** 2.5)
        field = fbm(gd, n, h, w, cells, blob, y)
        frac = uniform(generator, n, *BRIGHT_AREA, y)
        steep = uniform(generator, n, *BRIGHT_RIM, y).view(n, 1, 1, 1)
        alpha = (field - quantile_threshold(field, frac)).mul(steep).add(0.5).clamp(0, 1)
        k = uniform(generator, n, *BRIGHT_LIFT, y).view(n, 1, 1, 1)
        return (y + alpha * k * (1 - y),)  # 1 - (1 - y)(1 - k) inside: lifted, detail kept

    return replace_share(share, generator, lift, clean)[0]


def eval_damage_config() -> OldPhotoConfig:
    """The evaluation damage of issue 9: scratches + dust + grain + fading on every image."""
    return OldPhotoConfig.only("scratch", "dust", "grain", "fade")


def seeded_damage_set(
    folder: str, n: int, size: int, seed: int, config: OldPhotoConfig
) -> tuple[Tensor, Tensor]:
    """Centre crops (``size`` square) of the first ``n`` images of ``folder``, damaged with ``seed``.

    Returns:
        (damaged (N, 3, s, s), mask (N, 1, s, s)).
    """
    g = torch.Generator().manual_seed(seed)
    return old_photo_damage(centre_crops(folder, n, size), generator=g, config=config)


__all__ = [
    "DamageOptions",
    "DamageTask",
    "binarize",
    "bright_regions",
    "damage_config",
    "detect_logits",
    "dice_loss",
    "dilate",
    "eval_damage_config",
    "mix_intact_prints",
    "plain_negatives",
    "print_config",
    "mask_scores",
    "mix_print_damage",
    "seeded_damage_set",
    "shrink_pair",
]
