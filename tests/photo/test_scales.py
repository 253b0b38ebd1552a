"""Half-size damage detection (restore.photo.scales)."""

import pytest
import torch

from restore.photo.margins import BAND
from restore.photo.scales import LARGE_SHARE, MIN_SIDE, damage_probability, large_regions


def test_large_regions_keeps_big_regions_off_the_edge():
    h = w = 200
    p = torch.zeros(1, 1, h, w)
    p[..., 80:110, 80:110] = 0.9  # 900 px = 2.25% of the image: kept
    p[..., 20:24, 150:154] = 0.9  # 16 px: too small
    p[..., 150, 10:190] = 0.9  # a fold-like line across (180 px = 0.45%): too small
    p[..., 160:163, :] = 0.9  # a long line to both edges (600 px, 1.5%), 8% of it near the edges
    p[..., 40:140, 0:4] = 0.9  # a strip along the left edge (400 px, 1%): the print's edge
    assert round(BAND * 200) == 8  # the strip lies inside the edge band
    m = large_regions(p)
    assert m.shape == (1, 1, h, w)
    assert bool(m[..., 80:110, 80:110].all())
    assert not m[..., 20:24, 150:154].any()
    assert not m[..., 150, 10:190].any()
    assert bool(m[..., 160:163, :].all())
    assert not m[..., 40:140, 0:4].any()
    # exactly those pixels and nothing else
    assert int(m.sum()) == 900 + 600


def test_large_regions_threshold_and_share():
    p = torch.zeros(2, 1, 100, 100)
    p[0, :, 40:60, 40:60] = 0.6  # 4% of the image
    p[1, :, 40:43, 40:43] = 0.6  # 0.09%: below the default share
    assert int(large_regions(p).sum()) == 400
    assert int(large_regions(p, threshold=0.7).sum()) == 0
    assert int(large_regions(p, share=0.0005).sum()) == 400 + 9
    assert LARGE_SHARE == 0.005


class SizeStub:
    """Finds a large blob only when it sees the photo at half size (as a detector whose view is
    too small for it at full size); records the sizes it was run on."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def run_tensor(self, x):
        h, w = x.shape[-2:]
        self.sizes.append((h, w))
        p = torch.zeros(x.shape[0], 1, h, w)
        p[..., h // 4 : h // 2, w // 4 : w // 2] = 0.8 if h < 200 else 0.3
        p[..., 0, 0] = 0.95 if h >= 200 else 0.0  # a full-size speck the half-size map lacks
        return p


def test_damage_probability_adds_half_size_regions():
    stub = SizeStub()
    x = torch.rand(1, 3, 256, 320)
    p = damage_probability(stub, x)
    assert stub.sizes == [(256, 320), (128, 160)]
    assert p.shape == (1, 1, 256, 320)
    inner = p[..., 70:120, 90:150]  # inside the blob, away from its upsampled border
    torch.testing.assert_close(inner, torch.full_like(inner, 0.8))
    assert float(p[..., 0, 0]) == pytest.approx(0.95)  # the full-size map is kept where higher
    assert float(p[..., 200:, 200:].max()) == 0.0


def test_small_photos_are_only_seen_at_full_size():
    stub = SizeStub()
    x = torch.rand(1, 3, MIN_SIDE - 1, 300)
    p = damage_probability(stub, x)
    assert stub.sizes == [(MIN_SIDE - 1, 300)]
    assert float(p.max()) == pytest.approx(0.8)
