from __future__ import annotations

import json

import numpy as np
import PIL.Image
import pytest
import torch
from torch import nn

import restore
from restore.api import Restorer
from restore.config import from_dict
from restore.core.generator import UNetGenerator
from restore.tasks.inpainting import InpaintingTask, hole_boxes, inpaint, push_pull_fill

CARD = {
    "name": "t",
    "task": "inpainting",
    "inference": {"work_size": 512, "context": 64, "prefill": True},
}


def _tiny_g(depth: int = 3, seed: int = 0, output: str = "none") -> UNetGenerator:
    torch.manual_seed(seed)
    g = UNetGenerator(
        4, 3, 8, depth, 16, norm="none", dropout=0.0, upsample="resize", output=output
    )
    return g.eval().requires_grad_(False)


class _Counting(nn.Module):
    """Wraps G and counts its calls."""

    def __init__(self, g: nn.Module) -> None:
        super().__init__()
        self.g, self.calls = g, 0
        self.size_multiple = g.size_multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.g(x)


def _restorer(g: nn.Module, card=CARD) -> Restorer:
    pred = InpaintingTask.predictor(card, {"G": g})
    return Restorer(
        pred, card, {"G": g}, device=torch.device("cpu"), dtype=torch.float32, tile=None
    )


def _mask(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), np.uint8)
    m[h // 4 : h // 2, w // 3 : w // 2 + 3] = 1
    m[rng.random((h, w)) < 0.05] = 255
    return m


@pytest.mark.parametrize("dtype,top", [(np.uint8, 255), (np.uint16, 65535)])
def test_known_pixels_identical_odd_size(dtype, top) -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, top + 1, (37, 53, 3)).astype(dtype)
    mask = _mask(37, 53)
    out = _restorer(_tiny_g())(img, mask=mask)
    assert out.dtype == dtype and out.shape == img.shape
    known = mask == 0
    np.testing.assert_array_equal(out[known], img[known])
    assert (out[~known] != img[~known]).any()  # holes were filled by the model


def test_pil_image_and_mask_file(tmp_path) -> None:
    rng = np.random.default_rng(2)
    img = PIL.Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    m = np.zeros((40, 48), np.uint8)
    m[10:20, 5:30] = 255  # white = hole
    PIL.Image.fromarray(m).save(tmp_path / "mask.png")
    r = _restorer(_tiny_g())
    out_file = r(img, mask=tmp_path / "mask.png")
    out_pil = r(img, mask=PIL.Image.fromarray(m))
    assert isinstance(out_file, PIL.Image.Image) and out_file.size == img.size
    a, b, src = np.asarray(out_file), np.asarray(out_pil), np.asarray(img)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[m == 0], src[m == 0])


def test_all_zero_mask_returns_image_without_running_model() -> None:
    g = _Counting(_tiny_g())
    img = np.random.default_rng(3).integers(0, 256, (33, 35, 3), dtype=np.uint8)
    out = _restorer(g)(img, mask=np.zeros((33, 35), np.uint8))
    np.testing.assert_array_equal(out, img)
    assert g.calls == 0


def test_all_ones_mask_fills_everything() -> None:
    img = np.random.default_rng(4).integers(0, 256, (30, 41, 3), dtype=np.uint8)
    out = _restorer(_tiny_g())(img, mask=np.ones((30, 41), np.uint8))
    assert out.shape == img.shape and out.dtype == np.uint8
    # every pixel comes from the model, which saw nothing of the image
    other = _restorer(_tiny_g())(255 - img, mask=np.ones((30, 41), np.uint8))
    np.testing.assert_array_equal(out, other)


def test_mask_size_mismatch_is_a_clear_error() -> None:
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="does not match the image size"):
        _restorer(_tiny_g())(img, mask=np.ones((20, 21), np.uint8))
    with pytest.raises(ValueError, match="needs (a )?mask"):
        _restorer(_tiny_g())(img)


def test_hole_boxes_grow_and_merge() -> None:
    m = torch.zeros(1, 1, 100, 100)
    m[..., 10:12, 10:12] = 1
    m[..., 10:12, 20:22] = 1  # merges with the first (context 5)
    m[..., 80:82, 80:82] = 1
    boxes = sorted(hole_boxes(m, 5))
    assert boxes == [(5, 17, 5, 27), (75, 87, 75, 87)]


@pytest.mark.parametrize("prefill,atol", [(False, 1e-5), (True, 0.03)])
def test_crop_path_equals_direct_path(prefill: bool, atol: float) -> None:
    g = _tiny_g(depth=2, output="none" if prefill else "tanh")  # small receptive field
    x = torch.rand(1, 3, 96, 96, generator=torch.Generator().manual_seed(5))
    x = torch.nn.functional.avg_pool2d(x, 5, 1, 2)
    m = torch.zeros(1, 1, 96, 96)
    m[..., 40:50, 44:52] = 1  # grown box starts at multiples of 4: same sampling grid
    direct = inpaint(g, x, m, work_size=512, prefill=prefill)
    cropped = inpaint(g, x, m, work_size=64, context=24, prefill=prefill)
    # exact up to float for G alone; the push-pull pyramid sees less of the image in a crop
    torch.testing.assert_close(cropped, direct, atol=atol, rtol=0)
    assert (cropped - direct).abs().mean() < atol / 10
    assert torch.equal(cropped[m.expand_as(x) == 0], x[m.expand_as(x) == 0])


def test_push_pull_fill() -> None:
    x = torch.rand(2, 3, 37, 29, generator=torch.Generator().manual_seed(9))
    m = (torch.rand(2, 1, 37, 29, generator=torch.Generator().manual_seed(10)) < 0.4).float()
    y = push_pull_fill(x, m)
    assert torch.equal(y[m.expand_as(x) == 0], x[m.expand_as(x) == 0])
    assert y.min() >= x.min() and y.max() <= x.max()  # averages of known pixels
    flat = push_pull_fill(torch.full_like(x, 0.3), m)
    torch.testing.assert_close(flat, torch.full_like(x, 0.3))
    torch.testing.assert_close(push_pull_fill(x, torch.ones_like(m)), torch.full_like(x, 0.5))


def test_push_pull_confidence_keeps_an_island_from_stamping_a_block() -> None:
    # one dark pixel left inside a 41x41 hole of a flat 0.7 picture: the plain rule gives its
    # 8x8 cell (1/64 known) its value, and the bilinear pull spreads it over a blotch; with
    # confidence 8 that cell is 8/64 its own and 56/64 the level above
    x = torch.full((1, 1, 64, 64), 0.7)
    m = torch.zeros(1, 1, 64, 64)
    m[..., 9:50, 9:50] = 1
    m[0, 0, 30, 30], x[0, 0, 30, 30] = 0, 0.0
    hole = m > 0
    plain, weighed = push_pull_fill(x, m), push_pull_fill(x, m, confidence=8)
    dark_plain = int(((plain - 0.7).abs() > 0.1)[hole].sum())
    dark_weighed = int(((weighed - 0.7).abs() > 0.1)[hole].sum())
    assert dark_plain > 400 and dark_weighed < 50
    assert float((weighed - 0.7).abs()[hole].mean()) < float((plain - 0.7).abs()[hole].mean()) / 5
    # the same rules elsewhere: known pixels kept, values within the known range, flat stays flat
    r = torch.rand(2, 3, 37, 29, generator=torch.Generator().manual_seed(9))
    rm = (torch.rand(2, 1, 37, 29, generator=torch.Generator().manual_seed(10)) < 0.4).float()
    y = push_pull_fill(r, rm, confidence=8)
    assert torch.equal(y[rm.expand_as(r) == 0], r[rm.expand_as(r) == 0])
    assert y.min() >= r.min() and y.max() <= r.max()
    torch.testing.assert_close(
        push_pull_fill(torch.full_like(r, 0.3), rm, 8), torch.full_like(r, 0.3)
    )
    # a cell at least 1/8 known is its own average, as in the plain rule: small holes unchanged
    small = torch.zeros(1, 1, 64, 64)
    small[..., 20:22, 20:23] = 1
    xs = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(11))
    torch.testing.assert_close(push_pull_fill(xs, small, 8), push_pull_fill(xs, small))
    with pytest.raises(ValueError, match="confidence"):
        push_pull_fill(x, m, confidence=-1)


def test_card_prefill_confidence_reaches_the_fill() -> None:
    g = _tiny_g()
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(12))
    m = torch.zeros(1, 1, 64, 64)
    m[..., 8:56, 8:56] = 1
    m[..., 30, 30] = 0  # an island inside the hole: where the two rules differ
    card = {**CARD, "inference": {**CARD["inference"], "prefill_confidence": 8}}
    old = InpaintingTask.predictor(CARD, {"G": g}).fn(x, mask=m)  # a card from before it: 0
    new = InpaintingTask.predictor(card, {"G": g}).fn(x, mask=m)
    torch.testing.assert_close(old, inpaint(g, x, m, prefill=True))
    torch.testing.assert_close(new, inpaint(g, x, m, prefill=True, confidence=8))
    assert not torch.equal(old, new)


@pytest.mark.parametrize("big_hole", [False, True])
def test_large_image_paths_keep_known_pixels(big_hole: bool) -> None:
    g = _tiny_g()
    x = torch.rand(1, 3, 150, 170, generator=torch.Generator().manual_seed(6))
    m = torch.zeros(1, 1, 150, 170)
    m[..., 75, 5:165:12] = 1  # specks whose grown boxes merge past 64 px: tiled path
    m[..., 10:14, 20:23] = 1  # a lone hole: one small crop
    if big_hole:
        m[..., 20:130, 30:150] = 1  # larger than a tile: runs downscaled
    y = inpaint(g, x, m, work_size=64, context=8, prefill=True)
    keep = m.expand_as(x) == 0
    assert torch.equal(y[keep], x[keep])
    assert torch.isfinite(y).all() and y.min() >= 0 and y.max() <= 1


def test_tiny_training_run_gives_loadable_weights(tmp_path, shared_data) -> None:
    from restore.config import Config
    from restore.train import train

    imgs = tmp_path / "imgs"  # three T91 images: quick to decode
    imgs.mkdir()
    for p in sorted((shared_data / "train" / "T91").iterdir())[:3]:
        (imgs / p.name).write_bytes(p.read_bytes())
    cfg = from_dict(
        Config,
        {
            "name": "inp",
            "task": "inpainting",
            "task_args": {
                "val_images": 1,
                "val_size": 64,
                "work_size": 64,
                "context": 8,
                "prefill": True,
                "prefill_confidence": 8,
            },
            "model": {
                "generator": "unet",
                "generator_args": {
                    "in_channels": 4,
                    "base_channels": 8,
                    "depth": 3,
                    "max_channels": 16,
                    "norm": "none",
                    "dropout": 0.0,
                    "output": "none",
                },
                "discriminator": "patch",
                "discriminator_args": {
                    "in_channels": 4,
                    "base_channels": 8,
                    "n_layers": 2,
                    "norm": "none",
                },
            },
            "loss": {
                "adversarial": "hinge",
                "adv_weight": 0.01,
                "pixel_weight": 1.0,
                "feature_matching_weight": 0.1,
            },
            "data": {
                "train": str(imgs),
                "val": str(shared_data / "val/Set5/x4/HR"),
                "patch_size": 32,
                "batch_size": 2,
            },
            "train": {
                "steps": 4,
                "gan_start": 2,
                "ema_decay": 0.9,
                "log_every": 2,
                "sample_every": 4,
                "val_every": 4,
                "ckpt_every": 4,
                "out_dir": str(tmp_path),
                "progress": False,
            },
        },
    )
    result = train(cfg, device="cpu")
    card = json.loads((tmp_path / "inp" / "model.json").read_text())
    assert card["task"] == "inpainting" and card["runtime"]["inference"]["work_size"] == 64
    assert card["runtime"]["inference"]["prefill_confidence"] == 8
    assert "psnr" in result.metrics
    r = restore.load(tmp_path / "inp")
    img = np.random.default_rng(8).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    mask = _mask(45, 70)
    out = r(img, mask=mask)
    np.testing.assert_array_equal(out[mask == 0], img[mask == 0])
