"""restore.photo.stains: a coloured stain's darkening lifted by the channels it spares."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from restore.data.color import rgb_to_gray
from restore.data.io import read_image
from restore.photo.stains import MAX_GAIN, lift_stains, stain_gain
from restore.photo.tone import measure_tone

SEPIA = torch.tensor([1.0, 0.82, 0.62]).view(1, 3, 1, 1)


def _q(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round() / 255


def _jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Saved as a JPEG (4:2:0 chroma) and read back."""
    ok, buf = cv2.imencode(
        ".jpg",
        (x[0].permute(1, 2, 0).numpy()[..., ::-1] * 255).round().astype(np.uint8),
        [cv2.IMWRITE_JPEG_QUALITY, quality],
    )
    assert ok
    b = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return torch.from_numpy(b.copy()).permute(2, 0, 1)[None].float() / 255


def _picture(h: int = 96, w: int = 128, seed: int = 0) -> torch.Tensor:
    """A grey picture (1, 3, H, W) over the full range: smooth shading plus sharp 8-px blocks
    (edges, where JPEG's half-size chroma bleeds)."""
    g = torch.Generator().manual_seed(seed)
    smooth = F.interpolate(torch.rand(1, 1, 6, 8, generator=g), size=(h, w), mode="bilinear")
    blocks = F.interpolate(torch.rand(1, 1, h // 8, w // 8, generator=g), size=(h, w))
    lum = smooth + blocks
    lum = (lum - lum.min()) / (lum.max() - lum.min())
    return lum.expand(-1, 3, -1, -1).contiguous()


def _blot(h: int = 96, w: int = 128) -> torch.Tensor:
    """(1, 1, H, W) a soft round stain over about a fifth of the picture, 1 at its core."""
    ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(), indexing="ij")
    r = ((ys - 40) ** 2 + (xs - 50) ** 2).sqrt()
    return (1 - (r - 22) / 6).clamp(0, 1)[None, None]


def _stain(x: torch.Tensor, t: tuple[float, float, float]) -> torch.Tensor:
    """The print seen through a filter of transmission ``t`` where the blot is."""
    return _q(x * torch.tensor(t).view(1, 3, 1, 1) ** _blot(*x.shape[-2:]))


def _levels(a: torch.Tensor, b: torch.Tensor, where: torch.Tensor) -> float:
    return float(((rgb_to_gray(a) - rgb_to_gray(b)).abs() * 255)[where].mean())


def _lift(x: torch.Tensor) -> tuple[torch.Tensor, list[float]]:
    return lift_stains(x, measure_tone(x, single=True))[:2]


@pytest.mark.parametrize("base", ["sepia", "neutral"])
def test_a_stain_that_spares_red_is_lifted_whole(base: str) -> None:
    clean = _q(_picture() * (SEPIA if base == "sepia" else 1.0))
    stained = _stain(clean, (1.0, 0.8, 0.55))  # yellow-brown: blue absorbed most, red not
    y, share = _lift(stained)
    core, far = _blot() > 0.99, _blot() == 0
    assert _levels(stained, clean, core) > 10  # the stain darkens its core by ~13 levels
    assert _levels(y, clean, core) < 2.5
    assert 0.15 < share[0] < 0.35
    # far from the stain (beyond the blur) the print is bit-identical
    far = torch.nn.functional.max_pool2d((~far).float(), 19, 1, 9) == 0
    assert torch.equal(
        y.expand(-1, 3, -1, -1)[far.expand(-1, 3, -1, -1)], stained[far.expand(-1, 3, -1, -1)]
    )


def test_a_stain_that_darkens_every_channel_is_lifted_only_as_far_as_its_red_shows() -> None:
    clean = _q(_picture() * SEPIA)
    stained = _stain(clean, (0.85, 0.7, 0.5))  # red absorbed too: 15% cannot be seen
    y = _lift(stained)[0]
    core = _blot() > 0.99
    assert _levels(stained, clean, core) > 15
    # red passes 85% under the stain, so the print's channels show the luma down to 0.85 of it
    shown = (rgb_to_gray(y) - 0.85 * rgb_to_gray(clean)) * 255
    assert float(shown[core].abs().mean()) < 1.5
    over = (rgb_to_gray(y) - rgb_to_gray(clean)) * 255
    assert float(over[core].quantile(0.99)) < 0  # never lifted above the clean print


def test_the_tone_is_measured_again_without_the_stain() -> None:
    """A stain over a fifth of the sample print's crop makes most of its mid-dark pixels: the
    first curve's blue bends by more than 5 levels there, the one measured without the lifted
    pixels by under 2.5, and the print far from the stain is then lifted by under 1.5 levels."""
    px = read_image(Path(__file__).parents[2] / "assets" / "old_photo.jpg").pixels
    clean = torch.from_numpy(px[200:296, 200:328].copy()).permute(2, 0, 1)[None].float() / 255
    stained = clean.clone()
    stained[..., :48, :52] = _q(clean[..., :48, :52] * torch.tensor([1.0, 0.8, 0.55]).view(3, 1, 1))
    truth = measure_tone(clean, single=True)[0].curve
    first = measure_tone(stained, single=True)
    y, _, again = lift_stains(stained, first)
    assert float((first[0].curve - truth).abs().max()) * 255 > 5
    assert float((again[0].curve - truth).abs().max()) * 255 < 2.5
    lift = (rgb_to_gray(y) - rgb_to_gray(stained))[..., 60:, 70:] * 255
    assert float(lift.max()) < 1.5


def test_an_unstained_print_is_left_alone() -> None:
    """Bit-identical as saved losslessly; after JPEG q75 (4:2:0 chroma bleeding over sharp
    edges everywhere) lifted by at most 4 levels anywhere and 0.05 on average."""
    g = torch.Generator().manual_seed(3)
    for base in (SEPIA, torch.tensor([0.55, 0.8, 1.0]).view(1, 3, 1, 1), 1.0):
        noise = 2 / 255 * torch.randn(1, 3, 96, 128, generator=g)
        x = _q((_picture(seed=2) * base + noise).clamp(0, 1))
        y, share = _lift(x)
        assert y is x and share == [0.0]
        x = _jpeg(x, 75)
        lift = (rgb_to_gray(_lift(x)[0]) - rgb_to_gray(x)) * 255
        assert float(lift.max()) < 4 and float(lift.mean()) < 0.05


def test_gain_bounds_colour_photos_and_bad_input() -> None:
    x = _stain(_q(_picture() * SEPIA), (1.0, 0.2, 0.05))  # far past what a stain passes
    t = measure_tone(x, single=True)[0]
    g = stain_gain(x, t.curve)
    assert float(g.min()) == 1.0 and float(g.max()) <= MAX_GAIN
    colour = torch.rand(1, 3, 8, 10).repeat_interleave(8, 2).repeat_interleave(8, 3)
    tone = measure_tone(colour)  # measured without single: colour, left alone
    assert tone[0].kind == "colour"
    assert lift_stains(colour, tone) == (colour, [0.0], tone)
    with pytest.raises(ValueError, match="expected prints"):
        lift_stains(colour[:, :1], tone)
    with pytest.raises(ValueError, match="2 tones for 1 prints"):
        lift_stains(colour, tone * 2)
