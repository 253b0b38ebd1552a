"""Unconditional generation protocol: coverage (mode collapse), FID and KID, real-vs-real floor.

:func:`generation_protocol` draws ``n`` samples (seeded) and compares them with the real images
in a given feature space:

- FID / KID of the model at matched sizes: the real set is split at random (``seed``) into two
  halves A and B; the model is scored as FID(A, first ``len(A)`` samples), and the **floor** is
  FID(A, B), what a perfect generator would get at that size (FID of all samples against all
  real images is ``fid_full``, for reference).
- With a classifier (MNIST: ``restore/weights/mnist-classifier``), coverage: the share of samples
  classified with confidence >= 0.9 and the entropy of the predicted class histogram (uniform over
  10 classes = ln 10 = 2.303 nats), the same for the real images; FID / KID then live in the
  classifier's penultimate features.
- Without one (image folders such as CIFAR-10), a fixed random-init conv feature space
  (:class:`restore.core.dcgan.RandomConvFeatures`). No Inception weights exist offline here, so
  these numbers rank models against each other and against the floor, not against published FIDs.

The result has ``mean`` for two methods, ``model`` and ``real`` (the floor's FID / KID and the real
images' coverage), so ``restore eval`` prints them side by side.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from restore.eval.fid import fid_from_features, kid_from_features

__all__ = ["batched", "class_coverage", "distances", "generation_protocol"]

#: ``(n, seed) -> (n, C, H, W)`` images in [0, 1] (``restore.generate.Sampler.sample_tensor``).
SampleFn = Callable[[int, int], Tensor]


def class_coverage(probs: Tensor, threshold: float = 0.9) -> tuple[float, float, Tensor]:
    """Coverage of a classifier's verdicts on generated images.

    Args:
        probs: (N, K) class probabilities.
        threshold: confidence that counts as a clear class.

    Returns:
        (share of rows with max prob >= threshold, entropy in nats of the argmax histogram,
        the histogram as (K,) frequencies). Uniform over 10 classes gives ln 10 = 2.303.
    """
    conf, pred = probs.max(1)
    freq = torch.bincount(pred, minlength=probs.shape[1]).double() / max(1, probs.shape[0])
    nz = freq[freq > 0]
    entropy = float(-(nz * nz.log()).sum())
    return float((conf >= threshold).double().mean()), entropy, freq


def batched(fn: Callable[[Tensor], Tensor], x: Tensor, chunk: int = 500) -> Tensor:
    """``fn`` over ``x`` in chunks of ``chunk`` rows, without gradients, concatenated."""
    with torch.no_grad():
        return torch.cat([fn(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)])


def distances(real_f: Tensor, fake_f: Tensor, seed: int = 0) -> dict[str, Any]:
    """FID / KID of generated features at matched sizes, and the real-vs-real floor.

    Args:
        real_f: features of the real images, (N, D), N >= 4.
        fake_f: features of the samples, (M, D).
        seed: the real set's random split and the KID subsets.

    Returns:
        ``fid``, ``kid`` (half A vs the first N/2 samples), ``fid_floor``, ``kid_floor`` (A vs
        B), ``fid_full`` (all vs all), ``fid_ratio_to_floor``, ``n_real_half``, ``n_fake``.
    """
    if real_f.shape[0] < 4:
        raise ValueError(
            f"need at least 4 real images for the real-vs-real floor, got {len(real_f)}"
        )
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(real_f), generator=g)
    half = len(real_f) // 2
    a, b = real_f[perm[:half]], real_f[perm[half : 2 * half]]
    fake_half = fake_f[:half]
    out: dict[str, Any] = {
        "fid": float(fid_from_features(a, fake_half)),
        "fid_floor": float(fid_from_features(a, b)),
        "fid_full": float(fid_from_features(real_f, fake_f)),
        "kid": float(kid_from_features(a, fake_half, seed=seed)[0]),
        "kid_floor": float(kid_from_features(a, b, seed=seed)[0]),
        "n_real_half": half,
        "n_fake": len(fake_f),
    }
    out["fid_ratio_to_floor"] = out["fid"] / max(out["fid_floor"], 1e-12)
    return out


def generation_protocol(
    sample: SampleFn,
    real: Tensor,
    features: nn.Module,
    *,
    classifier: nn.Module | None = None,
    n: int | None = None,
    seed: int = 0,
    feature_space: str = "",
) -> dict[str, Any]:
    """Score a generator against real images: coverage (with ``classifier``), FID / KID, floor.

    Args:
        sample: ``(n, seed) -> (n, C, H, W)`` samples in [0, 1].
        real: the real images, (N, C, H, W) float in [0, 1], same C, H, W as the samples.
        features: the feature space, (B, C, H, W) -> (B, D).
        classifier: class logits of images, for the coverage numbers and bars; None: no coverage.
        n: samples to draw (default N, the real set's size).
        seed: the samples' seed, the real set's split and the KID subsets.
        feature_space: the feature space in words, for the result.

    Returns:
        JSON-ready: ``task: "generation"``, ``methods: ["model", "real"]``, ``mean`` (``fid``,
        ``kid``, and with a classifier ``confident_share``, ``class_entropy``), the flat numbers
        of :func:`distances`, coverage (``confident_share``, ``class_entropy_nats``,
        ``class_histogram``, ``real_*``) and ``bars`` (with a classifier: confident share >= 0.8,
        class entropy >= 2.2 nats, FID <= 3x the floor).
    """
    n = int(n or real.shape[0])
    fake = sample(n, seed).float().cpu()
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(
            f"samples are {tuple(fake.shape[1:])}, real images {tuple(real.shape[1:])}"
        )
    dev = next(iter(features.parameters()), torch.empty(0)).device
    d = distances(
        batched(lambda t: features(t.to(dev)).cpu(), real),
        batched(lambda t: features(t.to(dev)).cpu(), fake),
        seed,
    )
    res: dict[str, Any] = {
        "task": "generation",
        "methods": ["model", "real"],
        "mean": {
            "model": {"fid": d["fid"], "kid": d["kid"]},
            "real": {"fid": d["fid_floor"], "kid": d["kid_floor"]},
        },
        "count": n,
        "samples": n,
        "seed": seed,
        "feature_space": feature_space,
        **d,
    }
    bars: dict[str, bool] = {}
    if classifier is not None:

        def probs(t: Tensor) -> Tensor:
            return classifier(t.to(dev)).softmax(1).cpu()

        conf, ent, freq = class_coverage(batched(probs, fake))
        rconf, rent, _ = class_coverage(batched(probs, real))
        res["mean"]["model"].update(confident_share=conf, class_entropy=ent)
        res["mean"]["real"].update(confident_share=rconf, class_entropy=rent)
        res.update(
            confident_share=conf,
            class_entropy_nats=ent,
            class_entropy_uniform=math.log(probs(real[:1]).shape[1]),
            class_histogram=[round(float(f), 4) for f in freq],
            real_confident_share=rconf,
            real_class_entropy_nats=rent,
        )
        bars = {
            "confident_share>=0.80": conf >= 0.8,
            "class_entropy>=2.2": ent >= 2.2,
            "classifier_fid<=3x_floor": d["fid_ratio_to_floor"] <= 3.0,
        }
    res["bars"] = bars
    return res
