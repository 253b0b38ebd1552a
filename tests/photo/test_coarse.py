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


def _flake(h: int = 600, w: int = 400, fibres: float = 0.04) -> torch.Tensor:
    """A mid-grey print with a fine grain (+-0.01) and one large paper-white patch (rows 100-299,
    columns 100-299) as rough as ``fibres`` (+-; bare paper), grey (R = G = B)."""
    g = torch.Generator().manual_seed(0)
    x = 0.4 + 0.02 * (torch.rand(1, 1, h, w, generator=g) - 0.5)
    patch = 0.93 + 2 * fibres * (torch.rand(1, 1, 200, 200, generator=g) - 0.5)
    x[..., 100:300, 100:300] = patch
    return x.expand(1, 3, h, w).clone()


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
    from restore.photo.coarse import COARSE_MODEL

    on = PhotoRestorer(device="cpu")  # the shipped coarse detector by default
    assert on.coarse is not None and on.model_names["coarse"] == COARSE_MODEL
    assert on.coarse.card["name"] == "damage-coarse" and on.coarse.task == "damage"
    assert PhotoRestorer(device="cpu", detect_coarse=None).coarse is None  # off on request


def test_fine_texture_is_the_detail_a_gaussian_blur_takes_away() -> None:
    """|luma - blur|, the blur as scipy's Gaussian of sigma 1.5 (cv2's kernel is cut at +-4
    sigma as scipy's, with a reflected border): grain scores, shading does not."""
    from scipy.ndimage import gaussian_filter

    from restore.photo.coarse import fine_texture

    g = torch.Generator().manual_seed(1)
    luma = torch.rand(64, 80, generator=g).numpy().astype("float32")
    want = abs(luma - gaussian_filter(luma, 1.5, mode="mirror", truncate=4.0))
    got = fine_texture(luma)
    assert got.shape == luma.shape
    assert abs(got[8:-8, 8:-8] - want[8:-8, 8:-8]).max() < 1e-3
    ramp = torch.linspace(0, 1, 80).expand(64, 80).numpy().astype("float32").copy()
    assert float(fine_texture(ramp)[8:-8, 8:-8].max()) < 1e-4  # shading is no texture


def test_fibrous_keeps_a_rough_paper_blob_and_drops_a_smooth_white_one() -> None:
    """A blob counts as bare paper when its texture is at least PAPER_TEXTURE times the photo's:
    a patch as rough as paper is kept, one as smooth as the print around it (a white shirt) goes,
    on the photo as it is and shrunk for a large scan."""
    from restore.photo.coarse import PAPER_TEXTURE, fibrous

    region = torch.zeros(1, 1, 600, 400)
    region[..., 100:300, 100:300] = 1
    assert torch.equal(fibrous(region, _flake()), region)
    assert not fibrous(region, _flake(fibres=0.01)).any()  # as smooth as the print's grain
    assert PAPER_TEXTURE > 1.0
    big = torch.nn.functional.interpolate(_flake(fibres=0.06), scale_factor=3.0, mode="nearest")
    big_region = torch.nn.functional.interpolate(region, scale_factor=3.0, mode="nearest")
    kept = fibrous(big_region, big)  # 1800 x 1200: judged at a longer side of 1024
    assert torch.equal(kept, big_region)
    two = region.clone()
    two[..., 400:500, 100:300] = 1  # a second blob over the smooth print: dropped alone
    kept = fibrous(two, _flake())
    assert torch.equal(kept, region)


def test_a_paper_blob_joins_the_mask_after_the_faces_protection(monkeypatch) -> None:
    """The faces' protection keeps only thin defects in a face; a flake off the face is paper,
    so the coarse blobs join after it (here a protection that clears every mask)."""
    import restore.faces.detect as detect
    import restore.faces.protect as protect

    monkeypatch.setattr(detect, "detect_faces", lambda image: [])
    monkeypatch.setattr(protect, "keep_thin_in_faces", lambda m, boxes, image=None: m * 0)
    args = {**ARGS, "protect_faces": True}
    x = _flake()
    mask = detect_damage(_Bright(), x, 0.5, 0, coarse=_Bright(), **args)
    assert float(mask[0, 0, 100:300, 100:300].mean()) > 0.97
    assert not detect_damage(_Bright(), x, 0.5, 0, **args).any()  # the full-size mask is cleared


def test_a_batch_of_a_colour_photo_and_a_print_grows_the_print_like_its_damage() -> None:
    """dilate="like" grows the coarse blobs over the whole batch's photos, not only the prints'."""
    colour = _flake()
    colour[..., 0::2, :100] = torch.tensor([0.8, 0.2, 0.2]).view(1, 3, 1, 1)
    colour[..., 1::2, :100] = torch.tensor([0.2, 0.55, 0.2]).view(1, 3, 1, 1)
    both = torch.cat([colour, _flake()])
    mask = detect_damage(_Nothing(), both, 0.5, "like", coarse=_Bright(), **ARGS)
    assert not mask[0].any() and float(mask[1, 0, 100:300, 100:300].mean()) > 0.97


def test_a_kept_blob_reaches_as_far_as_the_coarse_map_stays_over_its_low_threshold() -> None:
    """Hysteresis: the kept blob grows over the region over COARSE_LOW that it touches (a
    flake's rim, where the map falls off); a region over COARSE_LOW that no kept blob touches,
    and the map under it, stay out."""
    from restore.photo.coarse import COARSE_LOW, COARSE_THRESHOLD, reach

    p = torch.zeros(1, 1, 40, 40)
    p[..., 5:25, 5:25] = COARSE_LOW + 0.05  # the flake's rim
    p[..., 10:20, 10:20] = COARSE_THRESHOLD + 0.3  # its middle, the kept blob
    p[..., 30:38, 30:38] = COARSE_LOW + 0.1  # a faint blob elsewhere
    kept = (p > COARSE_THRESHOLD).float()
    want = torch.zeros_like(p)
    want[..., 5:25, 5:25] = 1
    assert torch.equal(reach(kept, p), want)
    assert torch.equal(reach(torch.zeros_like(p), p), torch.zeros_like(p))
