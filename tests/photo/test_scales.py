"""Half-size damage detection (restore.photo.scales)."""

import pytest
import torch

from restore.photo.margins import BAND
from restore.photo.scales import (
    FLIPS,
    LARGE_SHARE,
    MIN_SIDE,
    PYRAMID_SIDE,
    SCAN_FLIPS,
    SUPPORT,
    damage_probability,
    flip_average,
    large_regions,
    levels,
)


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


class Stub:
    """A detector stand-in that records the sizes it was run on; ``draw`` paints its map."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def run_tensor(self, x):
        h, w = x.shape[-2:]
        self.sizes.append((h, w))
        p = torch.zeros(x.shape[0], 1, h, w)
        self.draw(p, h, w)
        return p


class SizeStub(Stub):
    """Finds a large blob only when it sees the photo at half size (as a detector whose view is
    too small for it at full size)."""

    def draw(self, p, h, w):
        p[..., h // 4 : h // 2, w // 4 : w // 2] = 0.8 if h < 200 else 0.3
        p[..., 0, 0] = 0.95 if h >= 200 else 0.0  # a full-size speck the half-size map lacks


def test_damage_probability_adds_half_size_regions():
    stub = SizeStub()
    x = torch.rand(1, 3, 256, 320)
    p = damage_probability(stub, x, flips=1)
    assert stub.sizes == [(256, 320), (128, 160)]
    assert p.shape == (1, 1, 256, 320)
    inner = p[..., 70:120, 90:150]  # inside the blob, away from its upsampled border
    torch.testing.assert_close(inner, torch.full_like(inner, 0.8))
    assert float(p[..., 0, 0]) == pytest.approx(0.95)  # the full-size map is kept where higher
    assert float(p[..., 200:, 200:].max()) == 0.0


def test_small_photos_are_only_seen_at_full_size():
    stub = SizeStub()
    x = torch.rand(1, 3, MIN_SIDE - 1, 300)
    p = damage_probability(stub, x, flips=1)
    assert stub.sizes == [(MIN_SIDE - 1, 300)]
    assert float(p.max()) == pytest.approx(0.8)


class ScaleStub(Stub):
    """Sees a wide crack (the middle tenth of the photo's width) only when it looks at the photo
    at most 480 px wide: a detector trained on thin cracks."""

    def draw(self, p, h, w):
        if w <= 480:
            p[..., :, w // 2 - w // 20 : w // 2 + w // 20] = 0.9


def test_levels_halve_large_scans_down_to_the_pyramid_side():
    assert levels(MIN_SIDE - 1, 4000) == []
    assert levels(MIN_SIDE, MIN_SIDE) == [2]
    assert levels(768, 1024) == [2]  # the held-out sets and the 1024 x 768 benchmark
    assert levels(4 * PYRAMID_SIDE - 1, 4000) == [2]
    assert levels(4 * PYRAMID_SIDE, 4000) == [2, 4]
    assert levels(3456, 4608) == [2, 4, 8]  # real_old/photo-restoration/sample.jpeg
    assert levels(8 * PYRAMID_SIDE, 8 * PYRAMID_SIDE) == [2, 4, 8]


def test_a_crack_too_wide_at_full_size_is_found_on_a_smaller_level():
    stub = ScaleStub()
    p = damage_probability(stub, torch.rand(1, 3, 3072, 3840), flips=1)  # a 384-px wide crack
    assert stub.sizes == [(3072, 3840), (1536, 1920), (768, 960), (384, 480)]
    assert p.shape == (1, 1, 3072, 3840)
    band, mid = p[0, 0, 100:-100], 3840 // 2
    assert float(band[:, mid - 150 : mid + 150].min()) == pytest.approx(0.9)  # found at 1/8
    assert float(band[:, : mid - 250].max()) == 0.0 and float(band[:, mid + 250 :].max()) == 0.0
    stub = ScaleStub()  # as wide, but only 700 px tall: half size only, and the crack is missed
    assert float(damage_probability(stub, torch.rand(1, 3, 700, 3840), flips=1).max()) == 0.0
    assert stub.sizes == [(700, 3840), (350, 1920)]


class SpeckStub(Stub):
    """Finds a small speck (0.03% of the photo: no large region) at any size."""

    def draw(self, p, h, w):
        p[..., h // 3 : h // 3 + max(1, h // 60), w // 3 : w // 3 + max(1, w // 60)] = 0.9


def test_a_large_scans_working_level_adds_its_small_regions_too():
    # on a 2000-px scan the last level (1/4, 500 px) is at the detector's own scale: its small
    # regions count; the half-size level adds large regions only, as on any photo
    x = torch.rand(1, 3, 2000, 2000)
    stub = SpeckStub()
    p = damage_probability(stub, x, flips=1)
    assert stub.sizes == [(2000, 2000), (1000, 1000), (500, 500)]
    assert float(p[0, 0, 667:690, 667:690].min()) == pytest.approx(0.9)  # the 1/4 speck, kept
    stub = SpeckStub()
    small = damage_probability(
        stub, torch.rand(1, 3, 600, 600), flips=1
    )  # 1/2 is the last: large only
    assert stub.sizes == [(600, 600), (300, 300)]
    assert int((small > 0.5).sum()) == 10 * 10  # the full-size speck alone
    p = damage_probability(SpeckStub(), x, pyramid=False, flips=1)
    assert int((p > 0.5).sum()) == 33 * 33  # without the pyramid: the full-size speck alone


def test_large_regions_need_support_from_the_full_size_map():
    """Two 4% blobs at half size; the full-size map marks a tenth of the first (mean 0.09) and
    nothing of the second (a smooth highlight): with a floor only the first joins."""
    p = torch.zeros(1, 1, 100, 100)
    p[..., 10:30, 10:30] = 0.8
    p[..., 60:80, 60:80] = 0.8
    full = torch.zeros_like(p)
    full[..., 10:12, 10:30] = 0.9  # 40 of the blob's 400 px
    assert int(large_regions(p, support=full).sum()) == 800  # no floor: both
    m = large_regions(p, support=full, floor=SUPPORT)
    assert int(m.sum()) == 400 and bool(m[..., 10:30, 10:30].all())
    assert int(large_regions(p, support=full, floor=0.1).sum()) == 0  # 0.09 < 0.1


class HighlightStub(Stub):
    """At half size, a large bright region; at full size nothing there (a highlight)."""

    def draw(self, p, h, w):
        if h < 200:
            p[..., h // 4 : h // 2, w // 4 : w // 2] = 0.8


def test_damage_probability_drops_half_size_regions_the_full_size_map_does_not_mark():
    x = torch.rand(1, 3, 256, 320)
    assert float(damage_probability(HighlightStub(), x, flips=1).max()) == 0.0
    assert float(
        damage_probability(SizeStub(), x, flips=1)[..., 70:120, 90:150].min()
    ) == pytest.approx(0.8)


class BrightLeftEdge(Stub):
    """An equivariant part (the photo's bright pixels, as damage is found whichever way the print
    lies) plus a false alarm that is not: the left-most column of whatever it is shown."""

    def run_tensor(self, x):
        self.sizes.append(tuple(x.shape[-2:]))
        p = (x.mean(1, keepdim=True) > 0.9).float()
        p[..., 0] = 1.0
        return p


def test_flip_average_keeps_damage_and_dilutes_what_is_not_mirror_symmetric():
    x = torch.zeros(1, 3, 40, 60)
    x[..., 10:14, 20:50] = 1.0  # a bright scratch
    for flips, edge in ((1, 1.0), (2, 0.5), (4, 0.5)):
        stub = BrightLeftEdge()
        p = flip_average(stub, x, flips)
        assert len(stub.sizes) == flips
        assert bool((p[..., 10:14, 20:50] == 1.0).all())  # the damage stays whole
        # the left column: seen as "left" in the views not mirrored left-right only
        assert float(p[0, 0, 20, 0]) == pytest.approx(edge)
        assert float(p[0, 0, 20, -1]) == pytest.approx(1.0 - edge if flips > 1 else 0.0)
        assert float(p[0, 0, 30, 30]) == 0.0
    # hand-computed mean of the four views on a random map
    g = torch.Generator().manual_seed(0)
    field = torch.rand(1, 1, 5, 7, generator=g)

    class Fixed:
        def run_tensor(self, v):
            return field  # the same map whatever it is shown, mirrored back by flip_average

    want = (field + field.flip(-1) + field.flip(-2) + field.flip(-2, -1)) / 4
    torch.testing.assert_close(flip_average(Fixed(), x, 4), want)
    with pytest.raises(ValueError, match="flips"):
        flip_average(Fixed(), x, 3)
    assert FLIPS in (1, 2, 4)


def test_damage_probability_averages_every_level_over_the_flips():
    stub = BrightLeftEdge()
    x = torch.rand(1, 3, 256, 320) * 0.5
    p = damage_probability(stub, x, flips=2)
    assert stub.sizes == [(256, 320)] * 2 + [(128, 160)] * 2
    assert float(p[0, 0, 100, 0]) == pytest.approx(0.5)  # the false alarm halved


class FaintStub(Stub):
    """A wide crack marked 0.45 when the photo is at most 480 px wide (0 at larger sizes), and a
    blob marked 0.45 at half size: both above the pipeline's 0.4, below 0.5."""

    def draw(self, p, h, w):
        if w <= 480:
            p[..., :, w // 2 - w // 20 : w // 2 + w // 20] = 0.45
        if h < 200:
            p[..., h // 4 : h // 2, w // 4 : w // 2] = 0.45


def test_a_scans_working_level_is_cut_at_the_pipelines_threshold():
    scan = torch.rand(1, 3, 1536, 1920)  # levels 2 and 4; 1/4 is 480 px wide, the working level
    at_04 = damage_probability(FaintStub(), scan, flips=1, threshold=0.4)
    assert float(at_04[..., 100:1400, 940:980].min()) == pytest.approx(0.45)
    at_05 = damage_probability(FaintStub(), scan, flips=1, threshold=0.5)
    assert float(at_05.max()) == 0.0
    # below scan size, the half-size level's large regions keep the large-region rule's own 0.5
    x = torch.rand(1, 3, 256, 960)  # full size too wide for the stub's crack, half size not
    assert float(damage_probability(FaintStub(), x, flips=1, threshold=0.4).max()) == 0.0


def test_a_large_scans_full_size_is_seen_in_scan_flips_views():
    # a scan with a 1/4 level: its full size in SCAN_FLIPS (2) views, the smaller levels in all
    # four; a photo without one (1024 x 768) keeps four views at full size
    stub = SpeckStub()
    damage_probability(stub, torch.rand(1, 3, 1536, 1600), flips=4)
    assert SCAN_FLIPS == 2
    assert stub.sizes == [(1536, 1600)] * 2 + [(768, 800)] * 4 + [(384, 400)] * 4
    stub = SpeckStub()
    damage_probability(stub, torch.rand(1, 3, 1536, 1600), flips=4, scan_flips=4)
    assert stub.sizes[:5] == [(1536, 1600)] * 4 + [(768, 800)]
    stub = SpeckStub()
    damage_probability(stub, torch.rand(1, 3, 768, 1024), flips=4)
    assert stub.sizes == [(768, 1024)] * 4 + [(384, 512)] * 4
    stub = SpeckStub()  # never more views than flips
    damage_probability(stub, torch.rand(1, 3, 1536, 1600), flips=1)
    assert stub.sizes == [(1536, 1600), (768, 800), (384, 400)]
    with pytest.raises(ValueError, match="scan_flips"):
        damage_probability(SpeckStub(), torch.rand(1, 3, 1536, 1600), scan_flips=3)
