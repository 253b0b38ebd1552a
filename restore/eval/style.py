"""Style transfer evaluation: KID to the style domain in an offline feature space.

A photo -> painting model is judged by how close its outputs on held-out photos come to the
painting domain, beside how close the photos themselves are (where the model starts) and a trivial
baseline, per-channel colour-statistics transfer (what colour alone buys). Distances are KID
(100 subsets of 100) in :class:`StyleFeatures` space: colour statistics and Gram matrices of a
fixed, seeded random conv net, so no downloaded weights are needed. Lower is closer to the style.

- :func:`style_kid_protocol`: KID(style, photos) and KID(style, outputs) for one model function.
- :func:`style_protocol`: what ``restore eval`` runs on a folder with ``content/`` and ``style/``:
  the model beside the photos and the colour-statistics baseline, as a JSON-ready result.

Example:
    >>> r = style_protocol(model.run_tensor, "../shared/data/style")  # doctest: +SKIP
    >>> r["mean"]["model"]["kid"] < r["mean"]["photos"]["kid"]  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from restore.data.datasets import list_images
from restore.data.io import read_image, to_tensor
from restore.eval.fid import kid_from_features

__all__ = [
    "StyleFeatures",
    "colour_stats_baseline",
    "load_resized",
    "random_crops",
    "style_kid_protocol",
    "style_protocol",
]

ImageFn = Callable[[Tensor], Tensor]
PathLike = str | os.PathLike[str]


class StyleFeatures(nn.Module):
    """Offline "style" features: colour statistics plus feature correlations of a seeded random net.

    Per image: the mean and standard deviation of R, G, B and of saturation (8 numbers), and the
    upper triangles of the channel correlation matrices (Gram matrices of centred, unit-norm
    channels) after each of three ReLU conv layers with fixed random weights (seed ``seed``:
    3 -> 32 channels 3x3, 32 -> 64 3x3 stride 2, 64 -> 64 3x3 stride 2). These are Gatys-style
    texture statistics without downloaded weights (random shallow nets are known to capture
    texture, Ustyuzhaninov et al. 2017); normalising the Grams keeps plain brightness and
    contrast from dominating them.

    Shape:
        (B, 3, H, W) in [0, 1] -> (B, num_features), ``num_features = 8 + 528 + 2080 + 2080``.
    """

    def __init__(self, seed: int = 0, channels: tuple[int, ...] = (32, 64, 64)) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        chans = (3, *channels)
        self.convs = nn.ModuleList()
        for i in range(len(channels)):
            conv = nn.Conv2d(chans[i], chans[i + 1], 3, 1 if i == 0 else 2, 1, bias=False)
            with torch.no_grad():
                fan_in = conv.weight[0].numel()
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) / fan_in**0.5)
            self.convs.append(conv)
        self.requires_grad_(False)
        self.num_features = 8 + sum(c * (c + 1) // 2 for c in channels)

    @staticmethod
    def _correlations(h: Tensor) -> Tensor:
        f = h.flatten(2)
        f = f - f.mean(-1, keepdim=True)
        f = f / (f.norm(dim=-1, keepdim=True) + 1e-6)
        gram = f @ f.transpose(1, 2)
        iu = torch.triu_indices(gram.shape[1], gram.shape[1], device=gram.device)
        return gram[:, iu[0], iu[1]]

    def forward(self, x: Tensor) -> Tensor:
        x = x.float()
        sat = x.amax(1, keepdim=True) - x.amin(1, keepdim=True)
        out = [torch.cat([x.mean((2, 3)), x.std((2, 3)), sat.mean((2, 3)), sat.std((2, 3))], 1)]
        h = x - 0.5
        for conv in self.convs:
            h = F.relu(conv(h))
            out.append(self._correlations(h))
        return torch.cat(out, 1).double()


def load_resized(path: PathLike, short_side: int) -> Tensor:
    """An image as (1, 3, h, w) in [0, 1], its shorter side at most ``short_side`` (bilinear,
    antialiased; smaller images are kept as they are)."""
    x = to_tensor(read_image(path))
    h, w = x.shape[-2:]
    s = short_side / min(h, w)
    if s < 1:
        size = (max(1, round(h * s)), max(1, round(w * s)))
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x.clamp(0, 1)


def random_crops(x: Tensor, n: int, size: int, g: torch.Generator) -> Tensor:
    """``n`` random ``size``-pixel squares of a (1, C, H, W) image (smaller: the image's side),
    positions drawn from ``g``. Shape: (n, C, size, size)."""
    h, w = x.shape[-2:]
    size = min(size, h, w)
    tops = torch.randint(h - size + 1, (n,), generator=g).tolist()
    lefts = torch.randint(w - size + 1, (n,), generator=g).tolist()
    return torch.cat([x[..., t : t + size, le : le + size] for t, le in zip(tops, lefts)])


def colour_stats_baseline(style_dir: PathLike, short_side: int = 256) -> ImageFn:
    """A function that gives photos the style images' average per-channel RGB mean and std.

    Args:
        style_dir: folder of style images (read at a ``short_side`` shorter side).

    Returns:
        ``(B, 3, H, W) -> (B, 3, H, W)`` in [0, 1].
    """
    paths = list_images(style_dir)
    if not paths:
        raise FileNotFoundError(f"no images in {str(style_dir)!r}")
    means, stds = [], []
    for p in paths:
        x = load_resized(p, short_side)
        means.append(x.mean((0, 2, 3)))
        stds.append(x.std((0, 2, 3)))
    mu = torch.stack(means).mean(0).view(1, 3, 1, 1)
    sd = torch.stack(stds).mean(0).view(1, 3, 1, 1)

    def run(x: Tensor) -> Tensor:
        m, s = x.mean((2, 3), keepdim=True), x.std((2, 3), keepdim=True).clamp_min(1e-3)
        return ((x - m) / s * sd.to(x) + mu.to(x)).clamp(0, 1)

    return run


def _kids(
    runs: Mapping[str, ImageFn],
    content_dir: PathLike,
    style_dir: PathLike,
    short_side: int,
    crop: int,
    crops_per_image: int,
    seed: int,
    feature: nn.Module,
) -> tuple[dict[str, tuple[float, float]], int, int]:
    """KID (mean, std) to the style images of the photos (``"photos"``) and of each run's outputs."""
    content_paths, style_paths = list_images(content_dir), list_images(style_dir)
    if not content_paths or not style_paths:
        raise FileNotFoundError(f"need images in {str(content_dir)!r} and {str(style_dir)!r}")
    f_style: list[Tensor] = []
    feats: dict[str, list[Tensor]] = {"photos": [], **{k: [] for k in runs}}
    with torch.no_grad():
        for i, p in enumerate(style_paths):
            g = torch.Generator().manual_seed(seed * 1000 + i)
            f_style.append(
                feature(random_crops(load_resized(p, short_side), crops_per_image, crop, g))
            )
        for i, p in enumerate(content_paths):
            x = load_resized(p, short_side)
            outs = {"photos": x, **{k: fn(x).float().cpu().clamp(0, 1) for k, fn in runs.items()}}
            for k, y in outs.items():  # the same crop positions for a photo and its outputs
                g = torch.Generator().manual_seed(10_000 + seed * 1000 + i)
                feats[k].append(feature(random_crops(y, crops_per_image, crop, g)))
    fs = torch.cat(f_style)
    kids = {}
    for k, f in feats.items():
        mean, std = kid_from_features(fs, torch.cat(f), subsets=100, subset_size=100, seed=seed)
        kids[k] = (float(mean), float(std))
    return kids, len(content_paths), len(style_paths)


def _describe(short_side: int, crop: int, crops_per_image: int, seed: int) -> str:
    return (
        f"KID in StyleFeatures(seed=0) space (colour stats + channel correlations of a seeded "
        f"random 3-layer conv net); short side <= {short_side}, {crops_per_image} random {crop}px "
        f"crops per image (seed {seed}), 100 subsets of 100"
    )


def style_kid_protocol(
    run: ImageFn,
    content_dir: PathLike,
    style_dir: PathLike,
    *,
    short_side: int = 256,
    crop: int = 96,
    crops_per_image: int = 16,
    seed: int = 0,
    feature: nn.Module | None = None,
) -> dict[str, Any]:
    """KID(style, photos) and KID(style, outputs) in :class:`StyleFeatures` space.

    Every image (content and style) is resized so its shorter side is at most ``short_side``;
    the model runs on the whole resized content photo; ``crops_per_image`` random ``crop``-pixel
    squares (seeded) of each image make the samples. The same crop positions are used for a
    photo and its output.

    Args:
        run: the model, (1, 3, H, W) -> (1, 3, H', W') in [0, 1].
        content_dir: held-out photos (never trained on).
        style_dir: the style domain's images.
        feature: the feature space (default :class:`StyleFeatures` with seed 0).

    Returns:
        JSON-ready dict: ``kid_photos_style`` and ``kid_outputs_style`` (mean over 100 subsets),
        ``*_std``, the sample counts and the settings.

    Raises:
        FileNotFoundError: a folder without images.
    """
    feat = StyleFeatures(seed=0) if feature is None else feature
    kids, n_content, n_style = _kids(
        {"model": run}, content_dir, style_dir, short_side, crop, crops_per_image, seed, feat
    )
    return {
        "kid_photos_style": kids["photos"][0],
        "kid_photos_style_std": kids["photos"][1],
        "kid_outputs_style": kids["model"][0],
        "kid_outputs_style_std": kids["model"][1],
        "n_content": n_content,
        "n_style": n_style,
        "protocol": _describe(short_side, crop, crops_per_image, seed),
    }


def style_protocol(
    run: ImageFn, data_dir: PathLike, *, baseline: bool = True, **kwargs: Any
) -> dict[str, Any]:
    """The style protocol on ``data_dir/content`` and ``data_dir/style``, beside the baselines.

    Args:
        run: the model, (1, 3, H, W) -> (1, 3, H', W') in [0, 1].
        data_dir: a folder with ``content/`` (held-out photos) and ``style/`` (the style domain),
            like ``../shared/data/style``.
        baseline: also score :func:`colour_stats_baseline`.
        **kwargs: ``short_side``, ``crop``, ``crops_per_image``, ``seed`` of
            :func:`style_kid_protocol`.

    Returns:
        ``{"task": "style", "methods": ["model", "photos", "colour_stats"], "mean": method ->
        {"kid", "kid_std"}, "count"}`` plus the flat keys of :func:`style_kid_protocol` and
        ``kid_colour_baseline_style`` (``_std``).
    """
    opts = {"short_side": 256, "crop": 96, "crops_per_image": 16, "seed": 0, **kwargs}
    content, style = Path(data_dir) / "content", Path(data_dir) / "style"
    runs = {"model": run}
    if baseline:
        runs["colour_stats"] = colour_stats_baseline(style, opts["short_side"])
    kids, n_content, n_style = _kids(runs, content, style, feature=StyleFeatures(seed=0), **opts)
    methods = ["model", "photos", *(["colour_stats"] if baseline else [])]
    result: dict[str, Any] = {
        "task": "style",
        "methods": methods,
        "mean": {m: {"kid": kids[m][0], "kid_std": kids[m][1]} for m in methods},
        "count": n_content,
        "kid_photos_style": kids["photos"][0],
        "kid_photos_style_std": kids["photos"][1],
        "kid_outputs_style": kids["model"][0],
        "kid_outputs_style_std": kids["model"][1],
        "n_content": n_content,
        "n_style": n_style,
        "protocol": _describe(**opts),
    }
    if baseline:
        result["kid_colour_baseline_style"] = kids["colour_stats"][0]
        result["kid_colour_baseline_style_std"] = kids["colour_stats"][1]
    return result
