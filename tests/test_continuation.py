"""``restore train --from``: a new leg starts from exported weights, with a fresh D warm-up and legs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from restore.config import load_config
from restore.continuation import StartWeights, prior_legs, totals
from restore.core.checkpoint import load_tensors
from restore.errors import CheckpointError
from restore.train import train

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny.yaml"


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(1)
    for i in range(4):
        img = np.kron(rng.random((6, 6, 3)), np.ones((8, 8, 1)))
        Image.fromarray((img * 255).astype(np.uint8)).save(d / f"{i}.png")
    return d


def cfg(image_dir: Path, out: Path, name: str, *extra: str):
    return load_config(
        TINY,
        [
            f"name={name}",
            f"data.train={image_dir}",
            "data.val=",
            f"train.out_dir={out}",
            "train.progress=false",
            *extra,
        ],
    )


def start_of(run: Path, label: str = "first") -> StartWeights:
    card = json.loads((run / "model.json").read_text())
    return StartWeights(path=run / "model.safetensors", card=card, label=label)


@pytest.fixture(scope="module")
def first_run(image_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    train(cfg(image_dir, out, "first"))
    return out / "first"


def test_d_only_warmup_keeps_the_start_weights(image_dir, first_run, tmp_path):
    # the whole leg is D-only warm-up (the GAN starts at step 0): G (and its EMA) must come out
    # exactly as it went in
    res = train(
        cfg(image_dir, tmp_path, "second", "train.gan_start=0", "train.d_warmup_steps=8"),
        init_from=start_of(first_run),
        command="restore train tiny --from first",
    )
    a, _ = load_tensors(first_run / "model.safetensors")
    b, _ = load_tensors(res.weights)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # ... while the D did train: its checkpointed weights differ from a fresh D of the same seed
    card = json.loads(res.weights.with_suffix(".json").read_text())
    legs = card["training"]["legs"]
    assert [leg["leg"] for leg in legs] == [1, 2]
    assert legs[0]["from"] == "scratch" and legs[0]["steps"] == 8 and legs[0]["seconds"] > 0
    assert legs[1]["from"].startswith("first (sha256 ")
    assert legs[1]["command"] == "restore train tiny --from first"
    assert legs[1]["steps"] == 8 and legs[1]["seconds"] > 0
    assert totals(legs)["steps"] == 16


def test_continued_leg_trains_from_the_start_not_from_scratch(image_dir, first_run, tmp_path):
    cont = train(
        cfg(image_dir, tmp_path, "cont", "train.d_warmup_steps=2"), init_from=start_of(first_run)
    )
    fresh = train(cfg(image_dir, tmp_path, "fresh", "train.seed=1"))
    start, _ = load_tensors(first_run / "model.safetensors")
    c, _ = load_tensors(cont.weights)
    f, _ = load_tensors(fresh.weights)

    def dist(x, y):
        return sum(float((x[k] - y[k]).abs().sum()) for k in x)

    # 6 G steps moved the start weights, and stayed far nearer to them than a fresh run is
    assert 0 < dist(c, start) < 0.1 * dist(f, start)


def test_a_resumed_leg_keeps_its_start(image_dir, first_run, tmp_path):
    c = cfg(image_dir, tmp_path, "leg", "train.ckpt_every=4")
    train(
        load_config(TINY, [*_overrides(image_dir, tmp_path, "leg"), "train.steps=4"]),
        init_from=start_of(first_run),
    )
    res = train(c, resume=tmp_path / "leg")
    legs = json.loads(res.weights.with_suffix(".json").read_text())["training"]["legs"]
    assert len(legs) == 2 and legs[1]["from"].startswith("first")
    assert legs[1]["seconds"] is None  # wall time of a resumed leg is not known whole


def _overrides(image_dir: Path, out: Path, name: str) -> list[str]:
    return [
        f"name={name}",
        f"data.train={image_dir}",
        "data.val=",
        f"train.out_dir={out}",
        "train.progress=false",
        "train.ckpt_every=4",
    ]


def test_other_architecture_is_refused_by_name(image_dir, first_run, tmp_path):
    c = cfg(image_dir, tmp_path, "wide", "model.generator_args.base_channels=16")
    with pytest.raises(CheckpointError, match="its generator is unet"):
        train(c, init_from=start_of(first_run))
    card = dict(start_of(first_run).card, task="super_resolution")
    with pytest.raises(CheckpointError, match="it is a 'super_resolution' model"):
        train(
            cfg(image_dir, tmp_path, "x"),
            init_from=StartWeights(first_run / "model.safetensors", card, "sr"),
        )


def test_a_unet_grown_by_inner_blocks_continues_from_the_smaller_one(
    image_dir, first_run, tmp_path
):
    # residual blocks added to the inner levels start as the identity and the first run's
    # tensors are loaded: with the leg's learning rate near zero, the grown network's file holds
    # every tensor of the first run unchanged, plus the new blocks
    grown = "model.generator_args.blocks=1", "model.generator_args.blocks_from=2"
    res = train(
        cfg(image_dir, tmp_path, "grown", *grown, "optim.lr_g=1e-12", "train.gan_start=100"),
        init_from=start_of(first_run),
    )
    a, _ = load_tensors(first_run / "model.safetensors")
    b, _ = load_tensors(res.weights)
    assert set(a) < set(b) and all(".body." in k for k in set(b) - set(a))
    for k in a:
        if k.startswith("G."):
            torch.testing.assert_close(a[k], b[k], msg=k)
    # any other change of the network is still refused by name
    with pytest.raises(CheckpointError, match="its generator is unet"):
        train(
            cfg(image_dir, tmp_path, "x", *grown, "model.generator_args.max_channels=16"),
            init_from=start_of(first_run),
        )


def test_an_old_card_becomes_leg_one():
    card = {"training": {"steps": 2400, "train_seconds": 2640.8, "recipe": "configs/sr_x4.yaml"}}
    legs = prior_legs(card)
    assert legs == [
        {
            "leg": 1,
            "from": "scratch",
            "recipe": "configs/sr_x4.yaml",
            "overrides": [],
            "steps": 2400,
            "seconds": 2640.8,
            "hardware": None,
            "data": None,
            "metric": None,
        }
    ]
    assert totals(legs) == {"legs": 1, "steps": 2400, "seconds": 2640.8, "complete": True}
    assert prior_legs({}) == []


def test_cli_from_a_shipped_name_checks_the_recipe(tmp_path):
    from restore.cli import main

    # enhance's weights do not fit the tiny recipe's U-Net: a clear error, exit code 1
    rc = main(["train", str(TINY), "--from", "enhance", "--set", f"train.out_dir={tmp_path}"])
    assert rc == 1


def test_a_scratch_run_is_leg_one(first_run):
    legs = json.loads((first_run / "model.json").read_text())["training"]["legs"]
    assert len(legs) == 1 and legs[0]["from"] == "scratch" and legs[0]["steps"] == 8
    assert legs[0]["seconds"] > 0 and "torch threads" in legs[0]["hardware"]


def test_d_only_steps_start_with_the_gan(image_dir, first_run, tmp_path):
    # pixel-only steps 0-3 move G; the GAN starts at 4 with 4 D-only steps: G is frozen after 4
    over = (
        "train.gan_start=4",
        "train.d_warmup_steps=4",
        "train.ema_decay=0",
        "train.ckpt_every=4",
    )
    res = train(cfg(image_dir, tmp_path, "late", *over), init_from=start_of(first_run))
    at4, _ = load_tensors(res.out_dir / "checkpoints" / "step_0000004.safetensors")
    end, _ = load_tensors(res.weights)
    start, _ = load_tensors(first_run / "model.safetensors")
    assert any(not torch.equal(at4[f"net.{k}"], start[k]) for k in start)
    assert all(torch.equal(at4[f"net.{k}"], end[k]) for k in end)


def test_an_sr_network_starts_from_another_scale(image_dir, tmp_path):
    """--from an x4 SR model into an x2 recipe of the same width and depth: head and body load,
    the pixel-shuffle layer starts at zero, so the x2 network starts as its bicubic skip."""
    small = ("model.generator_args.channels=8", "model.generator_args.n_blocks=1")

    def sr(scale: int, name: str, *extra: str):
        return load_config(
            REPO / "configs" / f"sr_x{scale}.yaml",
            [
                f"name={name}",
                f"data.train={image_dir}",
                "data.val=",
                "data.patch_size=32",
                "data.batch_size=2",
                "train.steps=3",
                f"train.out_dir={tmp_path}",
                "train.progress=false",
                *small,
                *extra,
            ],
        )

    train(sr(4, "x4"))
    x4 = start_of(tmp_path / "x4", "x4")
    res = train(sr(2, "x2", "optim.lr_g=1e-12", "train.ema_decay=0"), init_from=x4)
    a, _ = load_tensors(x4.path)
    b, _ = load_tensors(res.weights)
    assert float(a["G.upsample.weight"].abs().max()) > 0  # the x4 run learned its layer
    for k in a:
        if k.startswith(("G.head.", "G.body.", "G.body_out.")):
            torch.testing.assert_close(a[k], b[k], msg=k)
    assert (
        b["G.upsample.weight"].shape[0] == 12 and float(b["G.upsample.weight"].abs().max()) < 1e-9
    )
    # anything else changed (the width here) is still refused by name
    with pytest.raises(CheckpointError, match="its generator is srnet"):
        train(sr(2, "wide", "model.generator_args.channels=16"), init_from=x4)
