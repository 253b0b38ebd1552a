"""The coarse detector: damage at a whole print's scale, found on the photo shrunk, joins the mask."""

from __future__ import annotations

import pytest
import torch

from restore.photo.coarse import coarse_probability, coarse_size
from restore.photo.stages import detect_damage
from restore.tasks.damage import DamageOptions, shrink_pair

ARGS = dict(protect_faces=False, half_size=False, corners=False, flips=1)


class _Bright:
    """A 'detector' for bright pixels that records the sizes it is given."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        self.sizes.append(tuple(x.shape[-2:]))
        return (x.mean(1, keepdim=True) > 0.9).float()


class _Nothing:
    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x[:, :1])


def _flake(h: int = 600, w: int = 400) -> torch.Tensor:
    """A mid-grey print with one large paper-white patch (rows 100-299, columns 100-299)."""
    x = torch.full((1, 3, h, w), 0.4)
    x[..., 100:300, 100:300] = 0.97
    return x


@pytest.mark.parametrize(
    ("h", "w", "want"),
    [
        (768, 1024, (160, 208)),
        (1024, 768, (208, 160)),
        (553, 390, (224, 160)),
        (40, 30, (208, 160)),
    ],
)
def test_coarse_size_brings_the_shorter_side_to_160_in_multiples_of_16(h, w, want) -> None:
    assert coarse_size(h, w) == want
    hs, ws = coarse_size(h, w)
    assert hs % 16 == 0 and ws % 16 == 0
    assert abs(hs / ws - h / w) < 0.1  # the aspect stays within the rounding


def test_the_coarse_model_sees_the_photo_shrunk_and_its_map_comes_back_full_size() -> None:
    model = _Bright()
    p = coarse_probability(model, _flake())
    assert model.sizes == [(240, 160)]  # 600 x 400 -> shorter side 160
    assert p.shape == (1, 1, 600, 400)
    assert float(p[..., 110:290, 110:290].min()) == 1.0  # the patch, all of it inside
    assert float(p[..., 320:, :].max()) == 0.0 and float(p[..., :, 320:].max()) == 0.0
    # its edge comes back within a couple of shrunk pixels (2 x 600/240 px) of the true one
    rows = (p[0, 0, :, 200] > 0.5).nonzero().view(-1)
    assert abs(int(rows[0]) - 100) <= 5 and abs(int(rows[-1]) - 299) <= 5


def test_detect_damage_adds_the_coarse_regions_to_the_full_size_mask() -> None:
    x = _flake()
    assert not detect_damage(_Nothing(), x, 0.5, 0, **ARGS).any()  # the full-size map misses it
    mask = detect_damage(_Nothing(), x, 0.5, 0, coarse=_Bright(), **ARGS)
    inside = mask[0, 0, 100:300, 100:300]
    assert float(inside.mean()) > 0.97
    assert float(mask.sum()) < 1.03 * 200 * 200  # and little else


def test_a_colour_photo_is_not_given_to_the_coarse_model() -> None:
    x = _flake()
    # the picture around the patch in red and green of one luminance: a colour photo
    x[..., 0::2, :100] = torch.tensor([0.8, 0.2, 0.2]).view(1, 3, 1, 1)
    x[..., 1::2, :100] = torch.tensor([0.2, 0.55, 0.2]).view(1, 3, 1, 1)
    model = _Bright()
    mask = detect_damage(_Nothing(), x, 0.5, 0, coarse=model, **ARGS)
    assert model.sizes == [] and not mask.any()
    from restore.photo.coarse import COARSE_SPREAD
    from restore.photo.tone import colour_spread

    assert float(colour_spread(x)[0]) > COARSE_SPREAD > float(colour_spread(_flake())[0])
    both = torch.cat([x, _flake()])  # judged photo by photo: the grey print still is
    mask = detect_damage(_Nothing(), both, 0.5, 0, coarse=model, **ARGS)
    assert model.sizes == [(240, 160)] and not mask[0].any()
    assert float(mask[1, 0, 100:300, 100:300].mean()) > 0.97


def test_shrink_pair_keeps_what_covers_half_a_shrunk_pixel() -> None:
    img = torch.rand(2, 3, 8, 8)
    mask = torch.zeros(2, 1, 8, 8)
    mask[0, 0, :4, :4] = 1  # a blob: stays
    mask[0, 0, 6, :] = 1  # a 1-px line: a quarter of each 4x4 cell, dropped
    mask[1, 0, 4:, 4:6] = 1  # a 2-px band: half of each cell, stays
    small, m = shrink_pair(img, mask, 4)
    assert small.shape == (2, 3, 2, 2) and m.shape == (2, 1, 2, 2)
    assert torch.allclose(small, img.view(2, 3, 2, 4, 2, 4).mean((3, 5)))
    assert m[0, 0].tolist() == [[1.0, 0.0], [0.0, 0.0]]
    assert m[1, 0].tolist() == [[0.0, 0.0], [0.0, 1.0]]
    assert shrink_pair(img, mask, 1)[1] is mask


def test_downscale_must_be_a_positive_factor() -> None:
    with pytest.raises(ValueError, match="downscale"):
        DamageOptions(downscale=0)


def test_a_coarse_model_that_is_not_there_is_skipped_with_a_warning() -> None:
    from restore.photo import PhotoRestorer

    pr = PhotoRestorer(device="cpu", detect_coarse="no-such-coarse-model")
    assert pr.coarse is None and "coarse" not in pr.model_names
    assert any("no coarse detector" in w for w in pr.warnings)
    assert PhotoRestorer(device="cpu").coarse is None  # off by default
