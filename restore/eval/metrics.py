"""Per-image image-quality metrics, built on torchmetrics' functional API.

Papers average per-image scores, so every metric here returns one value per image, shape ``(B,)``
(torchmetrics' default PSNR pools the MSE over the whole batch instead). SSIM matches
``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)``: torchmetrics' full SSIM map is cropped by 5 pixels (the window
radius) before averaging, exactly the valid region skimage averages.

Options shared by PSNR / SSIM / MS-SSIM:

- ``y_channel``: score the BT.601 studio-range Y channel (:func:`restore.data.color.rgb_to_y_studio`)
  as SR papers do. One-channel (grey) images are scored as they are, like MATLAB scripts that
  call ``rgb2ycbcr`` only when ``size(im, 3) == 3`` (Set14's grey image: about 1.3 dB lower).
- ``shave``: drop that many pixels from each border first (SR papers shave ``scale``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor
from torchmetrics.functional.image import (
    multiscale_structural_similarity_index_measure,
    peak_signal_noise_ratio,
    structural_similarity_index_measure,
)

from restore.data.color import rgb_to_y_studio

__all__ = [
    "DEFAULT_HOLE_EDGES",
    "MetricTracker",
    "colorfulness",
    "hole_ratio",
    "hole_ratio_buckets",
    "masked_l1",
    "masked_psnr",
    "ms_ssim",
    "psnr",
    "ssim",
    "summarize",
]

DEFAULT_HOLE_EDGES: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
_SSIM_SIGMA = 1.5
_SSIM_RADIUS = int(3.5 * _SSIM_SIGMA + 0.5)  # 5: torchmetrics' and skimage's window radius


def _check_pair(pred: Tensor, target: Tensor) -> None:
    if not (torch.is_tensor(pred) and torch.is_tensor(target)):
        raise ValueError("pred and target must be tensors")
    if pred.shape != target.shape:
        raise ValueError(
            f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if pred.ndim != 4:
        raise ValueError(f"expected (B, C, H, W) images, got shape {tuple(pred.shape)}")


def _prepare(pred: Tensor, target: Tensor, y_channel: bool, shave: int) -> tuple[Tensor, Tensor]:
    """Check, convert to float32, optionally take Y, and shave the borders."""
    _check_pair(pred, target)
    if shave < 0:
        raise ValueError(f"shave must be >= 0, got {shave}")
    # float32 unless the caller asks for float64 (20x slower for SSIM, agrees with skimage to 1e-9).
    dtype = torch.float64 if torch.float64 in (pred.dtype, target.dtype) else torch.float32
    pred = pred.to(dtype)
    target = target.to(dtype)
    if y_channel and pred.shape[1] == 3:
        pred, target = rgb_to_y_studio(pred), rgb_to_y_studio(target)
    elif y_channel and pred.shape[1] != 1:
        raise ValueError(
            f"y_channel needs 3-channel (or 1-channel grey) images, got {pred.shape[1]}"
        )
    if shave:
        if min(pred.shape[-2:]) <= 2 * shave:
            raise ValueError(f"shave={shave} leaves nothing of a {tuple(pred.shape[-2:])} image")
        pred = pred[..., shave:-shave, shave:-shave]
        target = target[..., shave:-shave, shave:-shave]
    return pred, target


def psnr(
    pred: Tensor,
    target: Tensor,
    *,
    y_channel: bool = False,
    shave: int = 0,
    data_range: float = 1.0,
) -> Tensor:
    """Peak signal-to-noise ratio of each image, in dB.

    Args:
        pred: restored images in [0, 1] (or ``[0, data_range]``).
        target: ground-truth images, same shape.
        y_channel: score the studio-range Y channel only (needs 3 channels).
        shave: pixels dropped from each border before scoring.
        data_range: the value range of the images.

    Returns:
        PSNR per image; ``inf`` for identical images.

    Shape:
        ``(B, C, H, W), (B, C, H, W) -> (B,)``.

    Example:
        >>> x = torch.full((2, 3, 8, 8), 0.5)
        >>> psnr(x + 0.1, x)
        tensor([20., 20.])
    """
    pred, target = _prepare(pred, target, y_channel, shave)
    return peak_signal_noise_ratio(
        pred, target, data_range=data_range, reduction="none", dim=(1, 2, 3)
    )


def ssim(
    pred: Tensor,
    target: Tensor,
    *,
    y_channel: bool = False,
    shave: int = 0,
    data_range: float = 1.0,
) -> Tensor:
    """Structural similarity of each image, as skimage computes it.

    Gaussian window (sigma 1.5, 11 x 11), K1 = 0.01, K2 = 0.03, population covariance; the SSIM map
    is averaged over the pixels whose window lies inside the image (5 px cropped from each side),
    and over channels. Matches ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=...)`` to about 1e-5 in float32 (the
    default for non-float64 input) and 1e-9 in float64.

    Args:
        pred: restored images.
        target: ground-truth images, same shape.
        y_channel: score the studio-range Y channel only.
        shave: pixels dropped from each border before scoring.
        data_range: the value range of the images.

    Returns:
        SSIM per image, in [-1, 1].

    Shape:
        ``(B, C, H, W), (B, C, H, W) -> (B,)``; H and W (after shaving) at least 11.
    """
    pred, target = _prepare(pred, target, y_channel, shave)
    if min(pred.shape[-2:]) < 2 * _SSIM_RADIUS + 1:
        raise ValueError(f"SSIM needs images of at least 11 x 11, got {tuple(pred.shape[-2:])}")
    _, full = structural_similarity_index_measure(
        pred,
        target,
        gaussian_kernel=True,
        sigma=_SSIM_SIGMA,
        data_range=data_range,
        reduction="none",
        return_full_image=True,
    )
    r = _SSIM_RADIUS
    return full[..., r:-r, r:-r].mean(dim=(1, 2, 3))


def ms_ssim(
    pred: Tensor,
    target: Tensor,
    *,
    y_channel: bool = False,
    shave: int = 0,
    data_range: float = 1.0,
) -> Tensor:
    """Multi-scale SSIM of each image (torchmetrics, 5 scales, the standard betas).

    Args:
        pred: restored images.
        target: ground-truth images, same shape.
        y_channel: score the studio-range Y channel only.
        shave: pixels dropped from each border before scoring.
        data_range: the value range of the images.

    Returns:
        MS-SSIM per image.

    Shape:
        ``(B, C, H, W), (B, C, H, W) -> (B,)``; H and W (after shaving) larger than 160.
    """
    pred, target = _prepare(pred, target, y_channel, shave)
    if min(pred.shape[-2:]) <= 160:
        raise ValueError(
            f"MS-SSIM with 5 scales needs images larger than 160 px, got {tuple(pred.shape[-2:])}"
        )
    return multiscale_structural_similarity_index_measure(
        pred,
        target,
        gaussian_kernel=True,
        sigma=_SSIM_SIGMA,
        data_range=data_range,
        reduction="none",
    )


def _check_mask(mask: Tensor, images: Tensor) -> Tensor:
    if (
        mask.ndim != 4
        or mask.shape[1] != 1
        or mask.shape[0] != images.shape[0]
        or mask.shape[-2:] != images.shape[-2:]
    ):
        raise ValueError(
            f"mask must be (B, 1, H, W) matching images {tuple(images.shape)}, got {tuple(mask.shape)}"
        )
    return mask > 0.5


def masked_psnr(pred: Tensor, target: Tensor, mask: Tensor, *, data_range: float = 1.0) -> Tensor:
    """PSNR over the hole pixels only (``mask == 1``), per image.

    Args:
        pred: inpainted images.
        target: ground-truth images.
        mask: 1 marks a missing (hole) pixel, 0 a known one.
        data_range: the value range of the images.

    Returns:
        PSNR per image over the hole's pixels and all channels; ``nan`` where the mask is empty.

    Shape:
        ``(B, C, H, W), (B, C, H, W), (B, 1, H, W) -> (B,)``.
    """
    _check_pair(pred, target)
    hole = _check_mask(mask, pred)
    values = []
    for b in range(pred.shape[0]):
        sel = hole[b, 0]
        if not bool(sel.any()):
            values.append(torch.tensor(math.nan, device=pred.device))
            continue
        values.append(
            peak_signal_noise_ratio(
                pred[b][:, sel].float(), target[b][:, sel].float(), data_range=data_range
            )
        )
    return torch.stack(values)


def masked_l1(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean absolute error over the hole pixels only (``mask == 1``), per image.

    Args:
        pred: inpainted images.
        target: ground-truth images.
        mask: 1 marks a missing (hole) pixel, 0 a known one.

    Returns:
        L1 per image averaged over the hole's pixels and channels; ``nan`` where the mask is empty.

    Shape:
        ``(B, C, H, W), (B, C, H, W), (B, 1, H, W) -> (B,)``.
    """
    _check_pair(pred, target)
    hole = _check_mask(mask, pred).to(torch.float32)
    err = (pred.float() - target.float()).abs() * hole
    count = hole.sum(dim=(1, 2, 3)) * pred.shape[1]
    return err.sum(dim=(1, 2, 3)) / count  # 0 / 0 = nan for an empty mask


def hole_ratio(masks: Tensor) -> Tensor:
    """Fraction of missing pixels of each mask.

    Args:
        masks: 1 marks a missing pixel.

    Returns:
        Ratios in [0, 1], float64 so that e.g. 60 of 100 pixels is exactly ``0.6``.

    Shape:
        ``(B, 1, H, W) -> (B,)``.
    """
    if masks.ndim != 4 or masks.shape[1] != 1:
        raise ValueError(f"masks must be (B, 1, H, W), got {tuple(masks.shape)}")
    holes = (masks > 0.5).sum(dim=(1, 2, 3)).to(torch.float64)
    return holes / float(masks.shape[-2] * masks.shape[-1])


def _bucket_label(low: float, high: float) -> str:
    return f"{round(low * 100)}-{round(high * 100)}%"


def hole_ratio_buckets(
    masks: Tensor, edges: Sequence[float] = DEFAULT_HOLE_EDGES
) -> list[str | None]:
    """Bucket each mask by its hole ratio, as in the partial-convolution paper's protocol.

    Bucket ``i`` holds ratios in ``[edges[i], edges[i + 1])``; the last bucket also takes its
    upper edge. Ratios outside ``[edges[0], edges[-1]]`` get ``None``.

    Args:
        masks: 1 marks a missing pixel.
        edges: increasing bucket edges in [0, 1].

    Returns:
        One label per mask, e.g. ``"10-20%"``, or ``None``.

    Shape:
        ``(B, 1, H, W) -> list of B labels``.

    Example:
        >>> m = torch.zeros(1, 1, 10, 10); m[..., :3, :5] = 1
        >>> hole_ratio_buckets(m)
        ['10-20%']
    """
    edges = [float(e) for e in edges]
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must be increasing and at least two, got {edges}")
    labels: list[str | None] = []
    for r in hole_ratio(masks).tolist():
        label = None
        for i, (low, high) in enumerate(zip(edges, edges[1:])):
            last = i == len(edges) - 2
            if low <= r < high or (last and r == high):
                label = _bucket_label(low, high)
                break
        labels.append(label)
    return labels


def colorfulness(x: Tensor) -> Tensor:
    """Hasler and Suesstrunk's colourfulness of each image (on the 0..255 scale).

    ``rg = R - G``, ``yb = (R + G) / 2 - B``; the score is
    ``sqrt(std_rg^2 + std_yb^2) + 0.3 * sqrt(mean_rg^2 + mean_yb^2)``. A grey image scores 0;
    natural photos score roughly 20 to 110.

    Args:
        x: RGB images in [0, 1].

    Returns:
        Colourfulness per image.

    Shape:
        ``(B, 3, H, W) -> (B,)``.
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"colorfulness expects (B, 3, H, W), got {tuple(x.shape)}")
    rgb = x.double() * 255.0
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False))
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return (std + 0.3 * mean).to(torch.float32)


def summarize(rows: Sequence[Mapping[str, object]]) -> dict[str, object]:
    """Per-image rows plus the mean of every numeric column (NaNs skipped), ready for JSON.

    Args:
        rows: one mapping per image, e.g. ``{"name": "001.png", "psnr": 28.1, "ssim": 0.81}``.

    Returns:
        ``{"rows": [...], "mean": {column: mean}, "count": len(rows)}``.
    """
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            columns.setdefault(key, []).append(float(value))
    mean = {}
    for key, values in columns.items():
        finite = [v for v in values if not math.isnan(v)]
        mean[key] = sum(finite) / len(finite) if finite else math.nan
    return {"rows": [dict(r) for r in rows], "mean": mean, "count": len(rows)}


class MetricTracker:
    """Collects per-image metric rows over batches; :meth:`summary` gives rows and means.

    Example:
        >>> t = MetricTracker()
        >>> t.add(["a.png", "b.png"], psnr=torch.tensor([30.0, 32.0]))
        >>> t.summary()["mean"]["psnr"]
        31.0
    """

    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(self, names: Sequence[str], **metrics: Tensor | Sequence[float]) -> None:
        """Add one row per name; each metric holds one value per name.

        Args:
            names: image names, one per row.
            **metrics: metric name -> ``(B,)`` tensor or sequence of floats.
        """
        columns = {}
        for key, values in metrics.items():
            listed = values.detach().cpu().tolist() if torch.is_tensor(values) else list(values)
            if len(listed) != len(names):
                raise ValueError(f"metric {key!r} has {len(listed)} values for {len(names)} names")
            columns[key] = listed
        for i, name in enumerate(names):
            row: dict[str, object] = {"name": name}
            row.update({key: float(values[i]) for key, values in columns.items()})
            self.rows.append(row)

    def summary(self) -> dict[str, object]:
        """Rows and column means, see :func:`summarize`."""
        return summarize(self.rows)
