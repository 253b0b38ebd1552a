"""Protocols: the published bicubic numbers (done bar), skimage agreement, folders, inpaint, colorize."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim

from restore.data.resize import imresize, to_uint8
from restore.eval.baselines import bicubic_upscale
from restore.eval.protocols import (
    colorize_protocol,
    evaluate_folders,
    inpaint_protocol,
    sr_protocol,
)
from restore.eval.report import format_table

# (set, scale) -> published bicubic Y-PSNR (and SSIM for Set5 x4).
PUBLISHED = {("Set5", 4): 28.42, ("Set14", 4): 26.00, ("Set5", 2): 33.66, ("Set5", 3): 30.39}
PSNR_TOL = 0.02
SSIM_SET5_X4, SSIM_TOL = 0.8104, 0.002
# Per image, our float32 torchmetrics scores vs skimage in float64 on the same quantised Y.
SK_PSNR_TOL_DB, SK_SSIM_TOL = 1e-3, 5e-5

_cache: dict[tuple[str, int], dict] = {}


def _bicubic(shared_data, name: str, scale: int) -> dict:
    if (name, scale) not in _cache:
        _cache[(name, scale)] = sr_protocol(
            lambda lr: bicubic_upscale(lr, scale), shared_data / f"val/{name}/x{scale}", scale
        )
    return _cache[(name, scale)]


@pytest.mark.parametrize(("name", "scale"), list(PUBLISHED))
def test_bicubic_reproduces_published_numbers(shared_data, name, scale):
    """DONE BAR: bicubic with our imresize scores the published Y-PSNR (and SSIM)."""
    result = _bicubic(shared_data, name, scale)
    mean = result["mean"]["model"]
    assert result["count"] == len(list((shared_data / f"val/{name}/x{scale}/HR").glob("*.png")))
    assert mean["psnr"] == pytest.approx(PUBLISHED[(name, scale)], abs=PSNR_TOL)
    if (name, scale) == ("Set5", 4):
        assert mean["ssim"] == pytest.approx(SSIM_SET5_X4, abs=SSIM_TOL)


def _read(path) -> np.ndarray:
    return np.array(Image.open(path).convert("RGB"))


def test_sr_scores_agree_with_skimage_per_image(shared_data):
    result = _bicubic(shared_data, "Set5", 4)
    for row in result["rows"]:
        hr = _read(shared_data / "val/Set5/x4/HR" / row["name"])
        lr = (
            torch.from_numpy(_read(shared_data / "val/Set5/x4/LR" / row["name"]))
            .permute(2, 0, 1)[None]
            .float()
            / 255
        )
        sr = to_uint8(imresize(lr, scale=4))[0].permute(1, 2, 0).numpy()
        # MATLAB: rgb2ycbcr on uint8 gives uint8 Y; shave 4; PSNR / SSIM on the 0..255 scale.
        y_sr = np.floor(rgb2ycbcr(sr)[..., 0] + 0.5)[4:-4, 4:-4]
        y_hr = np.floor(rgb2ycbcr(hr)[..., 0] + 0.5)[4:-4, 4:-4]
        assert row["psnr"] == pytest.approx(sk_psnr(y_hr, y_sr, data_range=255), abs=SK_PSNR_TOL_DB)
        ref_ssim = sk_ssim(
            y_hr,
            y_sr,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=255,
        )
        assert row["ssim"] == pytest.approx(ref_ssim, abs=SK_SSIM_TOL)


def _save(x: torch.Tensor, path) -> None:
    Image.fromarray(to_uint8(x)[0].permute(1, 2, 0).numpy()).save(path)


def _small_set(tmp_path, shared_data, n: int = 3) -> list:
    """Colour 64 x 64 crops of Set5 HR images (fast to inpaint)."""
    folder = tmp_path / "gt"
    folder.mkdir()
    for path in sorted((shared_data / "val/Set5/x4/HR").glob("*.png"))[:n]:
        Image.fromarray(_read(path)[40:104, 40:104]).save(folder / path.name)
    return sorted(folder.iterdir())


def test_evaluate_folders_matches_metrics(tmp_path, shared_data):
    files = _small_set(tmp_path, shared_data)
    preds = tmp_path / "pred"
    preds.mkdir()
    for path in files[:2]:
        x = torch.from_numpy(_read(path)).permute(2, 0, 1)[None].float() / 255
        _save((x + 0.05).clamp(0, 1), preds / path.name)
    result = evaluate_folders(preds, tmp_path / "gt", y_channel=False, shave=0)
    assert [r["name"] for r in result["rows"]] == [files[0].name, files[1].name]
    assert result["missing"] == [files[2].name]
    for row in result["rows"]:
        gt, pred = _read(files[0].parent / row["name"]), _read(preds / row["name"])
        assert row["psnr"] == pytest.approx(sk_psnr(gt, pred, data_range=255), abs=SK_PSNR_TOL_DB)
    json.dumps(result)
    assert "psnr" in format_table(result)
    with pytest.raises(FileNotFoundError):
        evaluate_folders(tmp_path / "nope", tmp_path / "gt")


def _masks(name: str, image: torch.Tensor) -> torch.Tensor:
    """Deterministic rectangles: 15 % of the image for the first file, 35 % for the others."""
    h, w = image.shape[-2:]
    mask = torch.zeros(1, 1, h, w)
    rows = round(h * (0.15 if name.startswith("001") else 0.35))
    mask[..., 10 : 10 + rows, :] = 1
    return mask


def test_inpaint_protocol(tmp_path, shared_data):
    _small_set(tmp_path, shared_data)

    def blur_fill(images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        mean = images.sum(dim=(2, 3), keepdim=True) / (1 - masks).sum(dim=(2, 3), keepdim=True)
        return images * (1 - masks) + mean * masks

    result = inpaint_protocol(blur_fill, tmp_path / "gt", _masks)
    assert result["methods"] == ["model", "telea", "navier_stokes", "biharmonic"]
    assert result["count"] == 3 and len(result["rows"]) == 12
    assert set(result["buckets"]) == {"10-20%", "30-40%"}
    assert result["buckets"]["30-40%"]["telea"]["count"] == 2
    for row in result["rows"]:
        assert 0 < row["hole_l1"] < 1 and row["psnr"] > row["hole_psnr"]
    json.dumps(result)
    table = format_table(result)
    assert "biharmonic" in table and "by hole ratio" in table
    only = inpaint_protocol(None, tmp_path / "gt", _masks, limit=1)
    assert only["methods"] == ["telea", "navier_stokes", "biharmonic"] and only["count"] == 1
    with pytest.raises(ValueError, match="masks_fn"):
        inpaint_protocol(None, tmp_path / "gt", lambda name, img: torch.zeros(1, 1, 4, 4), limit=1)


def test_colorize_protocol(tmp_path, shared_data):
    files = _small_set(tmp_path, shared_data, n=2)
    Image.fromarray(_read(files[0])[..., 0]).save(tmp_path / "gt" / "grey.png")  # skipped
    result = colorize_protocol(lambda grey: grey * 0.9 + 0.05, tmp_path / "gt")
    assert result["skipped"] == ["grey.png"]
    base = result["mean"]["grayscale"]
    assert base["colorfulness"] == pytest.approx(0.0, abs=1e-3)
    assert base["colorfulness_ratio"] == pytest.approx(0.0, abs=1e-4)
    assert base["colorfulness_gap"] == pytest.approx(base["colorfulness_gt"], rel=1e-4)
    assert result["mean"]["model"]["psnr"] != base["psnr"]
    json.dumps(result)
    assert "colorfulness" in format_table(result)


def test_sr_protocol_checks_output_shape(shared_data):
    with pytest.raises(ValueError, match="expected"):
        sr_protocol(lambda lr: lr, shared_data / "val/Set5/x4", 4)


def test_sr_protocol_on_a_plain_folder_makes_matlab_lr(shared_data):
    # HR only: LR made by MATLAB's uint8 imresize (symmetric boundary) instead of the shipped LR/
    # (an older MATLAB's replicate boundary): the bicubic baseline lands within 0.01 dB
    plain = sr_protocol(lambda lr: bicubic_upscale(lr, 4), shared_data / "val/Set5/x4/HR", 4)
    ref = _bicubic(shared_data, "Set5", 4)
    assert plain["settings"]["lr"].startswith("MATLAB bicubic")
    assert plain["mean"]["model"]["psnr"] == pytest.approx(ref["mean"]["model"]["psnr"], abs=0.01)
    # sharpness: bicubic is blurrier than HR (Set5 x4: 0.69)
    assert 0.6 < ref["mean"]["model"]["grad_ratio"] < 0.75
    assert plain["mean"]["model"]["grad_ratio"] == pytest.approx(
        ref["mean"]["model"]["grad_ratio"], abs=0.01
    )
