"""Colorization: L* kept exactly, gamut-safe recombination, API kinds, saturation, a tiny train run."""

from __future__ import annotations

import csv
from pathlib import Path

import kornia
import numpy as np
import PIL.Image
import pytest
import torch
from torch import nn

import restore
from restore.config import load_config
from restore.errors import ConfigError
from restore.tasks import create_task
from restore.tasks.colorization import (
    AB_SCALE,
    colorize,
    lab_to_rgb_in_gamut,
    lightness,
    rgb_to_lab,
    work_shape,
)
from restore.train import train

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "configs" / "colorize.yaml"
TINY = [
    "task_args.train_short_side=32",
    "task_args.work_size=32",
    "task_args.val_images=2",
    "model.generator_args.base_channels=4",
    "model.generator_args.depth=3",
    "model.generator_args.max_channels=8",
    "model.discriminator_args.base_channels=4",
    "model.discriminator_args.n_layers=2",
    "data.patch_size=32",
    "data.batch_size=2",
    "train.steps=4",
    "train.gan_start=1",
    "train.log_every=2",
    "train.sample_every=4",
    "train.val_every=4",
    "train.ckpt_every=4",
    "optim.warmup_steps=1",
    "train.progress=false",
]


@pytest.fixture(scope="module")
def color_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("colour")
    rng = np.random.default_rng(0)
    for i in range(4):
        base = rng.random((5, 6, 3))
        img = np.kron(base, np.ones((8, 8, 1)))  # 40 x 48, smooth colour blocks
        PIL.Image.fromarray((img * 255).astype(np.uint8)).save(d / f"{i}.png")
    PIL.Image.fromarray(np.full((40, 48), 99, np.uint8)).save(d / "grey.png")  # skipped
    return d


@pytest.fixture(scope="module")
def run_dir(color_dir, tmp_path_factory) -> Path:
    """A tiny ``restore train`` run of the shipped recipe, shrunk."""
    out = tmp_path_factory.mktemp("runs")
    cfg = load_config(
        RECIPE, [f"data.train={color_dir}", f"data.val={color_dir}", f"train.out_dir={out}", *TINY]
    )
    result = train(cfg, device="cpu")
    return result.out_dir


@pytest.fixture(scope="module")
def model(run_dir):
    return restore.load(run_dir, device="cpu")


def _photo(h: int = 45, w: int = 61, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.kron(rng.random((h // 9 + 1, w // 9 + 1, 3)), np.ones((9, 9, 1)))[:h, :w]
    return (img * 255).astype(np.uint8)


def _lum(rgb_uint8: np.ndarray) -> torch.Tensor:
    a = rgb_uint8 if rgb_uint8.ndim == 3 else np.repeat(rgb_uint8[..., None], 3, 2)
    t = torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_lab(t)[:, :1] / 100.0


# -- training ---------------------------------------------------------------------------------


def test_tiny_train_run_gives_loadable_weights(run_dir, model):
    assert (run_dir / "model.safetensors").is_file()
    assert model.card["task"] == "colorization"
    assert model.card["runtime"]["inference"]["output_rgb"] is True
    assert not model.predictor.tileable
    rows = list(csv.DictReader((run_dir / "log.csv").open()))
    assert [r["step"] for r in rows if r.get("val_psnr")] == ["4"]


def test_recipe_checks_channels(color_dir):
    cfg = load_config(RECIPE, [f"data.train={color_dir}", "model.generator_args.in_channels=3"])
    with pytest.raises(ConfigError, match="in_channels: 1"):
        create_task(cfg)


# -- L* equality and gamut --------------------------------------------------------------------


def test_output_lightness_equals_input(model):
    for src in (_photo(), _photo()[..., 1]):  # a colour photo and a grey one
        out = model(src, saturation=3.0)  # strong chroma: many pixels out of gamut
        assert out.shape == src.shape[:2] + (3,) and out.dtype == np.uint8
        diff = (_lum(out) - _lum(src)).abs().max()
        assert float(diff) <= 1 / 255


def test_gamut_reduction_keeps_lightness_where_clipping_would_not():
    torch.manual_seed(0)
    lum = torch.rand(1, 1, 16, 16) * 100
    ab = (torch.rand(1, 2, 16, 16) * 2 - 1) * 2 * AB_SCALE  # mostly far out of gamut
    clipped = kornia.color.lab_to_rgb(torch.cat([lum, ab], 1), clip=True)
    assert (rgb_to_lab(clipped)[:, :1] - lum).abs().max() > 1.0  # clipping breaks L*
    rgb = lab_to_rgb_in_gamut(lum, ab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    assert float((rgb_to_lab(rgb)[:, :1] - lum).abs().max()) < 0.05  # L* units (0..100)
    # in-gamut colours are left alone; hue is kept when chroma is reduced
    lab = rgb_to_lab(rgb)
    cos = torch.nn.functional.cosine_similarity(lab[:, 1:], ab, dim=1)
    assert float(cos[lab[:, 1:].norm(dim=1) > 5].min()) > 0.99


def test_lightness_matches_kornia_for_grey_and_colour():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 9, 11)
    for img in (x, x[:, :1].expand(-1, 3, -1, -1)):
        ref = kornia.color.rgb_to_lab(img)[:, :1]
        assert torch.allclose(lightness(img), ref, atol=1e-4)


def test_work_shape_keeps_aspect_on_the_net_grid():
    assert work_shape(768, 1024, 256, 32) == (256, 352)
    assert work_shape(1024, 768, 256, 64) == (320, 256)
    assert work_shape(10, 10, 256, 8) == (256, 256)


# -- API kinds --------------------------------------------------------------------------------


def test_gray_array_in_gives_rgb_array_out(model):
    g = _photo()[..., 0]
    out = model(g)
    assert out.shape == (*g.shape, 3) and out.dtype == np.uint8


def test_rgb_array_and_pil_kinds(model):
    rgb = _photo()
    assert model(rgb).shape == rgb.shape
    pil_gray = PIL.Image.fromarray(rgb[..., 0])
    out = model(pil_gray)
    assert isinstance(out, PIL.Image.Image) and out.mode == "RGB" and out.size == pil_gray.size
    out = model(PIL.Image.fromarray(rgb))
    assert out.mode == "RGB" and out.size == (rgb.shape[1], rgb.shape[0])


def test_saturation_zero_gives_grey(model):
    out = model(_photo(), saturation=0.0).astype(np.int16)
    assert np.abs(out[..., 0] - out[..., 1]).max() <= 1
    assert np.abs(out[..., 1] - out[..., 2]).max() <= 1


def test_saturation_scales_chroma():
    class Const(nn.Module):
        size_multiple = 1

        def forward(self, x):
            return torch.full((x.shape[0], 2, *x.shape[-2:]), 0.1)

    x = torch.full((1, 3, 20, 30), 0.5)
    lab1 = rgb_to_lab(colorize(Const(), x, work_size=16, saturation=1.0))
    lab2 = rgb_to_lab(colorize(Const(), x, work_size=16, saturation=2.0))
    assert torch.allclose(lab2[:, 1:], 2 * lab1[:, 1:], atol=0.05)
    assert torch.allclose(lab1[:, 1:], torch.full_like(lab1[:, 1:], 11.0), atol=0.05)
    with pytest.raises(ValueError, match="saturation"):
        colorize(Const(), x, saturation=-1.0)


def test_shipped_colorize_keeps_size_and_lightness():
    from restore.models import available

    if "colorize" not in available():
        pytest.skip("colorize weights not shipped in this installation")
    model = restore.load("colorize", device="cpu")
    grey = _photo(70, 90)[..., 0]
    out = model(grey)
    assert out.shape == (70, 90, 3) and out.dtype == np.uint8
    assert float((_lum(out) - _lum(grey)).abs().max()) <= 1 / 255
    assert np.abs(out[..., 0].astype(int) - out[..., 2]).max() > 2  # it adds colour
