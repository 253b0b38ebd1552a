"""Missing corners (restore.photo.corners): found on torn prints, left alone on pictures."""

import numpy as np
import pytest
import torch

from restore.eval.holdout_damage import holdout_image
from restore.photo.corners import MAX_SHARE, missing_corners


def _picture(h: int = 160, w: int = 200, seed: int = 0) -> torch.Tensor:
    """A photo-like picture: smooth shading plus texture, in [0.25, 0.75]."""
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = 0.5 + 0.15 * torch.sin(6 * xs + 3 * ys)
    tex = torch.nn.functional.avg_pool2d(torch.rand(1, 1, h, w, generator=g), 3, 1, 1)[0, 0]
    return (base + 0.2 * (tex - 0.5)).clamp(0.25, 0.75).expand(3, h, w)[None].clone()


def _torn(x: torch.Tensor, bed: float, a: int, b: int, seed: int = 1) -> torch.Tensor:
    """x with its top-left corner torn off along a ragged line from (0, a) to (b, 0)."""
    h, w = x.shape[-2:]
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[:h, :w]
    jag = np.interp(ys, np.arange(h), rng.normal(0, 1.5, h).cumsum() * 0.3)
    inside = xs / a + ys / b + jag / max(a, b) < 1
    out = x.clone()
    out[..., torch.from_numpy(inside)] = bed
    return out, torch.from_numpy(inside)


@pytest.mark.parametrize("bed", [0.97, 0.04])
def test_a_torn_corner_is_found_whatever_the_bed(bed):
    x, truth = _torn(_picture(), bed, a=50, b=40)
    m = missing_corners(x)[0, 0].bool()
    iou = float((m & truth).sum() / (m | truth).sum())
    assert iou > 0.9, iou
    assert not m[60:, :].any() and not m[:, 80:].any()  # nothing beyond the corner


def test_every_corner_is_looked_at():
    x, truth = _torn(_picture(), 0.97, a=40, b=30)
    flipped = x.flip(-1).flip(-2)  # the same tear in the bottom-right corner
    m = missing_corners(torch.cat([x, flipped]))
    assert torch.equal(m[1, 0].bool(), truth.flip(-1).flip(-2) & m[1, 0].bool())
    assert float(m[1, 0].sum()) > 0.9 * float(truth.sum())


def test_pictures_without_torn_corners_are_left_alone():
    x = _picture()
    assert not missing_corners(x).any()
    band = x.clone()
    band[..., :12, :] = 0.97  # a flat margin along the whole top edge: not a corner
    assert not missing_corners(band).any()
    soft = x.clone()  # a flat dark corner that shades off into the picture: no tear line
    ys, xs = torch.meshgrid(torch.arange(160.0), torch.arange(200.0), indexing="ij")
    ramp = ((xs / 50 + ys / 40 - 1) / 0.6).clamp(0, 1)  # a 20-30 px soft transition
    soft = 0.05 * (1 - ramp) + soft * ramp
    assert not missing_corners(soft).any()
    big, _ = _torn(x, 0.97, a=150, b=120)  # too large a share of the photo
    assert float(big.eq(0.97).float().mean()) > MAX_SHARE
    assert not missing_corners(big).any()
    noisy, _ = _torn(x, 0.97, a=50, b=40)
    noisy = noisy + 0.1 * torch.randn(noisy.shape, generator=torch.Generator().manual_seed(3))
    assert not missing_corners(noisy.clamp(0, 1)).any()  # not flat: picture, not the bed


def test_corners_of_the_independent_generator_are_found():
    # the evaluation generator's torn corner (restore.eval.holdout_damage), with its grain and
    # JPEG, on a textured picture
    pic = _picture(192, 256, seed=5)[0].permute(1, 2, 0).numpy().copy()
    found = total = 0
    for seed in range(6):
        damaged, mask, _ = holdout_image(pic, seed)
        m = missing_corners(torch.from_numpy(damaged).permute(2, 0, 1)[None])[0, 0].numpy() > 0
        assert not (m & (mask == 0)).sum() > 0.02 * m.sum() + 20  # inside the true mask
        found += int(m.sum() > 0)
        total += 1
    assert found >= 4, found


def test_bad_input():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        missing_corners(torch.rand(3, 32, 32))
    assert not missing_corners(torch.rand(1, 3, 8, 8)).any()  # too small to have corners
