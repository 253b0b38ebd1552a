from __future__ import annotations

import pytest
import torch

from restore.data.augment import joint_augment, random_crop


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    """Images whose red channel is exactly 0.25 or 0.75, and the mask thresholding it."""
    x = torch.rand(4, 3, 64, 64, generator=_gen(0))
    x[:, 0] = torch.where(x[:, 0] > 0.5, 0.75, 0.25)
    return x, (x[:, :1] > 0.5).float()


def test_mask_follows_image(pair):
    x, m = pair
    y, n = joint_augment(x, m, generator=_gen(1), crop=48)
    assert y.shape == (4, 3, 48, 48) and n.shape == (4, 1, 48, 48)
    assert torch.equal(n, (y[:, :1] > 0.5).float())
    assert set(n.unique().tolist()) <= {0.0, 1.0}


def test_output_is_a_crop_of_a_flip_or_turn(pair):
    x, m = pair
    y, _ = joint_augment(x, m, generator=_gen(2), crop=40)
    for b in range(4):
        found = False
        for k in range(4):
            for flip in (False, True):
                src = x[b].rot90(k, (1, 2))
                src = src.flip(2) if flip else src
                win = src.unfold(1, 40, 1).unfold(2, 40, 1)  # (3, 25, 25, 40, 40)
                err = (win - y[b][:, None, None]).abs().amax((0, 3, 4))
                found |= bool(err.min() < 1e-4)
        assert found


def test_seeded_reproducible_global_rng_untouched(pair):
    x, m = pair
    state = torch.get_rng_state()
    a = joint_augment(x, m, generator=_gen(3), crop=32, color_jitter=0.3)
    assert torch.equal(torch.get_rng_state(), state)
    b = joint_augment(x, m, generator=_gen(3), crop=32, color_jitter=0.3)
    c = joint_augment(x, m, generator=_gen(4), crop=32, color_jitter=0.3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_color_jitter_touches_images_only(pair):
    x, m = pair
    y, n = joint_augment(x, m, generator=_gen(5), flips=False, rot90=False, color_jitter=0.4)
    assert torch.equal(n, m)
    assert not torch.allclose(y, x) and y.min() >= 0 and y.max() <= 1


def test_without_masks_and_noop(pair):
    x, _ = pair
    y, n = joint_augment(x, generator=_gen(6))
    assert n is None and y.shape == x.shape
    same, _ = joint_augment(x, generator=_gen(6), flips=False, rot90=False)
    assert torch.equal(same, x)


def test_joint_augment_errors(pair):
    x, m = pair
    with pytest.raises(ValueError, match="square"):
        joint_augment(x, m, generator=_gen(0), crop=(32, 48))
    with pytest.raises(ValueError, match="larger"):
        joint_augment(x, m, generator=_gen(0), crop=80)
    with pytest.raises(ValueError, match="masks"):
        joint_augment(x, m[:2], generator=_gen(0))


def test_random_crop_offsets_per_item():
    b, h, w = 8, 40, 50
    rows = torch.arange(h).view(1, 1, h, 1).expand(b, 1, h, w)
    cols = torch.arange(w).view(1, 1, 1, w).expand(b, 1, h, w)
    x = torch.cat([rows, cols], 1).to(torch.uint8)
    out = random_crop(x, (16, 24), _gen(0))
    assert out.shape == (b, 2, 16, 24) and out.dtype == torch.uint8
    top, left = out[:, 0, 0, 0].long(), out[:, 1, 0, 0].long()
    # each crop is a contiguous window
    assert torch.equal(
        out[:, 0].long(), top.view(-1, 1, 1) + torch.arange(16).view(1, -1, 1).expand(b, 16, 24)
    )
    assert torch.equal(
        out[:, 1].long(), left.view(-1, 1, 1) + torch.arange(24).view(1, 1, -1).expand(b, 16, 24)
    )
    assert (top <= h - 16).all() and (left <= w - 24).all()
    assert len(set(zip(top.tolist(), left.tolist()))) > 1  # offsets differ between items
    assert torch.equal(out, random_crop(x, (16, 24), _gen(0)))


def test_random_crop_covers_all_offsets_and_errors():
    x = torch.arange(6.0).view(1, 1, 1, 6).expand(64, 1, 2, 6)
    seen = set(random_crop(x, (2, 3), _gen(1))[:, 0, 0, 0].tolist())
    assert seen == {0.0, 1.0, 2.0, 3.0}
    with pytest.raises(ValueError, match="larger"):
        random_crop(x, 7, _gen(0))
