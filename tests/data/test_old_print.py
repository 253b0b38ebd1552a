from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt

from restore.data import old_print as P
from restore.data.old_print_fields import arc_distance, cover, quantile_threshold, worley_edges

HOLES = {
    "crack": P.crack_network,
    "flaking": P.emulsion_flaking,
    "fold": lambda x, g, **kw: P.fold_creases(x, g, shadow=(4.0, 4.0), **kw),
    "tear": lambda x, g, **kw: P.torn_edges(x, g, corners=(1, 2), notch_prob=0.5, **kw),
    "scratch": P.scratches,
    "crazing": lambda x, g, **kw: P.crazing(x, g, creases=(2, 3), **kw),
    "dust": lambda x, g, **kw: P.dust_and_hair(x, g, hairs=(1, 3), **kw),
    "mould": P.mould_spots,
}
TONES = {
    "fade": P.fade,
    "yellowing": P.yellowing,
    "exposure": P.uneven_exposure,
    "vignette": P.vignette,
    "silvering": P.silvering,
    "foxing": P.foxing,
    "stain": P.water_stains,
    "texture": P.paper_texture,
    "halftone": P.halftone,
    "lowres": P.low_resolution,
}
GREY_KEEPING = ("fade", "exposure", "vignette", "texture", "halftone", "lowres")
pytestmark = pytest.mark.usefixtures("one_thread")  # small tensors: threads only add contention


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture
def img() -> torch.Tensor:
    """Two smooth colourful 96x80 images in [0.2, 0.8] (room to go lighter and darker)."""
    x = torch.rand(2, 3, 6, 5, generator=_gen(123))
    return 0.2 + 0.6 * F.interpolate(x, size=(96, 80), mode="bilinear")


def _grey(img: torch.Tensor) -> torch.Tensor:
    return img.mean(1, keepdim=True).expand(-1, 3, -1, -1).contiguous()


# ------------------------------------------------------------------------ fields


def test_quantile_threshold_leaves_the_asked_fraction():
    field = torch.randn(3, 1, 50, 40, generator=_gen(0))
    frac = torch.tensor([0.0, 0.01, 0.25])
    above = (field > quantile_threshold(field, frac)).float().mean((1, 2, 3))
    torch.testing.assert_close(above, frac, atol=1 / 2000, rtol=0)


def test_cover_is_a_band_of_the_given_width():
    dist = torch.arange(-10, 11).float()  # a column of pixels across a line at 0
    # a band 6 px wide: 5 pixels fully inside, the two at |d| = 3 half covered
    assert float(cover(torch.tensor(3.0), dist).sum()) == 6.0
    assert float(cover(torch.tensor(0.25), dist).sum()) == 0.5 * 0.75  # thin: fainter
    assert cover(torch.tensor(0.0), dist).max() == 0  # zero width draws nothing


def test_straight_arc_distance_is_the_distance_to_the_line():
    ys = torch.arange(32).float().view(1, 1, 32, 1) + 0.5
    xs = torch.arange(32).float().view(1, 1, 1, 32) + 0.5
    one = lambda v: torch.tensor(float(v)).view(1, 1, 1, 1)  # noqa: E731
    # a horizontal segment through y = 16.5, 20 px long, centred at x = 16.5; huge radius
    signed, t, inside = arc_distance(ys, xs, (one(16.5), one(16.5)), one(0), one(20), one(1e4))
    torch.testing.assert_close(
        signed.abs()[0, 0, :, 16], (ys.view(-1) - 16.5).abs(), atol=0.01, rtol=0
    )
    assert inside[0, 0, 16, 8:26].all() and not inside[0, 0, 16, :5].any()
    assert abs(float(t[0, 0, 16, 16]) - 0.5) < 0.01


def test_worley_edges_are_zero_between_cells_and_positive_inside():
    like = torch.zeros(1)
    edge, value = worley_edges(_gen(0), torch.tensor([16.0]), 64, 64, like)
    assert edge.shape == (1, 1, 64, 64) and (edge >= 0).all()
    assert edge.min() < 0.5 and edge.max() > 4  # thin edges, wide cell interiors
    assert 4 <= value.unique().numel() <= 40  # one value per cell: ~16 cells visible


# --------------------------------------------------------------------- print base


def test_print_base_kinds_and_tones(img):
    x = img[:, :, :48, :48].repeat(2, 1, 1, 1)
    for k, name in enumerate(P.PRINT_KINDS):
        probs = tuple(float(i == k) for i in range(len(P.PRINT_KINDS)))
        base, kind = P.print_base(x, _gen(k), probs=probs, strength=(1.0, 1.0))
        assert (kind == k).all() and base.shape == x.shape
        r, g, b = base.unbind(1)
        if name == "bw":
            assert torch.equal(r, g) and torch.equal(g, b)
        elif name == "sepia":
            assert (r >= g).all() and (g >= b).all() and (r - b).mean() > 0.05
        elif name == "cyanotype":
            assert (b >= r).all() and (b - r).mean() > 0.1
        elif name == "colour":
            torch.testing.assert_close(base, x)
        else:  # tinted: a mono print with some colour added back
            assert (base - x).abs().mean() > 0.01 and (r - b).abs().mean() > 0.005


def test_print_base_mix_follows_probs(img):
    _, kind = P.print_base(img.repeat(100, 1, 1, 1)[:, :, :16, :16], _gen(0))
    share = torch.bincount(kind, minlength=5).float() / 200
    assert abs(float(share[0]) - 0.45) < 0.1 and abs(float(share[1]) - 0.3) < 0.1
    assert float(share[:3].sum()) > 0.6  # mostly monochrome, like real old prints


# -------------------------------------------------------- pixel-destroying damage


@pytest.mark.parametrize("name", HOLES)
def test_hole_damage_is_seeded_and_masks_are_binary(name, img):
    out, mask = HOLES[name](img, _gen(5))
    again, mask2 = HOLES[name](img, _gen(5))
    other, _ = HOLES[name](img, _gen(6))
    assert torch.equal(out, again) and torch.equal(mask, mask2)
    assert not torch.equal(out, other)
    assert out.shape == img.shape and mask.shape == (2, 1, 96, 80)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    assert (mask.mean((1, 2, 3)) > 0).all()  # every image got some damage


@pytest.mark.parametrize("name", HOLES)
def test_hole_damage_changes_the_mask_and_only_near_it(name, img):
    out, mask = HOLES[name](img, _gen(7))
    change = (out - img).abs().amax(1, keepdim=True)
    inside = change[mask > 0]
    assert inside.mean() > 0.15, float(inside.mean())  # the masked pixels are really destroyed
    assert (inside > 0.02).float().mean() > 0.9
    near = F.max_pool2d(mask, 13, stride=1, padding=6)  # within 6 px of the mask
    assert near.mean() < 1, "mask too large for the test"
    assert torch.equal(out[near.expand_as(out) == 0], img[near.expand_as(img) == 0])


def test_mask_widens_with_the_defect():
    """One straight scratch across a flat grey image: its mask is as wide as the scratch.

    Hand check: a scratch of width w is drawn 0.65-1.35 w wide (a slow wave along it), so the
    mask's largest inscribed half-width (max of the distance transform) lies in [0.3 w, 0.7 w + 1].
    """
    x = torch.full((1, 3, 128, 128), 0.5)
    masks = {}
    for wd in (2.0, 4.0, 8.0):
        kw = dict(count=(1, 1), width=(wd, wd), length=(3.0, 3.0), curved_prob=0.0)
        _, masks[wd] = P.scratches(x, _gen(3), **kw)
        half = distance_transform_edt(masks[wd][0, 0].numpy()).max()
        assert 0.3 * wd <= half <= 0.7 * wd + 1, (wd, half)
    # same seed, same path: the wider mask contains the narrower one and grows with the width
    assert (masks[8.0] >= masks[4.0]).all() and (masks[4.0] >= masks[2.0]).all()
    areas = [float(masks[wd].sum()) for wd in (2.0, 4.0, 8.0)]
    assert 1.5 < areas[1] / areas[0] < 2.5 and 1.6 < areas[2] / areas[1] < 2.4, areas


def test_crack_mask_widens_with_crack_width(img):
    _, thin = P.crack_network(img, _gen(4), width=(1.0, 1.0))
    _, wide = P.crack_network(img, _gen(4), width=(4.0, 4.0))
    assert (wide >= thin).all()
    assert float(wide.sum()) > 2.5 * float(thin.sum())


def test_large_flakes_are_a_few_compact_blobs_with_a_grey_rim():
    """large_prob=1: the flaked share lies in large_area and falls in a few whole blobs (scipy
    labels), where the default scatters many specks; the rim of each blob is darker paper."""
    from scipy.ndimage import binary_erosion, label

    x = torch.full((4, 3, 160, 160), 0.9)  # as light as the paper: the rim is no blend
    out, big = P.emulsion_flaking(x, _gen(5), large_prob=1.0, large_area=(0.05, 0.1))
    _, small = P.emulsion_flaking(x, _gen(5), area=(0.05, 0.1), large_prob=0.0)
    share = big.mean((1, 2, 3))
    assert ((share > 0.045) & (share < 0.105)).all(), share
    for i in range(4):
        m = big[i, 0].numpy() > 0
        regions, n_big = label(m)
        _, n_small = label(small[i, 0].numpy() > 0)
        sizes = sorted(((regions == k).sum() for k in range(1, n_big + 1)), reverse=True)
        assert n_big < n_small, (n_big, n_small)
        assert sum(sizes[:4]) > 0.7 * m.sum(), sizes[:6]  # most of it in at most 4 blobs
        core = binary_erosion(m, iterations=4)
        rim = binary_erosion(m, iterations=1) & ~binary_erosion(m, iterations=2)  # unblended
        y = out[i].mean(0).numpy()
        assert y[rim].mean() < y[core].mean() - 0.05, (y[rim].mean(), y[core].mean())


def test_light_and_dark_fills(img):
    grey = torch.full_like(img, 0.5)
    light, m1 = P.scratches(grey, _gen(1), light_prob=1.0)
    dark, m2 = P.scratches(grey, _gen(1), light_prob=0.0)
    assert light[m1.expand_as(light) > 0].mean() > 0.6
    assert dark[m2.expand_as(dark) > 0].mean() < 0.4


def test_torn_corner_shows_the_bed_in_a_corner():
    x = torch.full((4, 3, 64, 64), 0.5)
    out, mask = P.torn_edges(x, _gen(2), corners=(4, 4), corner_size=(0.2, 0.2), wear=(0, 0))
    assert (mask[:, :, [0, 0, -1, -1], [0, -1, 0, -1]] == 1).all()  # all four corners gone
    assert (mask[:, :, 32, 32] == 0).all()  # the middle is intact
    assert torch.equal(out[:, :, 32, 32], x[:, :, 32, 32])


def test_torn_corner_rim_of_paper_fibres_is_optional():
    x = torch.full((4, 3, 64, 64), 0.5)
    kw = {"corners": (2, 2), "corner_size": (0.2, 0.3), "wear": (0, 0), "notch_prob": 0.0}
    torn, m_torn = P.torn_edges(x, _gen(3), rim_prob=1.0, **kw)
    cut, m_cut = P.torn_edges(x, _gen(3), rim_prob=0.0, **kw)
    assert (m_cut <= m_torn).all()  # same draws: the same missing pieces, less the rim
    rim = (m_torn - m_cut)[:, 0].bool()
    assert rim.sum(dim=(1, 2)).min() > 0  # every torn image has a rim
    for i in range(4):  # a band of fibres 1-4 px wide lining the tear
        depth = distance_transform_edt(m_cut[i, 0].numpy() == 0)
        assert depth[rim[i].numpy()].max() <= 5
    near = F.max_pool2d(m_torn, 3, stride=1, padding=1)  # with the anti-aliased edge
    outside = near.expand_as(x) == 0
    assert torch.equal(torn[outside], cut[outside])  # nothing else changes


def test_hole_damage_keeps_grey_with_neutral_paper(img):
    grey = _grey(img)
    for name in ("crack", "flaking", "scratch", "fold", "tear"):
        out, _ = HOLES[name](grey, _gen(1), paper_yellow=(0.0, 0.0))
        assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2]), name


# --------------------------------------------------------------- tone-only damage


@pytest.mark.parametrize("name", TONES)
def test_tone_damage_is_seeded_and_returns_no_mask(name, img):
    out = TONES[name](img, _gen(1))
    assert isinstance(out, torch.Tensor) and out.shape == img.shape
    assert torch.equal(out, TONES[name](img, _gen(1)))
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0
    assert (out - img).abs().amax() > 0.02, "no visible change"


@pytest.mark.parametrize("name", GREY_KEEPING)
def test_grey_stays_grey(name, img):
    out = TONES[name](_grey(img), _gen(2))
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2])


def test_colour_of_ageing_damage(img):
    grey = torch.full_like(img, 0.7)
    yellow = P.yellowing(grey, _gen(0), strength=(0.3, 0.3))
    assert (yellow[:, 0] >= yellow[:, 2]).all() and (yellow[:, 0] - yellow[:, 2]).mean() > 0.05
    fox = P.foxing(grey, _gen(0), area=(0.05, 0.05))
    spot = (grey - fox).abs().amax(1) > 0.05
    assert spot.any() and (fox[:, 0][spot] > fox[:, 2][spot]).all()  # rust brown


# ---------------------------------------------------------------------- composite


def test_old_print_damage_is_seeded(img):
    a = P.old_print_damage(img, _gen(9))
    b = P.old_print_damage(img, _gen(9))
    c = P.old_print_damage(img, _gen(10))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[0], c[0])


def test_old_print_damage_outputs(img):
    damaged, mask, target = P.old_print_damage(img, _gen(0))
    assert damaged.shape == target.shape == (2, 3, 96, 80) and mask.shape == (2, 1, 96, 80)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert 0 <= float(damaged.min()) and float(damaged.max()) <= 1
    # the target is the toned print of the input: what print_base draws first from g
    base, _ = P.print_base(img, _gen(0))
    assert torch.equal(target, base)


def test_only_tone_effects_give_an_empty_mask(img):
    tones = [e for e in P.OLD_PRINT_EFFECTS if e not in P.HOLE_EFFECTS]
    damaged, mask, target = P.old_print_damage(img, _gen(1), P.OldPrintConfig.only(*tones))
    assert mask.sum() == 0 and (damaged - target).abs().mean() > 0.01


@pytest.mark.parametrize("effect", P.HOLE_EFFECTS)
def test_each_hole_effect_fills_the_mask(effect, img):
    damaged, mask, target = P.old_print_damage(img, _gen(1), P.OldPrintConfig.only(effect))
    assert (mask.mean((1, 2, 3)) > 0).all()
    change = (damaged - target).abs().amax(1, keepdim=True)
    assert change[mask > 0].mean() > 0.1


def test_intact_images_have_no_holes(img):
    cfg = P.OldPrintConfig(intact_prob=1.0)
    _, mask, _ = P.old_print_damage(img, _gen(2), cfg)
    assert mask.sum() == 0


def test_grey_print_stays_grey_without_colour_damage(img):
    cfg = P.OldPrintConfig.only(
        "grain", "fade", "exposure", "vignette", "texture", "blur", "lowres"
    )
    cfg = P.OldPrintConfig(**{**cfg.__dict__, "kind_probs": (1.0, 0, 0, 0, 0)})
    damaged, _, target = P.old_print_damage(img, _gen(3), cfg)
    for t in (damaged, target):
        assert torch.equal(t[:, 0], t[:, 1]) and torch.equal(t[:, 1], t[:, 2])


def test_dtype_and_device_follow_the_input(img):
    x = img.double()
    damaged, mask, target = P.old_print_damage(x, _gen(0))
    assert damaged.dtype == mask.dtype == target.dtype == torch.float64
    assert damaged.device == mask.device == target.device == x.device
    out, m = P.crack_network(x, _gen(0))
    assert out.dtype == m.dtype == torch.float64
    assert P.fade(x, _gen(0)).dtype == torch.float64


def test_half_precision_is_computed_in_float32(img):
    x = img.bfloat16()
    damaged, mask, target = P.old_print_damage(x, _gen(0), P.OldPrintConfig.only("crack", "fade"))
    assert damaged.dtype == mask.dtype == target.dtype == torch.bfloat16
    ref, ref_mask = P.crack_network(x.float(), _gen(1))
    out, out_mask = P.crack_network(x, _gen(1))
    assert out.dtype == torch.bfloat16 and torch.equal(out_mask.float(), ref_mask)
    torch.testing.assert_close(out.float(), ref, atol=1 / 128, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda(img):
    x = img.cuda()
    damaged, mask, target = P.old_print_damage(x, _gen(0))
    assert damaged.is_cuda and mask.is_cuda and target.is_cuda
    d2, m2, _ = P.old_print_damage(x, _gen(0))
    assert torch.equal(damaged, d2) and torch.equal(mask, m2)


# ---------------------------------------------------------------------- bad input


def test_bad_images_raise():
    with pytest.raises(ValueError, match=r"\(2, 1, 32, 32\)"):
        P.crack_network(torch.rand(2, 1, 32, 32), _gen(0))
    with pytest.raises(ValueError, match="torch.uint8"):
        P.fade(torch.zeros(1, 3, 32, 32, dtype=torch.uint8), _gen(0))
    with pytest.raises(ValueError, match=r"\(1, 3, 4, 4\)"):
        P.old_print_damage(torch.rand(1, 3, 4, 4), _gen(0))


def test_bad_parameters_raise(img):
    with pytest.raises(ValueError, match=r"width .*\(3.0, 1.0\)"):
        P.scratches(img, _gen(0), width=(3.0, 1.0))
    with pytest.raises(ValueError, match="1.5"):
        P.crack_network(img, _gen(0), light_prob=1.5)
    with pytest.raises(ValueError, match=r"\(1, 9\)"):
        P.torn_edges(img, _gen(0), corners=(1, 9))
    with pytest.raises(ValueError, match=r"\(1.0, 2.0\)"):
        P.print_base(img, _gen(0), probs=(1.0, 2.0))


def test_bad_config_raises():
    with pytest.raises(ValueError, match="crack_prob.*1.5"):
        P.OldPrintConfig(crack_prob=1.5)
    with pytest.raises(ValueError, match=r"fold_width.*\(4.0, 1.0\)"):
        P.OldPrintConfig(fold_width=(4.0, 1.0))
    with pytest.raises(ValueError, match=r"jpeg_range.*\(0.0, 90.0\)"):
        P.OldPrintConfig(jpeg_range=(0.0, 90.0))
    with pytest.raises(ValueError, match="bogus"):
        P.OldPrintConfig.only("crack", "bogus")


# ---------------------------------------------------------------- crumple creases, crazing


def test_crazing_branches_grow_out_of_the_crease_and_leave_it_as_it_is():
    x = torch.full((1, 3, 128, 128), 0.4)
    kw = dict(creases=(1, 1), length=(0.9, 0.9), jag=(0.3, 0.3), light_prob=1.0, width=(3.0, 3.0))
    _, bare = P.crazing(x, _gen(11), branches=(0, 0), **kw)
    _, tree = P.crazing(x, _gen(11), branches=(8, 8), **kw)
    assert (tree >= bare).all() and tree.sum() > 1.3 * bare.sum()
    # the crease is long and thin: it spans most of the image and is no wider than drawn (a
    # 3-px crack: largest inscribed half-width at most 1.5 px plus its 1-px anti-aliased rim)
    ys, xs = bare[0, 0].nonzero(as_tuple=True)
    span = max(int(ys.max() - ys.min()), int(xs.max() - xs.min()))
    assert span > 0.5 * 128, span
    assert distance_transform_edt(bare[0, 0].numpy()).max() <= 0.5 * 3.0 + 1


def test_crazing_mask_widens_with_the_width():
    x = torch.full((2, 3, 96, 96), 0.5)
    _, thin = P.crazing(x, _gen(12), width=(1.0, 1.0))
    _, wide = P.crazing(x, _gen(12), width=(4.0, 4.0))
    assert (wide >= thin).all()
    assert float(wide.sum()) > 2.0 * float(thin.sum())


def test_crazing_light_cracks_are_paper_and_dark_ones_dirt():
    x = torch.full((2, 3, 96, 96), 0.5)
    light, m1 = P.crazing(x, _gen(13), light_prob=1.0, paper_yellow=(0.0, 0.0))
    dark, m2 = P.crazing(x, _gen(13), light_prob=0.0, paper_yellow=(0.0, 0.0))
    up, down = light[m1.expand_as(light) > 0], dark[m2.expand_as(dark) > 0]
    assert up.min() > 0.5 and up.mean() > 0.6  # every masked pixel lighter than the grey
    assert down.max() < 0.5 and down.mean() < 0.4


@pytest.mark.parametrize("draw", ["crazing", "crack_network", "scratches"])
def test_faint_cracks_let_the_picture_show_through(draw):
    """strength scales how much of the picture a crack replaces: on black, with the same draws,
    the faint cracks' brightest pixel is that fraction of the strong ones', and their mask (the
    pixels replaced at least MASK_AT) lies inside the strong mask."""
    fn = getattr(P, draw)
    x = torch.zeros(2, 3, 96, 96)
    kw = dict(light_prob=1.0, paper_yellow=(0.0, 0.0), width=(3.0, 3.0))
    strong, m1 = fn(x, _gen(15), strength=(1.0, 1.0), **kw)
    faint, m2 = fn(x, _gen(15), strength=(0.4, 0.4), **kw)
    ratio = faint.amax((1, 2, 3)) / strong.amax((1, 2, 3))
    torch.testing.assert_close(ratio, torch.full((2,), 0.4), atol=1e-4, rtol=0)
    assert (m2 <= m1).all() and 0 < float(m2.sum()) < float(m1.sum())
    with pytest.raises(ValueError, match="strength"):
        fn(x, _gen(0), strength=(0.1, 0.5))  # under MASK_AT nothing would be masked


def test_bundled_creases_run_parallel():
    """A bundle's creases share a heading (within 0.2 rad), so the mask's pixels spread along one
    direction far more than across it: the ratio of the coordinates' principal variances."""

    def elongation(bundle: float) -> float:
        x = torch.full((16, 3, 128, 128), 0.5)
        _, m = P.crazing(x, _gen(14), creases=(4, 4), branches=(0, 0), jag=(0.05, 0.05),
                         bundle_prob=bundle)  # fmt: skip
        ratios = []
        for k in range(16):
            pts = m[k, 0].nonzero().double()
            ev = torch.linalg.eigvalsh(torch.cov(pts.T))
            ratios.append(float(ev[1] / ev[0].clamp_min(1e-6)))
        return float(torch.tensor(ratios).median())

    assert elongation(1.0) > 3 * elongation(0.0)


def test_crazing_bad_parameters_raise(img):
    with pytest.raises(ValueError, match="creases"):
        P.crazing(img, _gen(0), creases=(3, 1))
    with pytest.raises(ValueError, match="bundle_prob"):
        P.crazing(img, _gen(0), bundle_prob=2.0)
    with pytest.raises(ValueError, match="jag"):
        P.crazing(img, _gen(0), jag=(0.5, 0.1))


def test_torn_flakes_keep_the_share_and_show_the_paper_relief():
    """torn_prob=1: the large flakes still cover large_area, and the bare paper inside them shows
    its relief (high-pass std over 1.2x the blobs' fine grain); without large flakes torn_prob
    draws nothing, so the output is the default's, bit for bit."""
    import cv2

    x = torch.full((4, 3, 160, 160), 0.5)
    std = {}
    for t in (0.0, 1.0):
        out, m = P.emulsion_flaking(x, _gen(5), large_prob=1.0, large_area=(0.05, 0.1), torn_prob=t)
        share = m.mean((1, 2, 3))
        assert ((share > 0.045) & (share < 0.105)).all(), (t, share)
        hp = []
        for i in range(4):
            core = cv2.erode((m[i, 0].numpy() > 0).astype("uint8"), np.ones((7, 7))) > 0
            y = out[i].mean(0).numpy()
            hp.append((y - cv2.GaussianBlur(y, (0, 0), 3))[core].std())
        std[t] = float(np.mean(hp))
    assert std[1.0] > 1.2 * std[0.0], std
    a, ma = P.emulsion_flaking(x, _gen(6), torn_prob=1.0)
    b, mb = P.emulsion_flaking(x, _gen(6))
    assert torch.equal(a, b) and torch.equal(ma, mb)
