"""The pieces tasks share (restore.tasks.base): same draws, same numbers as the code they replace."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from restore.config import LossConfig
from restore.core.layers import to_signed
from restore.tasks.base import (
    SeededValSet,
    conditional_d_loss,
    conditional_g_loss,
    echo_view,
    image_d_loss,
    image_g_loss,
    mean_psnrs,
    per_image,
    pick_share,
    random_hflip,
    replace_share,
    sample_grid,
    unit_patches,
)


def _raw(n: int = 6) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, 8, 8), generator=torch.Generator().manual_seed(0)).to(
        torch.uint8
    )


def test_unit_patches_is_float_then_flip_and_draws_only_when_flipping():
    x = _raw()
    g, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(unit_patches(x, g), random_hflip(x.float() / 255.0, g2))
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=g2))
    g3 = torch.Generator().manual_seed(1)
    assert torch.equal(unit_patches(x, g3, flip=False), x.float() / 255.0)
    assert torch.equal(
        torch.rand(2, generator=g3), torch.rand(2, generator=torch.Generator().manual_seed(1))
    )


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_replace_share_draws_one_number_per_image_whatever_it_picks(share):
    x, y = torch.zeros(6, 1, 2, 2), torch.ones(6, 1, 2, 2)
    g = torch.Generator().manual_seed(3)
    calls = []

    def make(idx: torch.Tensor):
        calls.append(idx)
        return torch.full((len(idx), 1, 2, 2), 5.0), torch.full((len(idx), 1, 2, 2), 7.0)

    a, b = replace_share(share, g, make, x, y)
    picked = torch.rand(6, generator=torch.Generator().manual_seed(3)) < share
    assert torch.equal(a[:, 0, 0, 0] == 5, picked) and torch.equal(b[:, 0, 0, 0] == 7, picked)
    assert len(calls) == int(bool(picked.any()))  # make is not called when none is picked
    g_ref = torch.Generator().manual_seed(3)
    torch.rand(6, generator=g_ref)
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=g_ref))
    assert torch.equal(pick_share(6, share, torch.Generator().manual_seed(3), x.device), picked)


def test_image_losses_are_the_conditional_halves_on_signed_images():
    torch.manual_seed(0)
    D = nn.Conv2d(6, 1, 3, padding=1)
    c, real, fake = torch.rand(3, 2, 3, 8, 8).unbind(0)
    cfg = LossConfig(adversarial="hinge", adv_weight=0.1, pixel="l1", pixel_weight=1.0)
    d1, _ = image_d_loss(D, c, real, fake, cfg, 0)
    d2, _ = conditional_d_loss(D, to_signed(c), to_signed(real), to_signed(fake), cfg, 0)
    g1, _ = image_g_loss(D, c, real, fake, cfg, True)
    g2, _ = conditional_g_loss(D, to_signed(c), to_signed(real), to_signed(fake), cfg, True)
    assert torch.equal(d1, d2) and torch.equal(g1, g2)
    D3 = nn.Conv2d(3, 1, 3, padding=1)
    u1, _ = image_d_loss(D3, None, real, fake, cfg, 0)
    u2, _ = conditional_d_loss(D3, None, to_signed(real), to_signed(fake), cfg, 0)
    assert torch.equal(u1, u2)


def test_per_image_sample_grid_and_mean_psnrs():
    x, m = torch.rand(5, 3, 4, 4), torch.rand(5, 1, 4, 4)
    assert torch.equal(per_image(lambda a, b: a * b, x, m), x * m)
    grid = sample_grid(x, x[:4] + 1, x)
    assert grid.shape == (12, 3, 4, 4) and torch.equal(grid[1], x[0] + 1)
    assert sample_grid(x[:2], x[:2]).shape == (4, 3, 4, 4)
    r = mean_psnrs(x, psnr=x.clamp(0, 0.9), psnr_input=x * 0.5)
    assert list(r) == ["psnr", "psnr_input"] and r["psnr"] > r["psnr_input"]


def test_seeded_val_set_is_none_without_a_folder():
    assert SeededValSet("", 2, 16, 0, lambda c, g: (c,)).on(nn.Conv2d(3, 3, 1)) is None


def test_seeded_val_set_is_made_once(shared_data):
    G = nn.Conv2d(3, 3, 1)
    made = []

    def make(crops: torch.Tensor, g: torch.Generator):
        made.append(1)
        return crops, torch.rand(len(crops), generator=g)

    vs = SeededValSet(str(shared_data / "val" / "Set5" / "x4" / "HR"), 2, 16, 7, make)
    a, b = vs.on(G), vs.on(G)
    assert len(made) == 1 and torch.equal(a[1], b[1]) and a[0].shape == (2, 3, 16, 16)
    assert torch.equal(a[1], torch.rand(2, generator=torch.Generator().manual_seed(7)))


def _dihedral(img: torch.Tensor) -> list[torch.Tensor]:
    """The 8 symmetries of a square image (C, H, W), by hand: 4 rotations, each also mirrored."""
    rots = [torch.rot90(img, k, dims=(-2, -1)) for k in range(4)]
    return rots + [r.flip(-1) for r in rots]


def test_echo_view_moves_every_spatial_tensor_of_an_image_the_same_way():
    g0 = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 6, 6, generator=g0)
    batch = {  # an image, its mask, its half-size version (as SR's pair), a latent
        "input": x,
        "mask": (x[:, :1] > 0.5).float(),
        "lr": F.avg_pool2d(x, 2),
        "z": torch.rand(64, 7),
    }
    v = echo_view(batch, torch.Generator().manual_seed(1), 8)
    assert torch.equal(v["mask"], (v["input"][:, :1] > 0.5).float())  # the mask follows its image
    assert torch.allclose(v["lr"], F.avg_pool2d(v["input"], 2), atol=1e-6)
    assert torch.equal(v["z"], batch["z"])
    seen = set()
    for i in range(64):  # each image is one of its own 8 symmetries, and all 8 occur
        views = _dihedral(x[i])
        hits = [k for k, d in enumerate(views) if torch.equal(v["input"][i], d)]
        assert len(hits) == 1, i
        seen.add(hits[0])
    assert seen == set(range(8))


def test_echo_view_two_views_only_mirror_and_non_square_never_transposes():
    x = torch.rand(32, 1, 4, 6, generator=torch.Generator().manual_seed(2))
    v2 = echo_view({"input": x}, torch.Generator().manual_seed(3), 2)["input"]
    mirrored = [bool(torch.equal(v2[i], x[i].flip(-1))) for i in range(32)]
    assert all(torch.equal(v2[i], x[i]) or mirrored[i] for i in range(32))
    assert 0 < sum(mirrored) < 32
    v8 = echo_view({"input": x}, torch.Generator().manual_seed(3), 8)["input"]
    assert v8.shape == x.shape  # a 4 x 6 patch is only mirrored, never transposed
    for i in range(32):
        assert any(
            torch.equal(v8[i], d) for d in (x[i], x[i].flip(-1), x[i].flip(-2), x[i].flip(-1, -2))
        )
    g = torch.Generator().manual_seed(4)
    assert echo_view({"input": x}, g, 1)["input"] is x  # one view: unchanged, nothing drawn
    assert torch.equal(
        torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(4))
    )
    with pytest.raises(ValueError, match="views must be 1, 2 or 8"):
        echo_view({"input": x}, g, 4)
