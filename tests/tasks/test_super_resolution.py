"""super_resolution task: batches, a tiny end-to-end run, tiling, the loader, init weights."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import restore
from restore.config import load_config
from restore.core.checkpoint import load_tensors
from restore.core.srnet import SRNet
from restore.core.tiling import tiled_apply
from restore.errors import CheckpointError, ConfigError
from restore.tasks import create_task
from restore.tasks.super_resolution import augment_dihedral, bicubic_lr
from restore.train import train

TINY_SR = """
name: tiny_sr
task: super_resolution
task_args: {{scale: {scale}, degradation: {degradation}{init}}}
model:
  generator: srnet
  generator_args: {{scale: {scale}, channels: 8, n_blocks: 1}}
  discriminator: patch
  discriminator_args: {{in_channels: 3, base_channels: 8, n_layers: 2, norm: none, spectral_norm: true}}
optim: {{lr_g: 1.0e-3, lr_d: 1.0e-3, betas: [0.9, 0.999]}}
loss: {{adversarial: ragan, adv_weight: {adv}, pixel: l1, pixel_weight: 1.0}}
data: {{train: {train}, val: {val}, patch_size: {patch}, batch_size: 2, workers: 0, cache: true}}
train: {{steps: 4, seed: 0, ema_decay: 0.9, log_every: 2, sample_every: 4, val_every: 4,
        ckpt_every: 4, out_dir: {out}, progress: false}}
"""


@pytest.fixture(scope="module")
def image_dir(blocky_images) -> Path:
    return blocky_images(4, 8, 6)


@pytest.fixture(scope="module")
def val_dir(tmp_path_factory) -> Path:
    """A Set5-like folder (HR/ and LR/) at x2, LR made with the project's bicubic."""
    d = tmp_path_factory.mktemp("val")
    (d / "HR").mkdir()
    (d / "LR").mkdir()
    rng = np.random.default_rng(1)
    hr = (np.kron(rng.random((6, 5, 3)), np.ones((8, 8, 1))) * 255).astype(np.uint8)
    Image.fromarray(hr).save(d / "HR" / "a.png")
    lr = bicubic_lr(torch.from_numpy(hr).permute(2, 0, 1)[None].float() / 255, 2)
    Image.fromarray((lr[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(
        d / "LR" / "a.png"
    )
    return d


def write_cfg(
    tmp: Path, image_dir: Path, *, scale=2, adv=0.0, init="", val="", deg="bicubic", patch=32
):
    text = TINY_SR.format(
        scale=scale,
        degradation=deg,
        init=f", init_weights: {init}" if init else "",
        adv=adv,
        train=image_dir,
        val=val or '""',
        out=tmp / "runs",
        patch=patch,
    )
    p = tmp / f"tiny_sr_{scale}_{adv}.yaml"
    p.write_text(text)
    return p


@pytest.fixture(scope="module")
def trained(tmp_path_factory, image_dir, val_dir) -> Path:
    """A 4-step PSNR run at x2 with validation, through the ``restore train`` CLI."""
    from restore.cli import main

    tmp = tmp_path_factory.mktemp("run")
    assert main(["train", str(write_cfg(tmp, image_dir, val=str(val_dir))), "--device", "cpu"]) == 0
    return tmp / "runs" / "tiny_sr"


# -- batches ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("deg", ["bicubic", "realistic"])
def test_make_batch_shapes(tmp_path, image_dir, scale, deg):
    p = 64 * scale if deg == "realistic" else 32
    task = create_task(load_config(write_cfg(tmp_path, image_dir, scale=scale, deg=deg, patch=p)))
    raw = torch.randint(0, 256, (2, 3, p, p), dtype=torch.uint8)
    b = task.make_batch(raw, torch.Generator().manual_seed(0))
    assert b["target"].shape == (2, 3, p, p)
    assert b["input"].shape == (2, 3, p // scale, p // scale)
    assert 0 <= b["input"].min() and b["input"].max() <= 1
    # LR sits on 8-bit levels, like the LR/ folders
    torch.testing.assert_close(b["input"] * 255, (b["input"] * 255).round())
    again = task.make_batch(raw, torch.Generator().manual_seed(0))
    torch.testing.assert_close(b["input"], again["input"])


def test_bicubic_lr_matches_matlab_lr(shared_data):
    d = shared_data / "val" / "Set5" / "x4"
    hr = torch.from_numpy(np.array(Image.open(d / "HR" / "001.png").convert("RGB")))
    lr = torch.from_numpy(np.array(Image.open(d / "LR" / "001.png").convert("RGB")))
    ours = bicubic_lr(hr.permute(2, 0, 1)[None].float() / 255, 4)[0].permute(1, 2, 0) * 255
    # the LR/ folders used MATLAB's older 'replicate' border: the interior agrees to 1 level
    assert (ours[4:-4, 4:-4] - lr[4:-4, 4:-4].float()).abs().max() <= 1


def test_dihedral_is_a_permutation():
    x = torch.arange(2 * 4 * 4.0).view(2, 1, 4, 4)
    y = augment_dihedral(x, torch.Generator().manual_seed(3))
    assert y.shape == x.shape
    for i in range(2):
        assert sorted(y[i].flatten().tolist()) == sorted(x[i].flatten().tolist())


def test_scale_mismatch_is_config_error(tmp_path, image_dir):
    cfg = load_config(write_cfg(tmp_path, image_dir, scale=2), ["model.generator_args.scale=4"])
    with pytest.raises(ConfigError, match="scale"):
        create_task(cfg)
    with pytest.raises(ConfigError, match="degradation"):
        create_task(load_config(write_cfg(tmp_path, image_dir), ["task_args.degradation=jpeg"]))
    with pytest.raises(ConfigError, match="patch_size >= 128"):
        create_task(load_config(write_cfg(tmp_path, image_dir, deg="realistic")))


# -- training and loading ----------------------------------------------------------------------


def test_tiny_run_writes_loadable_weights(trained):
    tensors, _ = load_tensors(trained / "model.safetensors")
    assert any(k.startswith("G.") for k in tensors)
    card = json.loads((trained / "model.json").read_text())
    assert card["task"] == "super_resolution" and card["runtime"]["inference"]["scale"] == 2
    assert "val_psnr" in (trained / "log.csv").read_text()
    sr = restore.load(trained, device="cpu")
    assert sr.scale == 2
    out = sr(np.zeros((10, 12, 3), np.uint8))
    assert out.shape == (20, 24, 3) and out.dtype == np.uint8


def test_loader_round_trip_keeps_alpha_depth_and_gray(trained):
    sr = restore.load(trained / "model.safetensors", device="cpu")
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)
    out = sr(rgba)
    assert out.shape == (18, 14, 4) and out.dtype == np.uint8
    deep = rng.integers(0, 65536, (9, 7, 3), dtype=np.uint16)
    out16 = sr(deep)
    assert out16.shape == (18, 14, 3) and out16.dtype == np.uint16
    gray = rng.integers(0, 256, (9, 7), dtype=np.uint8)
    outg = sr(gray)
    assert outg.shape == (18, 14) and outg.dtype == np.uint8
    pil = sr(Image.fromarray(gray))
    assert pil.mode == "L" and pil.size == (14, 18)


def test_evaluate_reports_model_and_bicubic(trained, val_dir):
    from restore.evaluate import evaluate_model

    r = evaluate_model(str(trained), str(val_dir), device="cpu")
    assert set(r["mean"]) == {"model", "bicubic"}
    assert r["settings"]["shave"] == 2 and r["count"] == 1
    json.dumps(r)


def test_gan_finetune_loads_init_weights_strictly(tmp_path, trained, image_dir):
    cfg = load_config(write_cfg(tmp_path, image_dir, adv=0.1, init=trained / "model.safetensors"))
    nets = create_task(cfg).build_networks()
    want, _ = load_tensors(trained / "model.safetensors")
    for k, v in nets["G"].state_dict().items():
        torch.testing.assert_close(v, want[f"G.{k}"])
    assert "D" in nets
    res = train(cfg)
    assert (res.out_dir / "model.safetensors").is_file()
    assert "g_adv" in (res.out_dir / "log.csv").read_text()


def test_mismatched_init_weights_is_checkpoint_error(tmp_path, trained, image_dir):
    # the x2 weights do not fit an x4 generator: a clear error naming the file and the tensors
    cfg = load_config(write_cfg(tmp_path, image_dir, scale=4, init=trained / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"init_weights .*wrong shape.*upsample"):
        create_task(cfg).build_networks()
    with pytest.raises(CheckpointError):
        create_task(
            load_config(write_cfg(tmp_path, image_dir, init=tmp_path / "missing.safetensors"))
        ).build_networks()


# -- tiling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 4])
def test_tiled_matches_untiled(scale):
    """A random-weight net: many overlapping tiles give the untiled output (within 1/255)."""
    from restore.tasks.super_resolution import SuperResolutionTask

    torch.manual_seed(0)
    net = SRNet(scale=scale, channels=8, n_blocks=2).eval()
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.1)
    pred = SuperResolutionTask.predictor({"inference": {"scale": scale}}, {"G": net})
    assert pred.scale == scale and pred.halo >= 2 * net.receptive_radius
    x = torch.rand(1, 3, 120, 100)  # 3 x 2 tiles of 64 + 2 * halo
    with torch.no_grad():
        full = pred.fn(x)
        tiled = tiled_apply(pred.fn, x, tile=2 * pred.halo + 64, halo=pred.halo, scale=scale)
    assert tiled.shape == full.shape == (1, 3, 120 * scale, 100 * scale)
    assert (tiled - full).abs().max() <= 1 / 255


def test_restorer_tiles_like_untiled(trained):
    """Through the API: a forced small tile equals tile=0 (no tiling) on a larger image."""
    x = torch.rand(1, 3, 110, 90)  # 2 x 2 tiles of 96 (halo 32)
    a = restore.load(trained, device="cpu", tile=0).run_tensor(x)
    b = restore.load(trained, device="cpu", tile=96).run_tensor(x)
    assert a.shape == b.shape == (1, 3, 220, 180)
    assert (a - b).abs().max() <= 1 / 255
