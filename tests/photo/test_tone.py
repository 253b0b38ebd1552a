"""restore.photo.tone: which photos are grey, toned or colour, and re-applying a tone."""

from __future__ import annotations

import io

import numpy as np
import PIL.Image
import pytest
import torch

from restore.data.color import rgb_to_gray
from restore.photo.tone import BINS, apply_tone, measure_tone

SEPIA = torch.tensor([1.0, 0.82, 0.62]).view(1, 3, 1, 1)  # a warm brown tint of the grey


def _grey(h: int = 64, w: int = 80, seed: int = 0) -> torch.Tensor:
    """A smooth grey picture (1, 3, H, W) with the full luminance range."""
    g = torch.Generator().manual_seed(seed)
    cells = torch.rand(1, 1, 6, 8, generator=g)
    lum = torch.nn.functional.interpolate(cells, size=(h, w), mode="bilinear")
    lum = (lum - lum.min()) / (lum.max() - lum.min())
    return lum.expand(-1, 3, -1, -1).contiguous()


def _jpeg(x: torch.Tensor, quality: int, subsampling: int = 2) -> torch.Tensor:
    a = (x[0].permute(1, 2, 0).numpy() * 255 + 0.5).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    PIL.Image.fromarray(a).save(buf, "JPEG", quality=quality, subsampling=subsampling)
    b = np.asarray(PIL.Image.open(buf).convert("RGB"))
    return torch.from_numpy(b.copy()).permute(2, 0, 1)[None].float() / 255


def _q(x: torch.Tensor) -> torch.Tensor:
    return (x * 255).round() / 255


def test_kinds():
    grey = _grey()
    g = torch.Generator().manual_seed(1)
    noisy = _q((grey + 2 / 255 * torch.randn(grey.shape, generator=g)).clamp(0, 1))
    sepia = _q(grey * SEPIA)
    cyan = _q((grey * torch.tensor([0.55, 0.8, 1.0]).view(1, 3, 1, 1) + 0.05).clamp(0, 1))
    colour = _q(
        torch.rand(1, 3, 8, 10, generator=g).repeat_interleave(8, 2).repeat_interleave(8, 3)
    )
    tinted = sepia.clone()  # a hand-tinted sepia print: pink cheeks on 4% of it
    tinted[:, :, 10:20, 20:36] = _q(
        rgb_to_gray(sepia[:, :, 10:20, 20:36]) * torch.tensor([1.25, 0.8, 0.9]).view(1, 3, 1, 1)
    ).clamp(0, 1)
    photos = {
        "grey": (grey, "grey"),
        "grey, 2-level RGB noise": (noisy, "grey"),
        "grey JPEG q75": (_jpeg(noisy, 75), "grey"),
        "grey JPEG q95 4:4:4": (_jpeg(noisy, 95, 0), "grey"),
        "sepia": (sepia, "toned"),
        "sepia JPEG q60": (_jpeg(sepia, 60), "toned"),
        "cyanotype": (cyan, "toned"),
        "colour": (colour, "colour"),
        "hand-tinted sepia": (tinted, "colour"),
    }
    tones = measure_tone(torch.cat([x for x, _ in photos.values()]))
    assert {k: t.kind for k, t in zip(photos, tones)} == {k: v for k, (_, v) in photos.items()}
    by_name = dict(zip(photos, tones))
    assert by_name["grey"].hue is None and by_name["grey"].chroma < 1e-3
    assert 60 <= by_name["sepia"].hue <= 90 and 230 <= by_name["cyanotype"].hue <= 280
    assert by_name["sepia"].off_hue_fraction == 0.0 and by_name["colour"].off_hue_fraction > 0.1
    s = by_name["sepia"].summary()
    assert s["kind"] == "toned" and set(s) == {
        "kind",
        "chroma_levels",
        "hue_deg",
        "chromatic_fraction",
        "off_hue_fraction",
    }


def test_damaged_pixels_are_left_out():
    sepia = _q(_grey() * SEPIA)
    stained = sepia.clone()
    stained[:, :, 8:40, 8:40] = torch.tensor([0.1, 0.3, 0.9]).view(1, 3, 1, 1)  # 20% blue
    mask = torch.zeros(1, 1, 64, 80)
    mask[:, :, 8:40, 8:40] = 1
    assert measure_tone(stained)[0].kind == "colour"
    t, ref = measure_tone(stained, mask)[0], measure_tone(sepia)[0]
    assert t.kind == "toned" and abs(t.hue - ref.hue) < 2


def test_apply_tone_rebuilds_the_tone_on_new_luminance():
    sepia = _grey() * SEPIA
    tone = measure_tone(sepia)[0]
    assert tone.curve.shape == (3, BINS)
    assert torch.allclose(
        (tone.curve * torch.tensor([0.299, 0.587, 0.114])[:, None]).sum(0),
        0 * tone.curve[0],
        atol=1e-6,
    )
    # the same photo restored with more contrast and a blue cast from a model
    lum = rgb_to_gray(sepia)
    restored = (
        ((lum - 0.5) * 1.3 + 0.5).clamp(0, 1) * torch.tensor([0.9, 1.0, 1.2]).view(1, 3, 1, 1)
    ).clamp(0, 1)
    out = apply_tone(restored, tone.curve)
    assert torch.allclose(rgb_to_gray(out), rgb_to_gray(restored).clamp(0, 1), atol=0.05 / 255)
    assert out.min() >= 0 and out.max() <= 1
    back = measure_tone(out)[0]
    assert back.kind == "toned" and abs(back.hue - tone.hue) < 2  # the cast is gone
    # on the original luminance the tone comes back to within 2 levels on average
    assert (apply_tone(sepia, tone.curve) - sepia).abs().mean() * 255 < 2


def test_zero_curve_is_exact_grey_and_bad_input_raises():
    y = torch.rand(2, 3, 9, 7)
    grey = apply_tone(y, torch.zeros(2, 3, BINS))
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])
    mixed = apply_tone(
        y,
        torch.stack(
            [torch.zeros(3, BINS), torch.tensor([0.02, 0.0, -0.05])[:, None].expand(3, BINS)]
        ),
    )
    assert torch.equal(mixed[0, 0], mixed[0, 2]) and not torch.equal(mixed[1, 0], mixed[1, 2])
    with pytest.raises(ValueError, match="B, 3, H, W"):
        measure_tone(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="mask"):
        measure_tone(torch.rand(2, 3, 8, 8), torch.zeros(1, 8, 8))
    with pytest.raises(ValueError, match="curves"):
        apply_tone(torch.rand(2, 3, 8, 8), torch.zeros(3, 3, BINS))


def test_colour_spread_by_hand() -> None:
    from restore.photo.tone import colour_spread

    grey = _grey()
    assert float(colour_spread(grey)[0]) < 1e-3
    # an even tone, multiplied (sepia) or added (a cast), is what the tone curve explains
    assert float(colour_spread(grey * SEPIA)[0]) < 1  # within a luma bin the tint still varies
    cast = grey * 0.8 + torch.tensor([0.1, 0.05, 0.0]).view(1, 3, 1, 1)
    assert float(colour_spread(cast)[0]) < 1
    # two flat halves of the same luma and opposite chroma, d and -d: the tone at that luma is
    # grey, so every pixel is max|d| away from it, but for the two columns the 3 x 3 blur mixes
    a = torch.tensor([0.6, 0.4, 0.4])
    lum = 0.299 * a[0] + 0.587 * a[1] + 0.114 * a[2]
    b = 2 * lum - a  # same luma
    x = torch.empty(1, 3, 64, 64)
    x[..., :32] = a.view(1, 3, 1, 1)
    x[..., 32:] = b.view(1, 3, 1, 1)
    want = float((a - lum).abs().max() * 255)  # 35.7 levels
    got = colour_spread(x)
    assert got.shape == (1,)
    assert want * (62 / 64) - 0.01 <= float(got[0]) <= want + 0.01
    # a batch is measured photo by photo
    both = colour_spread(torch.cat([_grey(64, 64) * SEPIA, x]))
    assert float(both[0]) < 1 and float(both[1]) == pytest.approx(float(got[0]), abs=1e-4)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        colour_spread(grey[:, :1])


def _stained(share: float, h: int = 60, w: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """A flat blue-toned print at one luminance (bin 16) whose right ``share`` of columns is
    stained orange at the same luminance, and the print's colour (3,)."""
    cool = torch.tensor([0.8, 0.95, 1.0])
    orange = torch.tensor([1.0, 0.55, 0.2])
    luma = torch.tensor([0.299, 0.587, 0.114])
    target = 0.515  # inside bin 16, [0.5, 0.53125)
    a, b = cool * target / (cool @ luma), orange * target / (orange @ luma)
    x = a.view(1, 3, 1, 1).repeat(1, 1, h, w)
    x[..., w - round(share * w) :] = b.view(3, 1, 1)
    return x, a


def _chroma_of(c: torch.Tensor) -> torch.Tensor:
    """``RGB - luma`` of one colour (3,)."""
    return c - rgb_to_gray(c.view(1, 3, 1, 1)).flatten()


def test_mono_takes_the_dominant_tone_not_the_stains():
    """tone='mono' (single=True): the curve is the chroma most of each luminance bin has (here
    every bin, filled from the one bin used), so a 30% orange stain does not move it and the
    print counts as toned; the mean curve is pulled 30% of the way to the stain's chroma."""
    x, a = _stained(0.3)
    d_print, d_stain = _chroma_of(a), _chroma_of(x[0, :, 0, -1])
    mono = measure_tone(x, single=True)[0]
    assert mono.kind == "toned"
    assert torch.allclose(mono.curve, d_print[:, None].expand(3, BINS), atol=1e-5)
    plain = measure_tone(x)[0]
    assert plain.kind == "colour"  # orange beside blue: two hues
    want = 0.7 * d_print + 0.3 * d_stain  # the 3 x 3 blur mixes only the border columns
    assert torch.allclose(plain.curve[:, 16], want, atol=0.01 * float((d_stain - d_print).norm()))
    # rebuilt with the mono curve, the stained columns get the print's colour
    out = apply_tone(x, mono.curve)
    assert torch.allclose(out[0, :, 5, -5], a, atol=1e-3)
    # a stain over most of a bin is the bin's tone: the median follows the majority
    most = measure_tone(_stained(0.7)[0], single=True)[0].curve[:, 16]
    assert torch.allclose(most, d_stain, atol=1e-5)


def test_mono_on_grey_and_with_a_damage_mask():
    """single=True keeps a grey photo grey; the weighted median leaves masked pixels out."""
    t = measure_tone(_grey(), single=True)[0]
    assert t.kind == "grey" and float(t.curve.abs().max()) == 0.0
    x, a = _stained(0.6)  # orange is the majority...
    mask = torch.zeros(1, 1, *x.shape[-2:])
    mask[..., 40:] = 1  # ...but 60 of its 100 columns are marked damaged and left out
    got = measure_tone(x, mask, single=True)[0].curve[:, 16]
    assert torch.allclose(got, _chroma_of(a), atol=1e-5)
    unmasked = measure_tone(x, single=True)[0].curve[:, 16]
    assert torch.allclose(unmasked, _chroma_of(x[0, :, 0, -1]), atol=1e-5)
