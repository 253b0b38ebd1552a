"""Metrics computed on a network's features: FID and KID (torchmetrics); LPIPS is re-exported.

FID and KID take any feature extractor (``feature=<nn.Module>`` mapping (B, 3, H, W) images in
[0, 1] to (B, D) features, with an integer ``num_features``), so tests and small experiments run
offline with a tiny network. Standard FID uses torch-fidelity's Inception v3 (the TF 2015-12-05
weights); :func:`inception_feature_extractor` loads them from an explicit path,
``$RESTORE_INCEPTION_WEIGHTS`` or the torch hub cache, and never downloads: when the file is
missing it says which file to put where. (The ``.pth`` file is read by torch-fidelity itself.)

LPIPS (:mod:`restore.eval.lpips`, re-exported here) likewise needs its ImageNet backbone, from
local files only (:mod:`restore.eval.weights` says where both look).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from restore.data.resize import to_uint8
from restore.errors import ModelNotFoundError
from restore.eval.lpips import LPIPS_WEIGHTS_ENV, LpipsNet, lpips, lpips_network
from restore.eval.weights import hub_checkpoints, local_weights_file

__all__ = [
    "INCEPTION_WEIGHTS_ENV",
    "INCEPTION_WEIGHTS_FILE",
    "INCEPTION_WEIGHTS_URL",
    "LPIPS_WEIGHTS_ENV",
    "InceptionFeatures",
    "LpipsNet",
    "fid",
    "fid_from_features",
    "inception_feature_extractor",
    "inception_weights_path",
    "kid",
    "kid_from_features",
    "lpips",
    "lpips_network",
    "make_fid",
    "make_kid",
]

logger = logging.getLogger(__name__)

# torch_fidelity.feature_extractor_inceptionv3.URL_INCEPTION_V3 (a test checks they agree).
INCEPTION_WEIGHTS_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
INCEPTION_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_WEIGHTS_ENV = "RESTORE_INCEPTION_WEIGHTS"
_KID_BUFFER_WARNING = "Metric `Kernel Inception Distance` will save all extracted features"

Images = Tensor | Iterable[Tensor]


# --- FID / KID ----------------------------------------------------------------------------


def inception_weights_path(weights_path: str | os.PathLike[str] | None = None) -> Path:
    """Find torch-fidelity's Inception v3 weights without downloading them.

    Looks at ``weights_path``, then ``$RESTORE_INCEPTION_WEIGHTS``, then
    ``torch.hub.get_dir()/checkpoints/weights-inception-2015-12-05-6726825d.pth`` (where
    torch-fidelity's own download would have put it).

    Args:
        weights_path: explicit path to the ``.pth`` file.

    Returns:
        The path of an existing file.

    Raises:
        ModelNotFoundError: no file found; the message names the file, its URL and where to put it.
    """
    if weights_path is not None:
        return local_weights_file(weights_path, "weights_path")
    env = os.environ.get(INCEPTION_WEIGHTS_ENV)
    if env:
        return local_weights_file(env, f"${INCEPTION_WEIGHTS_ENV}")
    cached = hub_checkpoints() / INCEPTION_WEIGHTS_FILE
    if cached.is_file():
        return cached
    raise ModelNotFoundError(
        f"FID/KID need torch-fidelity's Inception v3 weights, file {INCEPTION_WEIGHTS_FILE!r}, "
        f"which restore never downloads. Get it from {INCEPTION_WEIGHTS_URL} and put it at "
        f"{cached} (the torch hub cache), or point ${INCEPTION_WEIGHTS_ENV} or "
        "weights_path= at it. Offline, pass feature=<your nn.Module> instead."
    )


class InceptionFeatures(nn.Module):
    """Standard FID features: torch-fidelity's Inception v3 pool3 (2048-d) on [0, 1] images.

    Wraps torchmetrics' ``NoTrainInceptionV3``: images are quantised to uint8 as FID expects,
    resized to 299 x 299 inside the network.

    Shape:
        ``(B, 3, H, W)`` in [0, 1] ``-> (B, 2048)``.
    """

    num_features = 2048

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: Tensor) -> Tensor:
        """Features of images in [0, 1]."""
        return self.network(to_uint8(x))


def inception_feature_extractor(
    weights_path: str | os.PathLike[str] | None = None,
) -> InceptionFeatures:
    """torch-fidelity's Inception v3 (``pt_inception-2015-12-05``) as a FID/KID feature extractor.

    Args:
        weights_path: the weights file; see :func:`inception_weights_path` for the search order.

    Returns:
        An :class:`InceptionFeatures` module in eval mode, on the CPU.

    Raises:
        ModelNotFoundError: the weights file is absent (nothing is downloaded).
    """
    path = inception_weights_path(weights_path)
    from torchmetrics.image.fid import NoTrainInceptionV3

    network = NoTrainInceptionV3(
        name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=str(path)
    )
    return InceptionFeatures(network).eval()


def _feature_module(
    feature: nn.Module | None, weights_path: str | os.PathLike[str] | None
) -> nn.Module:
    if feature is None:
        return inception_feature_extractor(weights_path)
    if not isinstance(feature, nn.Module):
        raise ValueError(f"feature must be an nn.Module, got {type(feature).__name__}")
    return feature


def make_fid(
    feature: nn.Module | None = None,
    weights_path: str | os.PathLike[str] | None = None,
    reset_real_features: bool = True,
) -> FrechetInceptionDistance:
    """A running torchmetrics FID metric over [0, 1] images.

    Call ``update(images, real=True/False)`` batch by batch, then ``compute()``.

    Args:
        feature: feature extractor with ``num_features``; ``None`` for the standard Inception.
        weights_path: Inception weights when ``feature`` is ``None``.
        reset_real_features: forwarded to torchmetrics (``False`` keeps real statistics on reset).

    Returns:
        A ``FrechetInceptionDistance`` in float64 state.
    """
    module = _feature_module(feature, weights_path)
    return FrechetInceptionDistance(feature=module, reset_real_features=reset_real_features)


def make_kid(
    feature: nn.Module | None = None,
    weights_path: str | os.PathLike[str] | None = None,
    subsets: int = 100,
    subset_size: int = 1000,
) -> KernelInceptionDistance:
    """A running torchmetrics KID metric over [0, 1] images (polynomial kernel, degree 3).

    Args:
        feature: feature extractor; ``None`` for the standard Inception.
        weights_path: Inception weights when ``feature`` is ``None``.
        subsets: number of random subsets averaged.
        subset_size: samples per subset (at most the number of images of each side).

    Returns:
        A ``KernelInceptionDistance``; ``compute()`` gives ``(mean, std)``.
    """
    module = _feature_module(feature, weights_path)
    return _quiet_kid(feature=module, subsets=subsets, subset_size=subset_size)


def _quiet_kid(**kwargs: object) -> KernelInceptionDistance:
    """KernelInceptionDistance without its warning that it keeps the features in memory."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_KID_BUFFER_WARNING)
        return KernelInceptionDistance(**kwargs)  # type: ignore[arg-type]


def _batches(images: Images) -> Iterable[Tensor]:
    if torch.is_tensor(images):
        return [images]
    return images


def _feed(
    metric: FrechetInceptionDistance | KernelInceptionDistance, images: Images, real: bool
) -> int:
    count = 0
    with torch.no_grad():
        for batch in _batches(images):
            if batch.ndim != 4:
                raise ValueError(
                    f"expected (B, C, H, W) image batches, got shape {tuple(batch.shape)}"
                )
            metric.to(batch.device)
            metric.update(batch, real=real)
            count += batch.shape[0]
    return count


def fid(
    real: Images,
    fake: Images,
    *,
    feature: nn.Module | None = None,
    weights_path: str | os.PathLike[str] | None = None,
) -> float:
    """Frechet Inception Distance between two image sets.

    Args:
        real: real images in [0, 1], one tensor or an iterable of batches.
        fake: generated images, likewise.
        feature: feature extractor (with ``num_features``); ``None`` for the standard Inception.
        weights_path: Inception weights when ``feature`` is ``None``.

    Returns:
        FID (lower is better; 0 for identical feature statistics).

    Shape:
        each batch ``(B, 3, H, W)``; at least 2 images per side.

    Example:
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 4))
        >>> net.num_features = 4
        >>> x = torch.rand(16, 3, 8, 8)
        >>> round(fid(x, x, feature=net), 6)
        0.0
    """
    metric = make_fid(feature, weights_path)
    _feed(metric, real, real=True)
    _feed(metric, fake, real=False)
    return float(metric.compute())


def kid(
    real: Images,
    fake: Images,
    *,
    feature: nn.Module | None = None,
    weights_path: str | os.PathLike[str] | None = None,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance between two image sets, with seeded subsets.

    Args:
        real: real images in [0, 1], one tensor or an iterable of batches.
        fake: generated images, likewise.
        feature: feature extractor; ``None`` for the standard Inception.
        weights_path: Inception weights when ``feature`` is ``None``.
        subsets: number of random subsets.
        subset_size: samples per subset, lowered to the smaller set's size if needed.
        seed: seeds the subset draws (the global RNG is restored afterwards).

    Returns:
        ``(mean, std)`` of KID over the subsets.
    """
    module = _feature_module(feature, weights_path)
    metric = _quiet_kid(feature=module, subsets=subsets, subset_size=2)
    n_real = _feed(metric, real, real=True)
    n_fake = _feed(metric, fake, real=False)
    metric.subset_size = max(2, min(subset_size, n_real, n_fake))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


class _Identity(nn.Module):
    """Feature extractor for precomputed features: returns its input."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: Tensor) -> Tensor:
        return x


def _check_features(f1: Tensor, f2: Tensor) -> None:
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(
            f"features must be (N, D) and (M, D), got {tuple(f1.shape)} and {tuple(f2.shape)}"
        )
    if min(f1.shape[0], f2.shape[0]) < 2:
        raise ValueError("FID/KID need at least 2 samples per side")


def fid_from_features(f1: Tensor, f2: Tensor) -> Tensor:
    """FID between two sets of precomputed features (torchmetrics' formula, float64).

    Args:
        f1: features of the real set.
        f2: features of the generated set.

    Returns:
        Scalar float64 tensor ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``.

    Shape:
        ``(N, D), (M, D) -> ()``.
    """
    _check_features(f1, f2)
    metric = FrechetInceptionDistance(feature=_Identity(f1.shape[1])).to(f1.device)
    metric.update(f1.double(), real=True)
    metric.update(f2.double(), real=False)
    return metric.compute()


def kid_from_features(
    f1: Tensor, f2: Tensor, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """KID between two sets of precomputed features.

    Args:
        f1: features of the real set.
        f2: features of the generated set.
        subsets: number of random subsets.
        subset_size: samples per subset, lowered to the smaller set's size if needed.
        seed: seeds the subset draws.

    Returns:
        ``(mean, std)`` scalar tensors.

    Shape:
        ``(N, D), (M, D) -> (), ()``.
    """
    _check_features(f1, f2)
    size = min(subset_size, f1.shape[0], f2.shape[0])
    metric = _quiet_kid(feature=_Identity(f1.shape[1]), subsets=subsets, subset_size=size)
    metric.to(f1.device)
    metric.update(f1.double(), real=True)
    metric.update(f2.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return metric.compute()
