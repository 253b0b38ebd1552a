"""Mask growth to the defect's width (restore.photo.growth): hand-built cases with known answers."""

import pytest
import torch

from restore.photo.growth import grow_like_damage
from restore.photo.stages import detect_damage


def _crack(width: int, value: float = 1.0, back: float = 0.2, size: int = 32) -> torch.Tensor:
    """A vertical crack ``width`` px wide starting at column 10, on a flat background."""
    x = torch.full((1, 3, size, size), back)
    x[..., :, 10 : 10 + width] = value
    return x


def _core(col: int, size: int = 32) -> torch.Tensor:
    m = torch.zeros(1, 1, size, size)
    m[..., :, col] = 1
    return m


def _cols(m: torch.Tensor, row: int = 16) -> list[int]:
    return m[0, 0, row].nonzero().flatten().tolist()


@pytest.mark.parametrize("width", [1, 3, 5, 7])
def test_grows_to_the_crack_width_and_no_further(width: int) -> None:
    # the detector found one column near the crack's middle; the crack is up to 7 px wide, so
    # 3 steps reach both of its edges from the middle and the background stays out
    grown = grow_like_damage(_core(10 + width // 2), _crack(width))
    assert _cols(grown) == list(range(10, 10 + width))


def test_growth_stops_after_steps_pixels() -> None:
    # a 7-px crack (columns 10..16) found at its middle, column 13: one pixel per step
    x = _crack(7)
    assert _cols(grow_like_damage(_core(13), x, steps=0)) == [13]
    assert _cols(grow_like_damage(_core(13), x, steps=1)) == [12, 13, 14]
    assert _cols(grow_like_damage(_core(13), x, steps=2)) == [11, 12, 13, 14, 15]


def test_inside_wide_damage_the_colours_are_alike_and_growth_stops() -> None:
    # a 12-px patch found at column 12: the left edge (10) is 2 px away and is reached; to the
    # right, the pixels 3-4 px out that stand for the background are the patch itself, so
    # nothing tells damage from picture there and the mask does not spread (wide patches are
    # the half-size detector's: restore.photo.scales)
    grown = _cols(grow_like_damage(_core(12), _crack(12)))
    assert grown[0] == 10 and grown[-1] < 21


def test_mixed_rim_pixels_join_only_past_the_likeness() -> None:
    # columns 9 and 13 are blurred rims of a 3-px crack (value 1 on 0.2): 0.2 + 0.8 * share.
    # With likeness 0.5 the rim at share 0.6 joins and the one at 0.4 does not.
    x = _crack(3)
    x[..., :, 9] = 0.2 + 0.8 * 0.6
    x[..., :, 13] = 0.2 + 0.8 * 0.4
    grown = grow_like_damage(_core(11), x, likeness=0.5)
    assert _cols(grown) == [9, 10, 11, 12]
    # a likeness of 0.35 takes both rims
    assert _cols(grow_like_damage(_core(11), x, likeness=0.35)) == [9, 10, 11, 12, 13]


def test_dark_cracks_and_colour_damage_grow_the_same_way() -> None:
    x = _crack(3, value=0.05, back=0.7)  # a dark crack on a light print
    assert _cols(grow_like_damage(_core(11), x)) == [10, 11, 12]
    # damage that differs in hue only (a red stain-free scratch on green): the RGB distance counts
    x = torch.zeros(1, 3, 32, 32)
    x[:, 1] = 0.6
    x[:, 0, :, 10:13], x[:, 1, :, 10:13] = 0.6, 0.0
    assert _cols(grow_like_damage(_core(11), x)) == [10, 11, 12]


def test_no_growth_where_damage_looks_like_its_background() -> None:
    # contrast 0.04 * sqrt(3) = 0.069 < MIN_CONTRAST (0.08): nothing to follow, the mask stays
    x = _crack(3, value=0.24, back=0.2)
    assert _cols(grow_like_damage(_core(11), x)) == [11]
    # and a mask on plain background (a false positive on a flat wall) does not spread
    flat = torch.full((1, 3, 32, 32), 0.5)
    assert int(grow_like_damage(_core(11), flat).sum()) == 32


def test_shape_values_and_empty_mask() -> None:
    x = torch.rand(2, 3, 20, 24, generator=torch.Generator().manual_seed(0))
    m = (torch.rand(2, 1, 20, 24, generator=torch.Generator().manual_seed(1)) > 0.9).float()
    grown = grow_like_damage(m, x)
    assert grown.shape == m.shape and grown.dtype == torch.float32
    assert set(grown.unique().tolist()) <= {0.0, 1.0}
    assert bool((grown >= m).all())  # a superset
    assert bool((grown <= torch.nn.functional.max_pool2d(m, 7, 1, 3)).all())  # <= 3 px away
    assert int(grow_like_damage(torch.zeros(2, 1, 20, 24), x).sum()) == 0


def test_bad_arguments() -> None:
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="mask"):
        grow_like_damage(torch.zeros(1, 8, 8), x)
    with pytest.raises(ValueError, match="does not match"):
        grow_like_damage(torch.zeros(1, 1, 8, 9), x)
    with pytest.raises(ValueError, match="window"):
        grow_like_damage(torch.zeros(1, 1, 8, 8), x, window=4)


class _Fixed:
    """A 'detector' whose probability map is fixed (the crack's middle column, surely)."""

    def __init__(self, prob: torch.Tensor) -> None:
        self.prob = prob

    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.prob


def test_detect_damage_grows_like_damage_on_request_and_everywhere_with_dilate() -> None:
    x = _crack(5, size=64)
    prob = torch.zeros(1, 1, 64, 64)
    prob[..., 8:56, 12] = 0.9
    model = _Fixed(prob)
    args = dict(protect_faces=False, half_size=False, corners=False, flips=1)
    guided = detect_damage(model, x, 0.5, "like", **args)
    assert _cols(guided, 30) == [10, 11, 12, 13, 14]  # the crack, 5 px
    blanket = detect_damage(model, x, 0.5, 1, **args)
    assert _cols(blanket, 30) == [11, 12, 13]  # one pixel either side, whatever is there
