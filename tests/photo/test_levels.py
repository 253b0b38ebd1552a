"""restore photo shows the detector a dim print brightened, its bare paper white."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restore.photo.levels import DIM, HIGH, MAX_GAIN, levelled, paper_gain
from restore.photo.stages import detect_damage

ARGS = dict(protect_faces=False, half_size=False, corners=False, flips=1)


def _ramp(top: float, n: int = 2000) -> torch.Tensor:
    """A grey photo whose luma runs evenly from 0 to ``top`` (16 rows of it)."""
    return (top * torch.linspace(0, 1, n)).view(1, 1, 1, n).expand(1, 3, 16, n).clone()


def test_a_dim_print_is_brightened_by_its_paper_quantile() -> None:
    x = _ramp(0.6)
    y = levelled(x)
    q = float(np.quantile(x[0, 0].numpy(), HIGH))  # numpy's linear quantile, as torch's
    assert q < DIM
    np.testing.assert_allclose(y.numpy(), np.clip(x.numpy() / q, 0, 1), rtol=1e-5, atol=1e-6)
    assert float(y.max()) == 1.0 and float(y.min()) == 0.0  # black stays black


def test_a_photo_with_white_paper_and_a_colour_photo_are_left_as_they_are() -> None:
    x = _ramp(0.9)  # its 99.5% quantile 0.8955, over DIM
    assert torch.equal(levelled(x), x)
    g = torch.Generator().manual_seed(0)
    colour = torch.rand(2, 3, 40, 50, generator=g)
    assert torch.equal(levelled(colour), colour)


def test_the_gain_is_capped_and_each_photo_of_a_batch_gets_its_own() -> None:
    dark, dim, bright = _ramp(0.1), _ramp(0.5), _ramp(1.0)
    y = levelled(torch.cat([dark, dim, bright]))
    torch.testing.assert_close(y[0], dark[0] * MAX_GAIN)  # 0.1 would need 10x: 4x at most
    q = float(np.quantile(dim[0, 0].numpy(), HIGH))
    torch.testing.assert_close(y[1], (dim[0] / q).clamp(0, 1))
    assert torch.equal(y[2], bright[0])
    # the same channels' gain: a sepia print keeps its tone's ratios where it is not clipped
    sepia = _ramp(0.6) * torch.tensor([1.0, 0.85, 0.65]).view(1, 3, 1, 1)
    s = levelled(sepia)[0, :, :, 1:1000]  # column 0 is black
    torch.testing.assert_close(s[1] / s[0], torch.full_like(s[1], 0.85))


@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 1, 8, 8), (1, 4, 8, 8)])
def test_not_photos_are_refused(shape) -> None:
    with pytest.raises(ValueError, match="expected photos"):
        levelled(torch.rand(shape))


class _White:
    """A 'detector' that, as the shipped one, marks only near-white paper (> 0.9)."""

    def __init__(self) -> None:
        self.calls: list[torch.Tensor] = []

    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x)
        return (x.mean(1, keepdim=True) > 0.9).float()


def _dim_print() -> torch.Tensor:
    """A print photographed in dim light: picture 0.2-0.45, a flake of bare paper at 0.62."""
    g = torch.Generator().manual_seed(1)
    x = 0.2 + 0.25 * torch.rand(1, 1, 64, 64, generator=g).expand(1, 3, 64, 64).clone()
    x[..., 30:36, 40:46] = 0.62
    return x


def test_the_detector_finds_the_flake_of_a_dim_print_only_brightened() -> None:
    x = _dim_print()
    model = _White()
    assert not detect_damage(model, x, 0.5, 0, **ARGS).any()  # as it is: the flake is grey
    mask = detect_damage(model, x, 0.5, 0, levels=paper_gain(x), **ARGS)
    assert mask[..., 30:36, 40:46].all() and mask.sum() == 36  # the flake, all of it, and only it
    assert torch.equal(x, _dim_print())  # the photo itself is not changed


def test_restore_photo_brightens_for_the_detector_by_default() -> None:
    from restore.photo import PhotoRestorer

    assert PhotoRestorer(device="cpu").detect_levels
    assert not PhotoRestorer(device="cpu", detect_levels=False).detect_levels
