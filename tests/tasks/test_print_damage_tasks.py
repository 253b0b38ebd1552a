"""Damage, enhance and inpainting train on real-print damage (restore.data.old_print) when asked."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from restore.config import load_config
from restore.data.old_print import HOLE_EFFECTS, OldPrintConfig, old_print_damage, print_hole_masks
from restore.errors import ConfigError
from restore.tasks import create_task

REPO = Path(__file__).resolve().parents[2]


def task(recipe: str, *extra: str):
    return create_task(load_config(REPO / "configs" / recipe, ["data.val=", *extra]))


def raw(n: int = 4, size: int = 48) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    smooth = torch.rand(n, 3, 6, 6, generator=g)
    img = torch.nn.functional.interpolate(smooth, size=(size, size), mode="bilinear")
    return (img * 255).round().to(torch.uint8)


def test_damage_print_share_one_is_exactly_old_print_damage():
    t = task("damage.yaml", "task_args.print_share=1.0", "task_args.clean_share=0.0")
    x = raw()
    batch = t.make_batch(x, torch.Generator().manual_seed(3))
    # replay: the hflip draws, the legacy damage, the pick, then old_print_damage on all images
    g = torch.Generator().manual_seed(3)
    from restore.data.degrade import old_photo_damage
    from restore.tasks.base import random_hflip

    clean = random_hflip(x.float() / 255.0, g)
    old_photo_damage(clean, generator=g, config=t.damage)
    torch.rand(4, generator=g)
    d, m, _ = old_print_damage(clean, g, t.prints)
    assert torch.equal(batch["input"], d) and torch.equal(batch["mask"], m)


def test_damage_print_share_zero_is_the_old_training():
    t0 = task("damage.yaml", "task_args.print_share=0.0", "task_args.clean_share=0.0")
    x = raw()
    a = t0.make_batch(x, torch.Generator().manual_seed(1))
    from restore.data.degrade import old_photo_damage
    from restore.tasks.base import random_hflip

    g = torch.Generator().manual_seed(1)
    d, m = old_photo_damage(random_hflip(x.float() / 255.0, g), generator=g, config=t0.damage)
    assert torch.equal(a["input"], d) and torch.equal(a["mask"], m)


def test_damage_clean_share_gives_clean_inputs_with_empty_masks():
    x = raw(16)
    only_photos = "task_args.clean_print_share=0.0"
    b = task(
        "damage.yaml", "task_args.print_share=0.5", "task_args.clean_share=0.5", only_photos
    ).make_batch(x, torch.Generator().manual_seed(2))
    b0 = task(
        "damage.yaml", "task_args.print_share=0.5", "task_args.clean_share=0.0", only_photos
    ).make_batch(x, torch.Generator().manual_seed(2))
    clean = x.float() / 255.0
    kept = (b["mask"].flatten(1).amax(1) == 0) & (b0["mask"].flatten(1).amax(1) > 0)
    assert 0 < int(kept.sum()) < 16  # some, not all, of a damaged batch became clean pairs
    for i in kept.nonzero().view(-1).tolist():  # the clean photo itself (maybe mirrored)
        assert torch.equal(b["input"][i], clean[i]) or torch.equal(b["input"][i], clean[i].flip(-1))
    rest = (~kept) & (b0["mask"].flatten(1).amax(1) > 0)
    assert torch.equal(b["input"][rest], b0["input"][rest])
    assert torch.equal(b["mask"][rest], b0["mask"][rest])
    with pytest.raises(ConfigError, match="clean_share must be in \\[0, 1\\], got -0.1"):
        task("damage.yaml", "task_args.clean_share=-0.1")


def test_damage_clean_print_share_makes_undamaged_samples_intact_prints():
    x = raw(16)
    clean = x.float() / 255.0

    def batch(share: float) -> dict[str, torch.Tensor]:
        t = task("damage.yaml", "task_args.clean_share=1.0", f"task_args.clean_print_share={share}")
        return t.make_batch(x, torch.Generator().manual_seed(4))

    def is_photo(inp: torch.Tensor) -> torch.Tensor:  # the clean photo itself (maybe mirrored)
        return torch.tensor(
            [torch.equal(a, c) or torch.equal(a, c.flip(-1)) for a, c in zip(inp, clean)]
        )

    every = batch(1.0)
    assert (every["mask"] == 0).all()  # intact prints have no hole
    assert not is_photo(every["input"]).any()
    # near-grey prints (B&W bases; tone effects such as yellowing may tint them a little) among
    # them, which none of the colour photos is

    def chroma(t: torch.Tensor) -> torch.Tensor:
        return (t - t.mean(1, keepdim=True)).abs().flatten(1).mean(1)

    assert (chroma(every["input"]) < 0.02).any() and (chroma(clean) > 0.05).all()
    half = batch(0.5)
    assert (half["mask"] == 0).all() and 0 < int(is_photo(half["input"]).sum()) < 16
    assert is_photo(batch(0.0)["input"]).all()
    with pytest.raises(ConfigError, match="clean_print_share must be in"):
        task("damage.yaml", "task_args.clean_print_share=1.5")


def test_plain_negatives_grey_is_bt601_luma_and_mild_is_mild():
    from restore.tasks.damage import MILD_JPEG, plain_negatives

    x = raw(8).float() / 255.0
    g = torch.Generator().manual_seed(0)
    grey = plain_negatives(x, 1.0, 0.0, g)
    luma = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]  # by hand
    for c in range(3):
        torch.testing.assert_close(grey[:, c], luma, atol=1e-5, rtol=0)
    # mild: every photo changed, slightly (PSNR against itself 25-50 dB), grey ones stay grey
    for src in (x, grey):
        y = plain_negatives(src, 0.0, 1.0, torch.Generator().manual_seed(1))
        psnr = -10 * torch.log10((y - src).pow(2).flatten(1).mean(1))
        assert ((psnr > 25) & (psnr < 50)).all(), psnr
    y = plain_negatives(grey, 0.0, 1.0, torch.Generator().manual_seed(1))
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])
    assert MILD_JPEG[0] >= 1 and MILD_JPEG[1] <= 100
    # shares of 0: the photos themselves, and no draw from the generator
    g0 = torch.Generator().manual_seed(5)
    assert plain_negatives(x, 0.0, 0.0, g0) is x
    assert torch.equal(torch.rand(3, generator=g0), torch.rand(3, generator=torch.manual_seed(5)))


def test_damage_clean_grey_and_mild_shares_make_plain_undamaged_samples():
    x = raw(16)
    clean = x.float() / 255.0

    def batch(*extra: str) -> dict[str, torch.Tensor]:
        t = task("damage.yaml", "task_args.clean_share=1.0", *extra)
        return t.make_batch(x, torch.Generator().manual_seed(4))

    def flat(t: torch.Tensor) -> torch.Tensor:  # R = G = B exactly
        return (t.amax(1) == t.amin(1)).flatten(1).all(1)

    grey = batch("task_args.clean_print_share=0.0", "task_args.clean_grey_share=1.0")
    assert (grey["mask"] == 0).all() and flat(grey["input"]).all() and not flat(clean).any()
    # with intact prints too: the prints replace some of the grey photos, the rest stay grey
    mixed = batch("task_args.clean_print_share=0.5", "task_args.clean_grey_share=1.0")
    assert (mixed["mask"] == 0).all() and 0 < int(flat(mixed["input"]).sum()) < 16
    # mild: every photo changed a little, none left grey that was colour
    mild = batch("task_args.clean_print_share=0.0", "task_args.clean_mild_share=1.0")
    diff = (mild["input"] - clean).abs().flatten(1).mean(1)
    diff_flip = (mild["input"] - clean.flip(-1)).abs().flatten(1).mean(1)
    assert (torch.minimum(diff, diff_flip) > 0).all() and not flat(mild["input"]).any()
    with pytest.raises(ConfigError, match="clean_mild_share must be in"):
        task("damage.yaml", "task_args.clean_mild_share=1.5")


def test_enhance_print_pairs_target_the_toned_print_and_have_no_holes():
    t = task("enhance.yaml", "task_args.print_share=1.0", "task_args.clean_share=0.0")
    b = t.make_batch(raw(8), torch.Generator().manual_seed(0))
    clean = raw(8).float() / 255.0
    # targets are toned prints: B&W ones have R = G = B exactly, and some differ from the photo
    grey = (b["target"][:, 0] == b["target"][:, 1]).flatten(1).all(1)
    # (each image may be flipped: compare with the nearer of the photo and its mirror)
    off = torch.minimum(
        (b["target"] - clean).abs().flatten(1).amax(1),
        (b["target"] - clean.flip(-1)).abs().flatten(1).amax(1),
    )
    assert grey.any() and (off > 0.05).any()
    assert not torch.equal(b["input"], b["target"])


def test_enhance_clean_share_one_gives_identity_pairs():
    t = task("enhance.yaml", "task_args.print_share=0.5", "task_args.clean_share=1.0")
    b = t.make_batch(raw(), torch.Generator().manual_seed(0))
    assert torch.equal(b["input"], b["target"])


def test_enhance_shares_are_checked():
    with pytest.raises(ConfigError, match="clean_share must be in \\[0, 1\\], got 1.5"):
        task("enhance.yaml", "task_args.clean_share=1.5")


def test_inpaint_print_share_uses_print_hole_shapes():
    t = task("inpaint.yaml", "task_args.print_share=1.0")
    x = raw(4, 64)
    b = t.make_batch(x, torch.Generator().manual_seed(5))
    assert torch.equal(b["input"], b["target"] * (1 - b["mask"]))
    assert ((b["mask"] == 0) | (b["mask"] == 1)).all() and (b["mask"].flatten(1).amax(1) == 1).all()
    # hole masks of prints are not the random masks the legacy path draws
    t0 = task("inpaint.yaml", "task_args.print_share=0.0")
    b0 = t0.make_batch(x, torch.Generator().manual_seed(5))
    assert not torch.equal(b["mask"], b0["mask"])


def test_print_hole_masks_match_the_composite():
    x = torch.rand(2, 3, 40, 40, generator=torch.Generator().manual_seed(0))
    m = print_hole_masks(x, torch.Generator().manual_seed(7))
    _, m2, _ = old_print_damage(
        x, torch.Generator().manual_seed(7), OldPrintConfig.only(*HOLE_EFFECTS)
    )
    assert torch.equal(m, m2) and m.shape == (2, 1, 40, 40)
