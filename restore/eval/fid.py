"""Metrics computed on a network's features: FID, KID (torchmetrics) and LPIPS.

FID and KID take any feature extractor (``feature=<nn.Module>`` mapping (B, 3, H, W) images in
[0, 1] to (B, D) features, with an integer ``num_features``), so tests and small experiments run
offline with a tiny network. Standard FID uses torch-fidelity's Inception v3 (the TF 2015-12-05
weights); :func:`inception_feature_extractor` loads them from an explicit path,
``$RESTORE_INCEPTION_WEIGHTS`` or the torch hub cache, and never downloads: when the file is
missing it says which file to put where. (The ``.pth`` file is read by torch-fidelity itself.)

LPIPS likewise needs its ImageNet backbone (torchvision's AlexNet / VGG16 / SqueezeNet weights):
from the torch hub cache, or from a ``.safetensors`` file of the torchvision state dict.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from restore.data.resize import to_uint8
from restore.errors import CheckpointError, ModelNotFoundError

__all__ = [
    "INCEPTION_WEIGHTS_ENV",
    "INCEPTION_WEIGHTS_FILE",
    "INCEPTION_WEIGHTS_URL",
    "LPIPS_WEIGHTS_ENV",
    "InceptionFeatures",
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
LPIPS_WEIGHTS_ENV = "RESTORE_LPIPS_WEIGHTS"

LpipsNet = Literal["alex", "vgg", "squeeze"]
# LPIPS backbone -> torchvision weights URL (the hub cache file is its last path component).
_KID_BUFFER_WARNING = "Metric `Kernel Inception Distance` will save all extracted features"
_LPIPS_BACKBONE_URLS: dict[str, str] = {
    "alex": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "vgg": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "squeeze": "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
}

Images = Tensor | Iterable[Tensor]


def _hub_checkpoints() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def _explicit_path(path: str | os.PathLike[str], origin: str) -> Path:
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise ModelNotFoundError(f"weights file {str(resolved)!r} (from {origin}) does not exist")
    return resolved


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
        return _explicit_path(weights_path, "weights_path")
    env = os.environ.get(INCEPTION_WEIGHTS_ENV)
    if env:
        return _explicit_path(env, f"${INCEPTION_WEIGHTS_ENV}")
    cached = _hub_checkpoints() / INCEPTION_WEIGHTS_FILE
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


# --- LPIPS --------------------------------------------------------------------------------


def _lpips_backbone_source(net: str, weights_path: str | os.PathLike[str] | None) -> Path:
    if net not in _LPIPS_BACKBONE_URLS:
        raise ValueError(f"net must be one of {sorted(_LPIPS_BACKBONE_URLS)}, got {net!r}")
    url = _LPIPS_BACKBONE_URLS[net]
    cached = _hub_checkpoints() / url.rsplit("/", 1)[-1]
    if weights_path is not None:
        path = _explicit_path(weights_path, "weights_path")
    elif os.environ.get(LPIPS_WEIGHTS_ENV):
        path = _explicit_path(os.environ[LPIPS_WEIGHTS_ENV], f"${LPIPS_WEIGHTS_ENV}")
    elif cached.is_file():
        return cached
    else:
        raise ModelNotFoundError(
            f"LPIPS ({net}) needs the torchvision ImageNet backbone, file {cached.name!r}, which "
            f"restore never downloads. Get it from {url} and put it at {cached} (the torch hub "
            f"cache), or pass weights_path= / ${LPIPS_WEIGHTS_ENV} to a .safetensors file of the "
            "same torchvision state dict."
        )
    if path.suffix != ".safetensors":
        raise CheckpointError(
            f"LPIPS backbone weights given by path must be .safetensors (no pickle), got {str(path)!r}; "
            f"a torchvision .pth belongs in the torch hub cache as {cached}"
        )
    return path


def lpips_network(
    net: LpipsNet = "alex", weights_path: str | os.PathLike[str] | None = None
) -> nn.Module:
    """Build torchmetrics' LPIPS network from local backbone weights only.

    Args:
        net: backbone, ``"alex"`` (the usual choice), ``"vgg"`` or ``"squeeze"``.
        weights_path: a ``.safetensors`` file of the torchvision model's state dict (keys
            ``features.*``); ``None`` looks at ``$RESTORE_LPIPS_WEIGHTS``, then the torch hub cache.

    Returns:
        The LPIPS module in eval mode (the linear calibration layers ship with torchmetrics).

    Raises:
        ModelNotFoundError: no backbone weights found; the message names file, URL and place.
        CheckpointError: a given weights file is not safetensors or does not fit the backbone.
    """
    from torchmetrics.functional.image.lpips import _NoTrainLpips

    source = _lpips_backbone_source(net, weights_path)
    if source.suffix != ".safetensors":
        # In the hub cache: torchvision loads it from there (no download).
        return _NoTrainLpips(net=net).eval()

    from safetensors.torch import load_file

    state = load_file(str(source))
    model = _NoTrainLpips(net=net, pnet_rand=True)
    # LPIPS keys look like "slice2.3.weight" for torchvision's "features.3.weight".
    wanted = {}
    for key in model.net.state_dict():
        _, rest = key.split(".", 1)
        name = f"features.{rest}"
        if name not in state and rest in state:
            name = rest
        if name not in state:
            raise CheckpointError(f"{source} has no tensor {name!r} for the LPIPS {net} backbone")
        wanted[key] = state[name]
    try:
        model.net.load_state_dict(wanted, strict=True)
    except RuntimeError as err:
        raise CheckpointError(f"{source} does not fit the LPIPS {net} backbone: {err}") from err
    return model.eval()


def lpips(
    pred: Tensor,
    target: Tensor,
    *,
    net: LpipsNet = "alex",
    weights_path: str | os.PathLike[str] | None = None,
    network: nn.Module | None = None,
) -> Tensor:
    """LPIPS distance of each image pair (lower is more similar).

    Args:
        pred: images in [0, 1].
        target: images in [0, 1], same shape.
        net: backbone when ``network`` is not given.
        weights_path: backbone weights, see :func:`lpips_network`.
        network: a prebuilt :func:`lpips_network` (saves rebuilding it for every batch).

    Returns:
        LPIPS per image.

    Shape:
        ``(B, 3, H, W), (B, 3, H, W) -> (B,)``.
    """
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[1] != 3:
        raise ValueError(
            f"expected two (B, 3, H, W) batches, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if network is None:
        network = lpips_network(net, weights_path)
    network = network.to(pred.device)
    with torch.no_grad():
        out = network(pred.float().clamp(0, 1), target.float().clamp(0, 1), normalize=True)
    return out.reshape(pred.shape[0])
