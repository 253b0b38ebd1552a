"""The damage (detector) task: losses, masks, a few training steps, the predictor and evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from restore.config import load_config
from restore.errors import ConfigError
from restore.tasks import create_task
from restore.tasks.damage import (
    DamageOptions,
    binarize,
    dice_loss,
    dilate,
    eval_damage_config,
    mask_scores,
    mix_print_damage,
)
from restore.train import train

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "configs" / "damage.yaml"


def tiny_damage_cfg(image_dir: Path, out: Path, *extra: str):
    return load_config(
        RECIPE,
        [
            "name=damage_tiny",
            f"data.train={image_dir}",
            f"data.val={image_dir}",
            "data.patch_size=32",
            "data.batch_size=2",
            "model.generator_args.base_channels=4",
            "model.generator_args.depth=3",
            "model.generator_args.max_channels=8",
            "task_args.val_images=2",
            "task_args.val_size=32",
            "train.steps=4",
            "train.log_every=2",
            "train.val_every=2",
            "train.sample_every=4",
            "train.ckpt_every=4",
            "optim.warmup_steps=1",
            f"train.out_dir={out}",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def image_dir(blocky_images) -> Path:
    return blocky_images(3, 8, 8)


def test_dice_loss_values():
    t = torch.zeros(1, 1, 4, 4)
    t[..., :2, :] = 1
    perfect = torch.where(t > 0, torch.tensor(20.0), torch.tensor(-20.0))
    assert dice_loss(perfect, t, eps=0.0) < 1e-6
    assert dice_loss(-perfect, t, eps=0.0) > 0.999
    assert dice_loss(torch.full((1, 1, 4, 4), -30.0), torch.zeros(1, 1, 4, 4)) < 1e-6


def test_scores_and_binarize():
    pred = torch.zeros(1, 1, 4, 4)
    tgt = torch.zeros(1, 1, 4, 4)
    pred[..., 0, :] = 1  # 4 predicted
    tgt[..., 0, :2] = 1  # 2 true, both found
    tgt[..., 3, 3] = 1  # 1 missed
    s = mask_scores(pred, tgt)
    assert s["iou"] == pytest.approx(2 / 5)
    assert s["precision"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(2 / 3)
    prob = torch.zeros(1, 3, 5, 5)
    prob[..., 2, 2] = 0.9
    m = binarize(prob, 0.5)
    assert m.shape == (1, 1, 5, 5) and m.sum() == 1
    assert binarize(prob, 0.5, grow=1).sum() == 9
    assert torch.equal(dilate(m, 0), m)


def test_options_are_checked():
    with pytest.raises(ValueError, match="threshold"):
        DamageOptions(threshold=1.5)
    with pytest.raises(ValueError, match="flaking_large_prob"):
        DamageOptions(flaking_large_prob=-0.1)
    with pytest.raises(ValueError, match="flaking_torn_prob"):
        DamageOptions(flaking_torn_prob=1.5)


def test_recipe_print_options_reach_the_print_damage(image_dir, tmp_path):
    """task_args.flaking_large_prob and flaking_torn_prob land in the task's OldPrintConfig;
    left out of the options, the print damage is OldPrintConfig's own (torn flakes off)."""
    from restore.data.old_print import OldPrintConfig
    from restore.tasks.damage import print_config

    task = create_task(
        tiny_damage_cfg(
            image_dir,
            tmp_path,
            "task_args.flaking_large_prob=0.4",
            "task_args.flaking_torn_prob=0.5",
        )
    )
    assert (task.prints.flaking_large_prob, task.prints.flaking_torn_prob) == (0.4, 0.5)
    assert print_config(DamageOptions()) == OldPrintConfig()


def test_print_damage_takes_the_recipes_print_config():
    """task_args.flaking_large_prob reaches the real-print damage: with it at 1 and every sample
    a print, the flaked share of a light batch lies in OldPrintConfig's large_area range."""
    from dataclasses import replace

    from restore.data.old_print import HOLE_EFFECTS, OldPrintConfig

    clean = torch.full((4, 3, 96, 96), 0.9)
    none = replace(OldPrintConfig(), **{f"{k}_prob": 0.0 for k in ("intact", *HOLE_EFFECTS)})
    large = replace(none, flaking_prob=1.0, flaking_large_prob=1.0)
    small = replace(none, flaking_prob=1.0, flaking_large_prob=0.0)
    empty = torch.zeros(4, 1, 96, 96)
    _, m_large = mix_print_damage(clean, clean, empty, 1.0, torch.Generator().manual_seed(0), large)
    _, m_small = mix_print_damage(clean, clean, empty, 1.0, torch.Generator().manual_seed(0), small)
    lo, hi = large.flaking_large_area
    share = m_large.mean((1, 2, 3))
    assert ((share > lo - 0.01) & (share < hi + 0.01)).all(), share
    assert float(m_small.mean()) < float(share.mean())


def test_eval_damage_is_the_issue_protocol():
    cfg = eval_damage_config()
    assert cfg.scratch_prob == cfg.dust_prob == cfg.grain_prob == cfg.fade_prob == 1.0
    assert cfg.crease_prob == cfg.jpeg_prob == cfg.blur_prob == 0.0


def test_gan_loss_is_refused(image_dir, tmp_path):
    with pytest.raises(ConfigError, match="adv_weight"):
        create_task(tiny_damage_cfg(image_dir, tmp_path, "loss.adv_weight=1.0"))


def test_trains_and_predicts(image_dir, tmp_path):
    res = train(tiny_damage_cfg(image_dir, tmp_path))
    run = tmp_path / "damage_tiny"
    assert res.step == 4
    header = (run / "log.csv").read_text().splitlines()[0].split(",")
    assert {"g_bce", "g_dice", "val_iou", "val_precision", "val_recall"} <= set(header)
    assert (run / "model.safetensors").is_file()

    import restore
    from restore.tasks.damage import DamageTask

    r = restore.load(run, device="cpu")
    assert r.card["task"] == "damage" and r.card["runtime"]["inference"]["threshold"] == 0.5
    x = torch.rand(1, 3, 40, 52)
    prob = r.run_tensor(x)
    assert prob.shape == (1, 3, 40, 52)
    assert 0 <= float(prob.min()) and float(prob.max()) <= 1
    assert torch.equal(prob[:, 0], prob[:, 1])  # one probability, replicated
    out = DamageTask.evaluate(r.run_tensor, str(image_dir), r.card)
    assert len(out["images"]) == 3 and 0.0 <= out["iou"] <= 1.0


def test_binarize_hysteresis_keeps_only_regions_with_a_sure_pixel():
    from restore.tasks.damage import binarize

    prob = torch.zeros(1, 1, 6, 8)
    prob[0, 0, 1, 0:4] = 0.6  # a faint crack ...
    prob[0, 0, 1, 2] = 0.95  # ... with a sure core
    prob[0, 0, 4, 5:8] = 0.7  # a faint blob with nothing sure in it
    plain = binarize(prob, 0.5)
    assert plain.sum() == 7  # the threshold alone keeps both
    hyst = binarize(prob, 0.5, seed=0.9)
    want = torch.zeros_like(prob)
    want[0, 0, 1, 0:4] = 1
    assert torch.equal(hyst, want)
    assert torch.equal(binarize(prob, 0.5, seed=None), plain)
    # 8-connected: a diagonal neighbour belongs to the region
    prob[0, 0, 2, 4] = 0.6
    assert binarize(prob, 0.5, seed=0.9)[0, 0, 2, 4] == 1
    # grown after the selection
    assert binarize(prob, 0.5, grow=1, seed=0.9)[0, 0, 4, 6] == 0


def test_recipe_sets_the_crazing_of_the_print_damage(image_dir, tmp_path):
    """task_args.crazing_prob / crazing_width / crazing_strength reach OldPrintConfig; left out, its defaults stay."""
    from restore.data.old_print import OldPrintConfig

    extra = (
        "task_args.crazing_prob=0.9",
        "task_args.crazing_width=[1.0, 2.0]",
        "task_args.crazing_strength=[0.4, 0.9]",
    )
    task = create_task(tiny_damage_cfg(image_dir, tmp_path, *extra))
    assert task.prints.crazing_prob == 0.9 and task.prints.crazing_width == (1.0, 2.0)
    assert task.prints.crazing_strength == (0.4, 0.9)
    default = create_task(tiny_damage_cfg(image_dir, tmp_path))
    assert default.prints.crazing_prob == OldPrintConfig().crazing_prob
    assert default.prints.crazing_width == OldPrintConfig().crazing_width
    assert default.prints.crazing_strength == OldPrintConfig().crazing_strength
    with pytest.raises(ValueError, match="crazing_prob"):
        create_task(tiny_damage_cfg(image_dir, tmp_path, "task_args.crazing_prob=2.0"))


def test_recipe_sets_the_crack_and_scratch_widths_of_the_print_damage(image_dir, tmp_path):
    """task_args.crack_width / scratch_width reach OldPrintConfig; left out, its defaults stay;
    a reversed range is refused."""
    from restore.data.old_print import OldPrintConfig

    extra = ("task_args.crack_width=[0.7, 6.0]", "task_args.scratch_width=[1.0, 5.0]")
    task = create_task(tiny_damage_cfg(image_dir, tmp_path, *extra))
    assert task.prints.crack_width == (0.7, 6.0) and task.prints.scratch_width == (1.0, 5.0)
    default = create_task(tiny_damage_cfg(image_dir, tmp_path))
    assert default.prints.crack_width == OldPrintConfig().crack_width == (0.7, 2.5)
    assert default.prints.scratch_width == OldPrintConfig().scratch_width == (0.7, 3.0)
    with pytest.raises(ValueError, match="crack_width"):
        create_task(tiny_damage_cfg(image_dir, tmp_path, "task_args.crack_width=[5.0, 1.0]"))


def test_recipe_sets_the_crack_and_scratch_strengths_of_the_print_damage(image_dir, tmp_path):
    """task_args.crack_strength / scratch_strength reach OldPrintConfig; left out, the draws'
    old ranges stay; a strength under MASK_AT (nothing masked) is refused."""
    from restore.data.old_print import OldPrintConfig

    extra = ("task_args.crack_strength=[0.35, 1.0]", "task_args.scratch_strength=[0.4, 0.9]")
    task = create_task(tiny_damage_cfg(image_dir, tmp_path, *extra))
    assert task.prints.crack_strength == (0.35, 1.0)
    assert task.prints.scratch_strength == (0.4, 0.9)
    default = create_task(tiny_damage_cfg(image_dir, tmp_path))
    assert default.prints.crack_strength == OldPrintConfig().crack_strength == (0.75, 1.0)
    assert default.prints.scratch_strength == OldPrintConfig().scratch_strength == (0.7, 1.0)
    with pytest.raises(ValueError, match="scratch_strength"):
        create_task(tiny_damage_cfg(image_dir, tmp_path, "task_args.scratch_strength=[0.1, 1.0]"))


def test_recipe_sets_the_print_kinds(image_dir, tmp_path):
    """task_args.kind_probs reaches OldPrintConfig; a wrong count is refused."""
    from restore.data.old_print import OldPrintConfig

    weights = "task_args.kind_probs=[0.3, 0.2, 0.05, 0.3, 0.15]"
    task = create_task(tiny_damage_cfg(image_dir, tmp_path, weights))
    assert task.prints.kind_probs == (0.3, 0.2, 0.05, 0.3, 0.15)
    default = create_task(tiny_damage_cfg(image_dir, tmp_path))
    assert default.prints.kind_probs == OldPrintConfig().kind_probs
    with pytest.raises(ValueError, match="kind_probs"):
        create_task(tiny_damage_cfg(image_dir, tmp_path, "task_args.kind_probs=[1.0, 1.0]"))


def test_recipe_sets_how_often_prints_flake(image_dir, tmp_path):
    """task_args.flaking_prob reaches OldPrintConfig.flaking_prob; left out of the options (None),
    OldPrintConfig's default stays."""
    from restore.data.old_print import OldPrintConfig
    from restore.tasks.damage import print_config

    task = create_task(tiny_damage_cfg(image_dir, tmp_path, "task_args.flaking_prob=0.9"))
    assert task.prints.flaking_prob == 0.9
    assert print_config(DamageOptions()).flaking_prob == OldPrintConfig().flaking_prob
    with pytest.raises(ValueError, match="flaking_prob"):
        DamageOptions(flaking_prob=1.5)


def test_the_coarse_recipe_shrinks_each_batch_and_its_mask(image_dir, tmp_path):
    """configs/damage_coarse.yaml (task_args.downscale 2): the network sees each damaged patch
    shrunk twice by area mean, and a mask pixel is damage where at least half of it was."""
    from restore.tasks.damage import shrink_pair

    cfg = tiny_damage_cfg(image_dir, tmp_path, "task_args.downscale=2", "data.patch_size=64")
    assert load_config(REPO / "configs" / "damage_coarse.yaml").task_args["downscale"] == 2
    task, plain = create_task(cfg), create_task(tiny_damage_cfg(image_dir, tmp_path / "p"))
    raw = (torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255).byte()
    small = task.make_batch(raw, torch.Generator().manual_seed(1))
    full = plain.make_batch(raw, torch.Generator().manual_seed(1))  # the same draws, not shrunk
    assert small["input"].shape == (2, 3, 32, 32) and small["mask"].shape == (2, 1, 32, 32)
    want_x, want_m = shrink_pair(full["input"], full["mask"], 2)
    assert torch.allclose(small["input"], want_x) and torch.equal(small["mask"], want_m)
    assert set(small["mask"].unique().tolist()) <= {0.0, 1.0}


def test_bright_regions_lift_blobs_towards_white_and_keep_their_detail():
    """Inside a blob the photo is lifted to 1 - (1 - x)(1 - k), k in BRIGHT_LIFT, so the
    detail's contrast is kept, scaled by 1 - k; outside it is untouched; grey stays grey; the
    blobs cover about BRIGHT_AREA of the photo; share 0 changes nothing."""
    from restore.tasks.damage import BRIGHT_AREA, BRIGHT_LIFT, bright_regions

    g = torch.Generator().manual_seed(0)
    grey = torch.rand(3, 1, 96, 96, generator=g).expand(3, 3, 96, 96) * 0.6
    y = bright_regions(grey, 1.0, torch.Generator().manual_seed(1))
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])
    assert (y >= grey - 1e-6).all()
    # where the photo changed, the lift k = (y - x) / (1 - x) is one value per photo at the
    # blob's core (alpha 1) and never more than the largest lift
    k = ((y - grey) / (1 - grey))[:, :1]
    for i in range(3):
        moved = k[i] > 1e-4
        share = moved.float().mean().item()
        assert BRIGHT_AREA[0] * 0.5 <= share <= BRIGHT_AREA[1] * 2, share
        top = k[i][moved].max().item()
        assert BRIGHT_LIFT[0] - 1e-4 <= top <= BRIGHT_LIFT[1] + 1e-4
        core = (k[i] > top - 1e-4).squeeze(0)  # alpha 1: the detail scaled by exactly 1 - top
        a, b = grey[i, 0][core], y[i, 0][core]
        assert core.sum() > 20
        assert torch.allclose(b - b.mean(), (a - a.mean()) * (1 - top), atol=1e-5)
    same = torch.rand(2, 3, 16, 16)
    assert torch.equal(bright_regions(same, 0.0, torch.Generator().manual_seed(5)), same)


def test_bright_share_changes_the_photo_and_not_the_mask(image_dir, tmp_path):
    """task_args.bright_share lifts blobs of the photo before any damage is drawn: they are scene
    content, so an undamaged sample shows them with an empty mask."""
    from restore.tasks.base import unit_patches
    from restore.tasks.damage import bright_regions

    plain = ["task_args.clean_share=1.0", "task_args.clean_print_share=0.0"]
    plain += ["task_args.clean_grey_share=0.0", "task_args.clean_mild_share=0.0"]
    cfg = tiny_damage_cfg(image_dir, tmp_path, "task_args.bright_share=1.0", *plain)
    task = create_task(cfg)
    raw = (torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 200).byte()
    batch = task.make_batch(raw, torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(1)
    want = bright_regions(unit_patches(raw, g), 1.0, g)
    assert torch.equal(batch["input"], want) and batch["mask"].sum() == 0
    base = unit_patches(raw, torch.Generator().manual_seed(1))  # the same mirror draws
    assert (want >= base).all() and (want > base + 0.05).any()
    with pytest.raises(ValueError, match="bright_share"):
        DamageOptions(bright_share=1.5)
