from __future__ import annotations

import pytest
import torch

from restore.data.masks import (
    blob_masks,
    box_masks,
    dust_masks,
    max_filter,
    random_masks,
    scratch_masks,
    stroke_masks,
)

KINDS = {
    "thin": lambda **kw: stroke_masks(width="thin", **kw),
    "medium": lambda **kw: stroke_masks(width="medium", **kw),
    "thick": lambda **kw: stroke_masks(width="thick", **kw),
    "box": box_masks,
    "blob": blob_masks,
    "scratch": scratch_masks,
    "dust": dust_masks,
    "random": lambda **kw: random_masks(kinds=("stroke", "box", "blob", "scratch", "dust"), **kw),
}
RANGES = [(0.0, 0.1), (0.01, 0.02), (0.1, 0.2), (0.3, 0.4), (0.5, 0.6)]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("hole_range", RANGES)
def test_hole_ratio_in_range(kind, hole_range):
    m = KINDS[kind](b=4, h=64, w=48, hole_range=hole_range, generator=_gen(1))
    assert m.shape == (4, 1, 64, 48) and m.dtype == torch.float32
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    ratio = m.double().mean((1, 2, 3))
    assert bool(((ratio >= hole_range[0]) & (ratio <= hole_range[1])).all()), ratio.tolist()


@pytest.mark.parametrize("kind", KINDS)
def test_seeded_reproducible_and_seed_sensitive(kind):
    a = KINDS[kind](b=3, h=64, w=64, hole_range=(0.05, 0.3), generator=_gen(7))
    b = KINDS[kind](b=3, h=64, w=64, hole_range=(0.05, 0.3), generator=_gen(7))
    c = KINDS[kind](b=3, h=64, w=64, hole_range=(0.05, 0.3), generator=_gen(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_generator_advances_and_batch_items_differ():
    g = _gen(0)
    a = stroke_masks(2, 64, 64, hole_range=(0.1, 0.3), generator=g)
    b = stroke_masks(2, 64, 64, hole_range=(0.1, 0.3), generator=g)
    assert not torch.equal(a, b)
    assert not torch.equal(a[0], a[1])


def test_scratches_are_thin_and_mostly_vertical():
    one_px = scratch_masks(
        4, 128, 128, hole_range=(0.01, 0.02), thickness=(1, 1), generator=_gen(3)
    )
    # 1 px near-vertical lines: many more vertical than horizontal neighbour pairs
    vertical = (one_px[..., 1:, :] * one_px[..., :-1, :]).sum()
    horizontal = (one_px[..., 1:] * one_px[..., :-1]).sum()
    assert vertical > 5 * horizontal
    m = scratch_masks(4, 128, 128, hole_range=(0.01, 0.02), generator=_gen(3))[:, 0]
    # thin: mean run length of a row crossing is at most a few pixels
    starts = ((m[:, :, 1:] == 1) & (m[:, :, :-1] == 0)).sum() + m[:, :, 0].sum()
    assert m.sum() / starts < 4.5


def test_zero_range_and_device_argument():
    m = box_masks(2, 32, 32, hole_range=(0.0, 0.0), generator=_gen(0), device="cpu")
    assert m.sum() == 0 and m.device.type == "cpu"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hole_range=(0.6, 0.5)), "hole_range"),
        (dict(hole_range=(-0.1, 0.5)), "hole_range"),
        (dict(hole_range=(0.5001, 0.5002)), "holds no pixel count"),
    ],
)
def test_bad_hole_range(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stroke_masks(1, 16, 16, generator=_gen(0), **kwargs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        stroke_masks(1, 16, 16, width="huge", generator=_gen(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kinds"):
        random_masks(1, 16, 16, kinds=("stroke", "circle"), generator=_gen(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        box_masks(0, 16, 16, generator=_gen(0))


def test_max_filter_is_the_square_max_pool():
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    binary = (torch.rand(2, 1, 37, 41, generator=g) > 0.9).float()
    values = torch.rand(1, 3, 29, 23, generator=g)  # any float values, several channels
    for x in (binary, values):
        for k in (1, 3, 7, 15, 51):  # 51: wider than the image, the border counts as nothing
            want = F.max_pool2d(x, k, stride=1, padding=k // 2)
            got = max_filter(x, k)
            assert got.dtype == x.dtype and torch.equal(got, want)


def test_max_filter_refuses_an_even_kernel():
    with pytest.raises(ValueError, match="odd"):
        max_filter(torch.zeros(1, 1, 4, 4), 4)
