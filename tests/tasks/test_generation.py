from __future__ import annotations

import gzip
import logging
import struct

import numpy as np
import pytest
import torch
from torch import nn

from restore.config import Config, from_dict, to_dict
from restore.core.checkpoint import save_tensors
from restore.core.dcgan import DCGANDiscriminator, DCGANGenerator, DigitClassifier
from restore.core.registry import build_network
from restore.errors import ConfigError
from restore.tasks.generation import (
    GenerationOptions,
    GenerationTask,
    class_coverage,
    collapse_warning,
    diff_augment,
    draw_augment,
)


def _idx(arr: np.ndarray) -> bytes:
    return (
        bytes([0, 0, 8, arr.ndim])
        + b"".join(struct.pack(">I", d) for d in arr.shape)
        + arr.tobytes()
    )


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    (d / "x-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(_idx(rng.integers(0, 256, (16, 28, 28), dtype=np.uint8)))
    )
    (d / "x-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_idx(np.arange(16, dtype=np.uint8) % 10))
    )
    return d


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory):
    torch.manual_seed(0)
    p = tmp_path_factory.mktemp("clf") / "clf.safetensors"
    save_tensors(p, DigitClassifier().state_dict())
    return p


def tiny_config(mnist_dir, out_dir, classifier="") -> Config:
    return from_dict(
        Config,
        {
            "name": "tiny_gen",
            "task": "generation",
            "task_args": {
                "source": "mnist",
                "channels": 1,
                "augment": "color,translation,cutout",
                "val_samples": 8,
                "val_real": 8,
                "classifier": str(classifier),
            },
            "model": {
                "generator": "dcgan_g",
                "generator_args": {
                    "latent_dim": 8,
                    "base_channels": 4,
                    "out_channels": 1,
                    "image_size": 28,
                },
                "discriminator": "dcgan_d",
                "discriminator_args": {"in_channels": 1, "base_channels": 4, "image_size": 28},
            },
            "loss": {
                "adversarial": "vanilla",
                "pixel": "none",
                "pixel_weight": 0.0,
                "r1_gamma": 0.1,
                "r1_every": 2,
            },
            "data": {"train": str(mnist_dir), "patch_size": 28, "batch_size": 4},
            "train": {
                "steps": 4,
                "log_every": 2,
                "sample_every": 4,
                "val_every": 2,
                "ckpt_every": 4,
                "ema_decay": 0.9,
                "out_dir": str(out_dir),
                "progress": False,
            },
        },
    )


@pytest.fixture(scope="module")
def trained(mnist_dir, classifier_file, tmp_path_factory):
    from restore.train import train

    out = tmp_path_factory.mktemp("runs")
    return train(tiny_config(mnist_dir, out, classifier_file), device="cpu")


def test_dcgan_shapes_and_registry():
    for size, c in ((28, 1), (32, 3)):
        g = build_network(
            "dcgan_g", {"latent_dim": 8, "base_channels": 4, "out_channels": c, "image_size": size}
        )
        d = build_network("dcgan_d", {"in_channels": c, "base_channels": 4, "image_size": size})
        x = g(torch.randn(3, 8))
        assert x.shape == (3, c, size, size) and x.abs().max() <= 1
        assert d(x).shape == (3, 1)
    with pytest.raises(ValueError, match="image_size"):
        DCGANGenerator(image_size=30)
    logits, feats = DCGANDiscriminator(base_channels=4)(
        torch.zeros(1, 1, 28, 28), return_features=True
    )
    assert len(feats) == 2


def test_task_trains_and_logs_health(trained):
    import csv

    rows = list(csv.DictReader((trained.out_dir / "log.csv").open()))
    cols = set(rows[0])
    assert {"d_loss", "d_real_acc", "d_fake_acc", "g_adv", "r1"} <= cols
    val = [r for r in rows if r.get("val_fid")]
    assert val and {"val_confident", "val_class_entropy", "val_collapse"} <= set(rows[-1])
    assert 0.0 <= trained.metrics["class_entropy"] <= np.log(10) + 1e-9
    assert (trained.out_dir / "model.safetensors").is_file()


def test_sample_deterministic_shape_dtype(trained):
    import restore
    from restore.generate import Sampler

    s = restore.load(trained.out_dir, device="cpu")
    assert isinstance(s, Sampler)
    a = s.sample(5, seed=0)
    assert a.shape == (5, 28, 28, 1) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, s.sample(5, seed=0))
    assert not np.array_equal(a, s.sample(5, seed=1))
    # batch-independent up to float rounding: a larger draw starts with the same images
    assert np.abs(s.sample(7, seed=0)[:5].astype(int) - a).max() <= 1
    t = s.sample(3, seed=0, truncation=0.5)
    assert t.shape == (3, 28, 28, 1)
    path = s.interpolate(0, 1, steps=4)
    assert path.shape == (4, 28, 28, 1)
    assert np.abs(path[0].astype(int) - a[0]).max() <= 1


def test_cli_generate_writes_grid(trained, tmp_path):
    from restore.cli import main
    from restore.data.io import read_image

    out = tmp_path / "grid.png"
    assert (
        main(
            [
                "generate",
                "--model",
                str(trained.out_dir),
                "-n",
                "6",
                "--nrow",
                "3",
                "--seed",
                "0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    img = read_image(out)
    assert img.size == (2 + 2 * 30, 2 + 3 * 30)  # 2 rows x 3 columns of 28 px, 2 px padding


def test_collapse_flag_function():
    assert collapse_warning(2.3, None) is None
    assert "collapse" in collapse_warning(1.5, None)
    assert collapse_warning(2.0, 2.25) is None
    assert "fell" in collapse_warning(1.9, 2.25)
    uniform = torch.eye(10).repeat(10, 1)
    conf, ent, freq = class_coverage(uniform)
    assert (
        conf == 1.0
        and ent == pytest.approx(np.log(10))
        and torch.allclose(freq, torch.full((10,), 0.1, dtype=torch.float64))
    )


class ConstantG(nn.Module):
    """A collapsed generator: the same image for every latent."""

    def __init__(self) -> None:
        super().__init__()
        self.img = nn.Parameter(torch.linspace(-1, 1, 28 * 28).view(1, 1, 28, 28))

    def forward(self, z):
        return self.img.expand(z.shape[0], -1, -1, -1)


def test_constant_generator_is_flagged(mnist_dir, classifier_file, tmp_path, caplog):
    task = GenerationTask(tiny_config(mnist_dir, tmp_path, classifier_file))
    with caplog.at_level(logging.WARNING, logger="restore.tasks.generation"):
        m = task.validate({"G": ConstantG()})
    assert m["class_entropy"] == 0.0 and m["collapse"] == 1.0
    assert "mode collapse" in caplog.text


def test_diff_augment_seeded_and_differentiable():
    o = GenerationOptions(augment="color,translation,cutout")
    p1 = draw_augment(4, 28, o, torch.Generator().manual_seed(0), torch.device("cpu"))
    p2 = draw_augment(4, 28, o, torch.Generator().manual_seed(0), torch.device("cpu"))
    x = torch.rand(4, 3, 28, 28, requires_grad=True)
    y1, y2 = diff_augment(x, p1), diff_augment(x, p2)
    assert torch.equal(y1, y2)
    y1.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # translation moves whole pixels, filling with 0
    x = torch.arange(36.0).view(1, 1, 6, 6)
    y = diff_augment(x, {"shift": torch.tensor([[2.0, -1.0]])})
    assert torch.equal(y[0, 0, :5, 2:], x[0, 0, 1:, :4]) and (y[0, 0, :, :2] == 0).all()
    with pytest.raises(Exception, match="unknown"):
        GenerationOptions(augment="flip")


def test_restore_eval_scores_a_generator_against_its_real_data(trained, mnist_dir):
    from restore.evaluate import evaluate_model

    r = evaluate_model(str(trained.out_dir), str(mnist_dir), device="cpu")
    # as many samples as real images (16), the floor from two halves of 8, coverage by the
    # card's classifier in its feature space, the model beside the real images
    assert r["task"] == "generation" and r["count"] == 16 and r["n_real_half"] == 8
    assert r["methods"] == ["model", "real"]
    assert r["mean"]["real"]["fid"] == r["fid_floor"]
    assert set(r["mean"]["model"]) == {"fid", "kid", "confident_share", "class_entropy"}
    assert "penultimate" in r["feature_space"] and set(r["bars"]) == {
        "confident_share>=0.80",
        "class_entropy>=2.2",
        "classifier_fid<=3x_floor",
    }
    assert r["real_data"] == str(mnist_dir)
    again = evaluate_model(str(trained.out_dir), str(mnist_dir), device="cpu")
    assert again["fid"] == r["fid"]  # seeded samples, seeded split


def test_restore_eval_scores_a_folder_generator_in_random_conv_features(tmp_path):
    from PIL import Image

    from restore.tasks.generation import GenerationTask

    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (40, 36, 3), dtype=np.uint8)).save(
            tmp_path / f"{i}.png"
        )
    rt = {"task_args": {"source": "folder"}, "inference": {"channels": 3, "image_size": 32}}
    card = {"task": "generation", "runtime": rt}
    r = GenerationTask.evaluate(lambda n, seed: torch.rand(n, 3, 32, 32), str(tmp_path), card)
    assert r["count"] == 12 and "RandomConvFeatures(3" in r["feature_space"]
    assert r["bars"] == {} and "confident_share" not in r["mean"]["model"]


# -- class-conditional models (one-hot label into G, projection D) -------------------------------


def test_conditional_dcgan_is_one_hot_into_g_and_a_projection_in_d():
    torch.manual_seed(0)
    g = DCGANGenerator(latent_dim=8, base_channels=4, num_classes=10).eval()
    d = DCGANDiscriminator(base_channels=4, num_classes=10)
    z, y = torch.randn(3, 8), torch.tensor([0, 3, 9])
    with torch.no_grad():
        # G: the label's one-hot row is concatenated to z before the first linear layer
        ch, s = g.start
        h = g.project(torch.cat([z, nn.functional.one_hot(y, 10).float()], 1))
        want = g.body(g.norm0(h.view(-1, ch, s, s)))
        x = g(z, y)
        torch.testing.assert_close(x, want)
        # same z, another label: another image
        assert (g(z, torch.tensor([1, 4, 8])) - x).abs().max() > 1e-4
        # D: head(h) + <embed(y), h> over the flattened last map
        logits, feats = d(x, return_features=True, y=y)
        hd = feats[-1].flatten(1)
        torch.testing.assert_close(logits, d.head(hd) + (d.embed.weight[y] * hd).sum(1, True))
    with pytest.raises(ValueError, match="pass y"):
        g(z)
    with pytest.raises(ValueError, match="pass y"):
        d(x)
    with pytest.raises(ValueError, match=r"in \[0, 10\)"):
        g(z, torch.tensor([0, 3, 10]))
    with pytest.raises(ValueError, match="integer"):
        g(z, torch.zeros(3))
    with pytest.raises(ValueError, match="unconditional"):
        DCGANGenerator(latent_dim=8, base_channels=4)(z, y)
    with pytest.raises(ValueError, match="unconditional"):
        DCGANDiscriminator(base_channels=4)(x, y=y)


def conditional_config(mnist_dir, out_dir, classifier=""):
    cfg = to_dict(tiny_config(mnist_dir, out_dir, classifier))
    cfg["name"] = "tiny_cgen"
    cfg["model"]["generator_args"]["num_classes"] = 10
    cfg["model"]["discriminator_args"]["num_classes"] = 10
    return cfg


@pytest.fixture(scope="module")
def trained_conditional(mnist_dir, classifier_file, tmp_path_factory):
    from restore.train import train

    out = tmp_path_factory.mktemp("cruns")
    cfg = from_dict(Config, conditional_config(mnist_dir, out, classifier_file))
    return train(cfg, device="cpu")


def test_conditional_batches_carry_the_real_labels_and_fakes_share_them(mnist_dir, tmp_path):
    from restore.tasks.generation import LabelledMnist

    task = GenerationTask(from_dict(Config, conditional_config(mnist_dir, tmp_path)))
    ds = task.train_dataset()
    assert isinstance(ds, LabelledMnist) and len(ds) == 16
    items = [ds[i] for i in (0, 5, 13)]
    raw = [torch.stack([im for im, _ in items]), torch.stack([lab for _, lab in items])]
    batch = task.make_batch(raw, torch.Generator().manual_seed(0))
    assert batch["y"].tolist() == [0, 5, 3]  # the fixture's labels are index % 10
    seen = []

    class Spy(nn.Module):
        def forward(self, x, return_features=False, *, y=None):
            seen.append(y)
            return x.mean((1, 2, 3))[:, None]

    out = {"fake": torch.rand(3, 1, 28, 28)}
    task.d_loss({"D": Spy()}, batch, out, step=1)
    assert len(seen) == 2 and all(torch.equal(s, batch["y"]) for s in seen)


def test_conditional_config_errors(mnist_dir, tmp_path):
    cfg = conditional_config(mnist_dir, tmp_path)
    cfg["model"]["discriminator_args"]["num_classes"] = 0
    with pytest.raises(ConfigError, match="must be equal"):
        GenerationTask(from_dict(Config, cfg))
    cfg = conditional_config(mnist_dir, tmp_path)
    cfg["task_args"]["source"] = "folder"
    cfg["task_args"]["channels"] = 1
    with pytest.raises(ConfigError, match="needs source: mnist"):
        GenerationTask(from_dict(Config, cfg))
    nolabels = tmp_path / "nolabels"
    nolabels.mkdir()
    (nolabels / "x-images-idx3-ubyte.gz").write_bytes(
        (mnist_dir / "x-images-idx3-ubyte.gz").read_bytes()
    )
    task = GenerationTask(from_dict(Config, conditional_config(nolabels, tmp_path)))
    with pytest.raises(ConfigError, match="labels file"):
        task.train_dataset()


def test_conditional_sampler_takes_a_label(trained_conditional, trained):
    import restore

    s = restore.load(trained_conditional.out_dir, device="cpu")
    assert s.num_classes == 10
    a = s.sample(6, seed=0)
    np.testing.assert_array_equal(a, s.sample(6, seed=0))
    # default labels are drawn from the seed: the same latents with one fixed label differ
    labels = s.labels(6, seed=0)
    assert labels.shape == (6,) and 0 <= int(labels.min()) and int(labels.max()) < 10
    threes = s.sample(6, seed=0, label=3)
    assert labels.tolist() != [3] * 6 and not np.array_equal(threes, a)
    z = s.latents(6, 0)
    want = s.generate(z, torch.full((6,), 3))
    np.testing.assert_array_equal(threes, (want.permute(0, 2, 3, 1) * 255 + 0.5).byte().numpy())
    assert s.interpolate(0, 1, steps=3, label=7).shape == (3, 28, 28, 1)
    with pytest.raises(ConfigError, match="0..9"):
        s.sample(2, label=10)
    with pytest.raises(ConfigError, match="unconditional"):
        restore.load(trained.out_dir, device="cpu").sample(2, label=3)


def test_cli_generate_label(trained_conditional, trained, tmp_path, capsys):
    from restore.cli import main

    out = tmp_path / "threes.png"
    args = ["generate", "--model", str(trained_conditional.out_dir), "-n", "4", "--label", "3"]
    assert main([*args, "-o", str(out)]) == 0 and out.is_file()
    assert "of class 3" in capsys.readouterr().out
    bad = tmp_path / "bad.png"
    assert main(["generate", "--model", str(trained.out_dir), "--label", "3", "-o", str(bad)]) == 1
    assert "unconditional" in capsys.readouterr().err and not bad.exists()
