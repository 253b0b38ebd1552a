"""LPIPS (Zhang et al. 2018): torchmetrics' network, its ImageNet backbone from local files only.

The backbone (torchvision's AlexNet / VGG16 / SqueezeNet weights) comes from the torch hub cache,
or from a ``.safetensors`` file of the torchvision state dict; nothing is downloaded, and a
missing file is an error that names it, its URL and where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from restore.errors import CheckpointError, ModelNotFoundError
from restore.eval.weights import hub_checkpoints, local_weights_file

__all__ = ["LPIPS_WEIGHTS_ENV", "LpipsNet", "lpips", "lpips_network"]

LPIPS_WEIGHTS_ENV = "RESTORE_LPIPS_WEIGHTS"

LpipsNet = Literal["alex", "vgg", "squeeze"]
# LPIPS backbone -> torchvision weights URL (the hub cache file is its last path component).
_LPIPS_BACKBONE_URLS: dict[str, str] = {
    "alex": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "vgg": "https://download.pytorch.org/models/vgg16-397923af.pth",
    "squeeze": "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth",
}


def _lpips_backbone_source(net: str, weights_path: str | os.PathLike[str] | None) -> Path:
    if net not in _LPIPS_BACKBONE_URLS:
        raise ValueError(f"net must be one of {sorted(_LPIPS_BACKBONE_URLS)}, got {net!r}")
    url = _LPIPS_BACKBONE_URLS[net]
    cached = hub_checkpoints() / url.rsplit("/", 1)[-1]
    if weights_path is not None:
        path = local_weights_file(weights_path, "weights_path")
    elif os.environ.get(LPIPS_WEIGHTS_ENV):
        path = local_weights_file(os.environ[LPIPS_WEIGHTS_ENV], f"${LPIPS_WEIGHTS_ENV}")
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
