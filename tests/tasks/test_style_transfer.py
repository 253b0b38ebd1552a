"""Style transfer: pix2pix and CycleGAN train from two folders, learn toy mappings, infer via the API."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import restore
from restore.cli import main as cli_main
from restore.config import Config, from_dict, load_config
from restore.core.registry import build_network
from restore.errors import ConfigError
from restore.eval.style import StyleFeatures, style_kid_protocol
from restore.tasks import create_task
from restore.tasks.style_transfer import CycleGANTask, ImagePool, translate
from restore.train import train

REPO = Path(__file__).resolve().parents[2]

TINY_G = {
    "in_channels": 3,
    "out_channels": 3,
    "base_channels": 8,
    "depth": 2,
    "max_channels": 16,
    "norm": "none",
    "dropout": 0.0,
    "upsample": "resize",
    "output": "tanh",
}


def _smooth_images(n: int, size: int, seed: int) -> np.ndarray:
    """(n, size, size, 3) uint8 smooth random colour images (upsampled 4x4 noise)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 4, 4, generator=g)
    x = torch.nn.functional.interpolate(low, size=(size, size), mode="bilinear")
    return (x.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)


def _write(folder: Path, images: np.ndarray, names: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(images):
        name = names[i] if names else f"img_{i:03d}"
        Image.fromarray(im).save(folder / f"{name}.png")
    return folder


def _cfg(task: str, a: Path | str, b: Path | str, out: Path, steps: int, **over) -> Config:
    d = {
        "name": f"toy_{task}",
        "task": task,
        "task_args": over.pop("task_args", {}),
        "model": {
            "generator": "unet",
            "generator_args": TINY_G,
            "discriminator": "patch",
            "discriminator_args": {
                "in_channels": 6 if task == "pix2pix" else 3,
                "base_channels": 8,
                "n_layers": 1,
                "norm": "none",
            },
        },
        "optim": {"lr_g": 2e-3, "lr_d": 2e-4, "betas": [0.5, 0.999]},
        "loss": over.pop(
            "loss", {"adversarial": "lsgan", "adv_weight": 0.1, "pixel": "l1", "pixel_weight": 10.0}
        ),
        "data": {"train": str(a), "train_b": str(b), "patch_size": 16, "batch_size": 4},
        "train": {
            "steps": steps,
            "seed": 0,
            "ema_decay": 0.0,
            "log_every": 5,
            "sample_every": 1000,
            "val_every": 1000,
            "ckpt_every": 1000,
            "out_dir": str(out),
            "progress": False,
        },
    }
    return from_dict(Config, d)


def _log(run: Path) -> list[dict[str, str]]:
    with (run / "log.csv").open() as f:
        return list(csv.DictReader(f))


# -- the image pool --------------------------------------------------------------------------


def test_image_pool_fills_then_swaps_deterministically():
    pool = ImagePool(3)
    x = torch.arange(4.0).view(4, 1, 1, 1)
    u = torch.tensor([0.9, 0.9, 0.9, 0.1])  # the 4th image (pool full) swaps with entry 1
    out = pool.query(x, u, torch.tensor([0, 0, 0, 1]))
    assert out.flatten().tolist() == [0.0, 1.0, 2.0, 1.0]
    assert [t.item() for t in pool.images] == [0.0, 3.0, 2.0]
    out = pool.query(torch.full((2, 1, 1, 1), 7.0), torch.tensor([0.7, 0.2]), torch.tensor([0, 2]))
    assert out.flatten().tolist() == [7.0, 2.0]  # kept as is, then swapped with entry 2
    assert ImagePool(0).query(x, u, u.long()) is x


def test_cyclegan_pool_numbers_come_from_the_step_generator(tmp_path):
    a = _write(tmp_path / "A", _smooth_images(4, 32, 0))
    b = _write(tmp_path / "B", _smooth_images(3, 32, 1))
    task = create_task(_cfg("cyclegan", a, b, tmp_path / "runs", 1))
    raw = (torch.zeros(2, 3, 32, 32, dtype=torch.uint8),) * 2
    b1 = task.make_batch(raw, torch.Generator().manual_seed(5))
    b2 = task.make_batch(raw, torch.Generator().manual_seed(5))
    assert torch.equal(b1["pool_u"], b2["pool_u"]) and torch.equal(b1["pool_idx"], b2["pool_idx"])
    assert b1["pool_idx"].max() < 50


# -- one command, two arbitrary folders --------------------------------------------------------


def test_cyclegan_trains_from_two_folders_with_one_command(tmp_path, capsys):
    a = _write(tmp_path / "photos", _smooth_images(5, 40, 0))
    b = _write(tmp_path / "art", _smooth_images(3, 48, 1))
    out = tmp_path / "runs"
    rc = cli_main(
        [
            "train",
            str(REPO / "configs" / "cyclegan.yaml"),
            "--device",
            "cpu",
            *("--set", f"data.train={a}", "--set", f"data.train_b={b}"),
            *(
                "--set",
                "train.steps=3",
                "--set",
                "train.log_every=1",
                "--set",
                "data.patch_size=32",
            ),
            *(
                "--set",
                "model.generator_args.base_channels=8",
                "--set",
                "model.generator_args.depth=3",
            ),
            *("--set", "model.discriminator_args.base_channels=8", "--set", "data.batch_size=2"),
            *("--set", f"train.out_dir={out}", "--set", "train.progress=false"),
        ]
    )
    assert rc == 0
    run = out / "cyclegan"
    rows = _log(run)
    assert {"g_cycle", "g_idt", "g_adv", "d_loss", "d_loss_b"} <= set(rows[0])
    # inference through the public API: G (a2b) by default, G_b with direction="b2a"
    model = restore.load(run, device="cpu")
    assert model.card["runtime"]["modules"] == ["G", "G_b"]
    img = np.asarray(Image.open(a / "img_000.png"))
    y = model(img)
    assert y.shape == img.shape and y.dtype == np.uint8
    y_a2b = model.run_tensor(torch.rand(1, 3, 32, 32))
    y_b2a = model.run_tensor(torch.rand(1, 3, 32, 32), direction="b2a")
    assert y_a2b.shape == y_b2a.shape == (1, 3, 32, 32)
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(
            model.run_tensor(x, direction="b2a"), translate(model.modules["G_b"], x).clamp(0, 1)
        )
        assert torch.allclose(model.run_tensor(x), translate(model.modules["G"], x).clamp(0, 1))
    with pytest.raises(ValueError, match="direction"):
        model.run_tensor(x, direction="sideways")


def test_style_tasks_need_both_folders(tmp_path):
    a = _write(tmp_path / "A", _smooth_images(2, 32, 0))
    for task in ("pix2pix", "cyclegan"):
        with pytest.raises(ConfigError, match="train_b"):
            create_task(_cfg(task, a, "", tmp_path, 1))
    with pytest.raises(ConfigError, match="lambda_cycle"):
        create_task(_cfg("cyclegan", a, a, tmp_path, 1, task_args={"lambda_cycle": -1.0}))


def test_configs_load():
    for name in ("pix2pix", "cyclegan", "style_painting"):
        cfg = load_config(REPO / "configs" / f"{name}.yaml", ["data.train=A", "data.train_b=B"])
        assert cfg.task in ("pix2pix", "cyclegan")
        build_network(cfg.model.generator, cfg.model.generator_args)


# -- learning on toy domains -------------------------------------------------------------------


def test_cyclegan_cycle_error_falls(tmp_path):
    # A: smooth colour images; B: colour-inverted smooth images (G: x -> 1 - x is learnable)
    a = _write(tmp_path / "A", _smooth_images(8, 32, 0))
    b = _write(tmp_path / "B", 255 - _smooth_images(8, 32, 1))
    cfg = _cfg("cyclegan", a, b, tmp_path / "runs", 60, task_args={"lambda_identity": 0.0})
    torch.manual_seed(0)
    train(cfg, device="cpu")
    rows = _log(tmp_path / "runs" / cfg.name)
    cyc = [float(r["g_cycle"]) for r in rows if r.get("g_cycle")]
    assert len(cyc) == 12
    assert cyc[-1] < 0.5 * cyc[0], cyc


def test_pix2pix_learns_a_paired_toy_mapping(tmp_path):
    # A -> B is a channel swap (RGB -> BGR) of matched files: deterministic and learnable
    imgs = _smooth_images(8, 32, 2)
    a = _write(tmp_path / "A", imgs)
    b = _write(tmp_path / "B", np.ascontiguousarray(imgs[..., ::-1]))
    loss = {"adversarial": "lsgan", "adv_weight": 0.05, "pixel": "l1", "pixel_weight": 10.0}
    cfg = _cfg("pix2pix", a, b, tmp_path / "runs", 60, loss=loss)
    x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 255
    y = x.flip(1)
    torch.manual_seed(0)
    task = create_task(cfg)
    G0 = task.build_networks()["G"].eval()
    with torch.no_grad():
        before = (translate(G0, x) - y).abs().mean().item()
    train(cfg, device="cpu")
    model = restore.load(tmp_path / "runs" / cfg.name, device="cpu")
    after = (model.run_tensor(x) - y).abs().mean().item()
    assert after < 0.4 * before, (before, after)
    rows = _log(tmp_path / "runs" / cfg.name)
    assert float(rows[-1]["g_pixel"]) < 0.5 * float(rows[0]["g_pixel"])


# -- the style-distance protocol -----------------------------------------------------------------


def test_style_features_are_fixed_and_kid_protocol_orders_domains(tmp_path):
    f1, f2 = StyleFeatures(seed=0), StyleFeatures(seed=0)
    x = torch.rand(3, 3, 24, 24)
    assert f1(x).shape == (3, f1.num_features)
    assert torch.equal(f1(x), f2(x))
    content = _write(tmp_path / "content", _smooth_images(4, 64, 0))
    # the "style" domain: dark images; a model that darkens photos moves them into it
    style = _write(tmp_path / "style", (_smooth_images(6, 64, 1) * 0.3).astype(np.uint8))
    kw = {"short_side": 64, "crop": 32, "crops_per_image": 4}
    same = style_kid_protocol(lambda t: t, content, style, **kw)
    assert same["kid_photos_style"] == pytest.approx(same["kid_outputs_style"])
    dark = style_kid_protocol(lambda t: t * 0.3, content, style, **kw)
    assert dark["kid_outputs_style"] < 0.2 * dark["kid_photos_style"], dark
    # restore eval's entry point: the protocol on <data>/content and <data>/style, its defaults,
    # beside the photos and the colour-statistics baseline
    res = CycleGANTask.evaluate(lambda t: t * 0.3, str(tmp_path), {})
    alone = style_kid_protocol(lambda t: t * 0.3, content, style)
    assert {k: v for k, v in res.items() if k in alone} == alone
    assert res["methods"] == ["model", "photos", "colour_stats"]
    assert res["mean"]["model"]["kid"] == alone["kid_outputs_style"]
    assert res["mean"]["photos"]["kid"] == alone["kid_photos_style"]
    assert res["mean"]["colour_stats"]["kid"] == res["kid_colour_baseline_style"]
    assert res["n_content"] == 4 and res["n_style"] == 6
    assert res["kid_outputs_style"] < res["kid_photos_style"], res
    # dark style images: matching their colour statistics alone also gets closer than the photos
    assert res["kid_colour_baseline_style"] < res["kid_photos_style"], res


def test_residual_generators_start_from_their_input():
    class Zero(torch.nn.Module):
        size_multiple = 1

        def forward(self, x):
            return torch.zeros_like(x)

    x = torch.rand(2, 3, 8, 8)
    assert torch.allclose(translate(Zero(), x, residual=True), x, atol=1e-6)
    assert torch.allclose(translate(Zero(), x), torch.full_like(x, 0.5))
    card = {"inference": {"direction": "b2a", "residual": True}, "generator_args": {}}
    pred = CycleGANTask.predictor(card, {"G": Zero(), "G_b": Zero()})
    assert torch.allclose(pred.fn(x), x, atol=1e-6)
