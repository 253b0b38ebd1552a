"""Per-image metrics against skimage / numpy references."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

from restore.eval.metrics import (
    MetricTracker,
    colorfulness,
    hole_ratio,
    hole_ratio_buckets,
    masked_l1,
    masked_psnr,
    ms_ssim,
    psnr,
    ssim,
    summarize,
)

# Tolerances: float32 torchmetrics vs float64 skimage.
PSNR_TOL_DB = 1e-3
SSIM_TOL = 1e-5


def _pair(b: int = 3, h: int = 40, w: int = 36, noise: float = 0.1, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    target = torch.rand(b, 3, h, w, generator=gen)
    scales = torch.linspace(0.5, 2.0, b).view(b, 1, 1, 1)
    pred = (target + noise * scales * torch.randn(b, 3, h, w, generator=gen)).clamp(0, 1)
    return pred, target


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).double().numpy()


def test_psnr_per_image_matches_skimage():
    pred, target = _pair()
    ours = psnr(pred, target)
    assert ours.shape == (3,)
    for b in range(3):
        ref = sk_psnr(_hwc(target[b]), _hwc(pred[b]), data_range=1.0)
        assert ours[b].item() == pytest.approx(ref, abs=PSNR_TOL_DB)
    assert len(set(ours.tolist())) == 3  # per image, not pooled over the batch


def test_psnr_y_channel_and_shave_match_skimage():
    pred, target = _pair()
    ours = psnr(pred, target, y_channel=True, shave=4)
    for b in range(3):
        yp = rgb2ycbcr(_hwc(pred[b]))[4:-4, 4:-4, 0]
        yt = rgb2ycbcr(_hwc(target[b]))[4:-4, 4:-4, 0]
        assert ours[b].item() == pytest.approx(sk_psnr(yt, yp, data_range=255), abs=PSNR_TOL_DB)


def test_psnr_identical_is_inf_and_data_range():
    x = torch.rand(1, 3, 8, 8)
    assert math.isinf(psnr(x, x).item())
    assert psnr(x * 255 + 10, x * 255, data_range=255.0).item() == pytest.approx(
        20 * math.log10(25.5), abs=1e-3
    )


def test_ssim_matches_skimage():
    pred, target = _pair()
    ours = ssim(pred, target)
    for b in range(3):
        ref = sk_ssim(
            _hwc(target[b]),
            _hwc(pred[b]),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        assert ours[b].item() == pytest.approx(ref, abs=SSIM_TOL)


def test_ssim_float64_matches_skimage_tightly():
    pred, target = _pair(b=1)
    ours = ssim(pred.double(), target.double())
    assert ours.dtype == torch.float64
    ref = sk_ssim(
        _hwc(target[0]),
        _hwc(pred[0]),
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
        channel_axis=-1,
    )
    assert ours[0].item() == pytest.approx(ref, abs=1e-9)


def test_ssim_y_channel_shave_matches_skimage():
    pred, target = _pair()
    ours = ssim(pred, target, y_channel=True, shave=3)
    for b in range(3):
        yp = rgb2ycbcr(_hwc(pred[b]))[3:-3, 3:-3, 0]
        yt = rgb2ycbcr(_hwc(target[b]))[3:-3, 3:-3, 0]
        ref = sk_ssim(
            yt, yp, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
        )
        assert ours[b].item() == pytest.approx(ref, abs=SSIM_TOL)


def test_grey_images_with_y_channel_are_scored_as_is():
    pred, target = _pair()
    g_pred, g_target = pred[:, :1], target[:, :1]
    torch.testing.assert_close(psnr(g_pred, g_target, y_channel=True), psnr(g_pred, g_target))


def test_ms_ssim():
    pred, target = _pair(b=2, h=176, w=176, noise=0.05)
    out = ms_ssim(pred, target)
    assert out.shape == (2,)
    assert (out > 0).all() and (out < 1).all() and out[0] > out[1]
    assert ms_ssim(target, target).tolist() == pytest.approx([1.0, 1.0], abs=1e-5)
    with pytest.raises(ValueError, match="160"):
        ms_ssim(pred[..., :64, :64], target[..., :64, :64])


def test_masked_metrics_match_numpy():
    pred, target = _pair(b=2)
    mask = torch.zeros(2, 1, 40, 36)
    mask[0, :, 5:20, 3:30] = 1
    mask[1, :, 30:, :] = 1
    hole = mask.bool().expand(-1, 3, -1, -1)
    for b in range(2):
        err = (pred[b][hole[b]] - target[b][hole[b]]).double()
        mse = (err**2).mean().item()
        assert masked_psnr(pred, target, mask)[b].item() == pytest.approx(
            10 * math.log10(1 / mse), abs=PSNR_TOL_DB
        )
        assert masked_l1(pred, target, mask)[b].item() == pytest.approx(
            err.abs().mean().item(), rel=1e-5
        )
    empty = torch.zeros(2, 1, 40, 36)
    assert torch.isnan(masked_psnr(pred, target, empty)).all()
    assert torch.isnan(masked_l1(pred, target, empty)).all()
    with pytest.raises(ValueError, match="mask"):
        masked_l1(pred, target, mask[:, :, :10])


def test_hole_ratio_buckets():
    masks = torch.zeros(5, 1, 10, 10)
    masks[1, :, :1, :5] = 1  # 5 %
    masks[2, :, :2] = 1  # 20 %: lower edge belongs to the upper bucket
    masks[3, :, :6] = 1  # 60 %: the last edge is inclusive
    masks[4, :, :7] = 1  # 70 %: outside
    assert hole_ratio(masks).tolist() == pytest.approx([0.0, 0.05, 0.2, 0.6, 0.7])
    assert hole_ratio_buckets(masks) == ["0-10%", "0-10%", "20-30%", "50-60%", None]
    assert hole_ratio_buckets(masks, edges=(0.0, 0.5, 1.0)) == [
        "0-50%",
        "0-50%",
        "0-50%",
        "50-100%",
        "50-100%",
    ]
    with pytest.raises(ValueError, match="increasing"):
        hole_ratio_buckets(masks, edges=(0.5, 0.1))


def test_colorfulness():
    grey = torch.full((1, 3, 8, 8), 0.5)
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 1.0
    out = colorfulness(torch.cat([grey, red]))
    # red: rg = 255, yb = 127.5, no spread: 0.3 * sqrt(255^2 + 127.5^2)
    assert out.tolist() == pytest.approx([0.0, 0.3 * math.hypot(255, 127.5)], abs=1e-3)
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    rgb = x.double().numpy() * 255
    rg = rgb[:, 0] - rgb[:, 1]
    yb = 0.5 * (rgb[:, 0] + rgb[:, 1]) - rgb[:, 2]
    ref = np.hypot(rg.std(axis=(1, 2)), yb.std(axis=(1, 2))) + 0.3 * np.hypot(
        rg.mean(axis=(1, 2)), yb.mean(axis=(1, 2))
    )
    np.testing.assert_allclose(colorfulness(x).numpy(), ref, rtol=1e-5)


def test_tracker_and_summarize():
    tracker = MetricTracker()
    tracker.add(["a", "b"], psnr=torch.tensor([30.0, 32.0]), ssim=[0.8, 0.9])
    tracker.add(["c"], psnr=torch.tensor([float("nan")]), ssim=[0.7])
    summary = tracker.summary()
    assert summary["count"] == 3
    assert summary["mean"]["psnr"] == pytest.approx(31.0)  # NaN skipped
    assert summary["mean"]["ssim"] == pytest.approx(0.8)
    assert summary["rows"][0] == {"name": "a", "psnr": 30.0, "ssim": pytest.approx(0.8)}
    assert summarize(summary["rows"]) == summary
    json.dumps(summarize([{"name": "x", "psnr": 1.0}]))
    with pytest.raises(ValueError, match="values"):
        tracker.add(["a"], psnr=torch.tensor([1.0, 2.0]))


def test_input_checks():
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="same shape"):
        psnr(x, x[..., :8])
    with pytest.raises(ValueError, match="B, C, H, W"):
        ssim(x[0], x[0])
    with pytest.raises(ValueError, match="shave"):
        psnr(x, x, shave=8)
    with pytest.raises(ValueError, match="11 x 11"):
        ssim(x[..., :8, :8], x[..., :8, :8])
    with pytest.raises(ValueError, match="y_channel"):
        psnr(x[:, :2], x[:, :2], y_channel=True)
