"""Pasting faces back: the feather's values, no seams, colour matching, grey stays grey."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from restore.faces.detect import Face
from restore.faces.paste import (
    feather_mask,
    is_grey,
    keep_grey,
    match_colour,
    paste_face,
    restore_faces,
)

SHIFT = np.array([[1.0, 0.0, -10.0], [0.0, 1.0, -6.0]])  # crop (0, 0) = photo (10, 6), scale 1


def test_feather_values():
    m = feather_mask(16, 4)[0, 0]
    assert m.shape == (16, 16)
    assert float(m[0, 8]) == 0.0 and float(m[8, 0]) == 0.0  # the outermost ring
    assert float(m[8, 8]) == 1.0 and float(m[4, 4]) == 1.0  # 4 px in: full weight
    # 2 px in on one axis: t = 0.5 -> smoothstep 0.5; the other axis at full weight
    assert float(m[2, 8]) == pytest.approx(0.5)
    assert float(m[1, 8]) == pytest.approx(3 * 0.25**2 - 2 * 0.25**3)
    with pytest.raises(ValueError, match="feather"):
        feather_mask(16, 0)


def test_paste_has_no_seam():
    photo = torch.full((1, 3, 40, 50), 0.2)
    crop = torch.full((1, 3, 16, 16), 0.8)
    out = paste_face(photo, crop, SHIFT, feather=4)
    # outside the crop's footprint and on its outermost ring: the photo, unchanged
    assert torch.equal(out[..., :6, :], photo[..., :6, :])
    assert torch.equal(out[..., :, :10], photo[..., :, :10])
    torch.testing.assert_close(out[..., 6, 10:26], photo[..., 6, 10:26])
    # inside the feather: photo + (crop - photo) * mask, exactly the smoothstep ramp
    m = feather_mask(16, 4)[0, 0]
    torch.testing.assert_close(out[0, 0, 6:22, 10:26], 0.2 + 0.6 * m, atol=1e-6, rtol=0)
    assert float(out[0, 0, 14, 18]) == pytest.approx(0.8)
    # no step anywhere: neighbouring pixels differ by at most the ramp's steepest step
    steep = 0.6 * float((m[1:, 8] - m[:-1, 8]).abs().max())
    assert float(out.diff(dim=-1).abs().max()) <= steep + 1e-6
    assert float(out.diff(dim=-2).abs().max()) <= steep + 1e-6


def test_paste_of_a_correction_keeps_the_photo_detail():
    photo = torch.rand(1, 3, 40, 50)
    crop = photo[..., 6:22, 10:26].clone()
    out = paste_face(photo, crop + 0.1, SHIFT, feather=4, original=crop)
    m = feather_mask(16, 4)[0, 0]
    expected = (photo[..., 6:22, 10:26] + 0.1 * m).clamp(0, 1)
    torch.testing.assert_close(out[..., 6:22, 10:26], expected, atol=1e-5, rtol=0)


def test_paste_of_a_darkening_correction_is_not_lost():
    # the correction is resampled unclamped: a negative one (a bright scratch removed) darkens
    photo = torch.full((1, 3, 40, 50), 0.6)
    crop = photo[..., 6:22, 10:26].clone()
    out = paste_face(photo, crop - 0.2, SHIFT, feather=4, original=crop)
    m = feather_mask(16, 4)[0, 0]
    torch.testing.assert_close(out[0, 0, 6:22, 10:26], 0.6 - 0.2 * m, atol=1e-5, rtol=0)


def test_paste_detail_blends_crop_and_correction():
    g = torch.Generator().manual_seed(3)
    photo = torch.rand(1, 3, 40, 50, generator=g) * 0.5 + 0.25
    original = torch.full((1, 3, 16, 16), 0.5)  # a crop that lost all of the photo's detail
    restored = torch.full((1, 3, 16, 16), 0.55)
    m = feather_mask(16, 4)[0, 0]
    region = photo[..., 6:22, 10:26]
    for detail in (0.0, 0.5, 1.0):
        out = paste_face(photo, restored, SHIFT, feather=4, original=original, detail=detail)
        # photo * (1 - m) + (restored + detail * (photo - original)) * m
        want = region * (1 - m) + (0.55 + detail * (region - 0.5)) * m
        torch.testing.assert_close(out[..., 6:22, 10:26], want, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="detail"):
        paste_face(photo, restored, SHIFT, feather=4, original=original, detail=1.5)


def test_match_colour_moves_the_mean():
    original = torch.full((1, 3, 8, 8), 0.3)
    original[:, 0] = 0.5
    restored = torch.rand(1, 3, 8, 8) * 0.2 + 0.6
    out = match_colour(restored, original, torch.ones(1, 1, 8, 8))
    torch.testing.assert_close(out.mean((2, 3)), original.mean((2, 3)), atol=1e-5, rtol=0)


def test_grey_photo_stays_exactly_grey():
    g = torch.Generator().manual_seed(0)
    photo = torch.rand(1, 1, 48, 64, generator=g).expand(-1, 3, -1, -1).contiguous()
    face = Face(box=(10, 8, 30, 30), votes=3, eyes=((19.0, 19.0), (31.0, 19.0)), eyes_found=True)

    def tinting_model(c):  # a model that adds colour
        return (c + torch.tensor([0.1, 0.0, -0.1]).view(1, 3, 1, 1)).clamp(0, 1)

    out, faces = restore_faces(photo, tinting_model, size=32, faces=[face])
    assert faces == [face]
    assert bool(is_grey(out).all()) and not torch.equal(out, photo)
    colour = photo.clone()
    colour[:, 0] += 0.01
    assert not bool(is_grey(colour).any())
    assert torch.equal(keep_grey(colour, colour), colour)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        restore_faces(torch.rand(2, 3, 8, 8), lambda c: c)
    with pytest.raises(ValueError, match="float"):
        restore_faces(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), lambda c: c)


def test_small_face_paste_shrinks_the_crop_without_leaking():
    # the crop is twice the face's size in the photo: crop -> photo shrinks (blurred first)
    photo = torch.full((1, 3, 40, 50), 0.2)
    crop = torch.full((1, 3, 32, 32), 0.8)
    M = np.array([[2.0, 0.0, -20.0], [0.0, 2.0, -12.0]])  # crop (0, 0) = photo (10, 6)
    out = paste_face(photo, crop, M, feather=8)
    assert torch.equal(out[..., :6, :], photo[..., :6, :])  # above the footprint
    assert torch.equal(out[..., 22:, :], photo[..., 22:, :])  # below it (16 photo px tall)
    assert float(out[0, 0, 14, 18]) == pytest.approx(0.8, abs=1e-4)
    assert 0.2 <= float(out.min()) and float(out.max()) <= 0.8 + 1e-6


def test_strength_keeps_that_share_of_the_models_change():
    # a smooth photo (a horizontal ramp) and a "model" that mirrors the crop: colour matching
    # keeps the change, and resampling a smooth photo adds next to nothing
    ramp = torch.linspace(0.1, 0.9, 64).view(1, 1, 1, 64).expand(1, 3, 48, 64).contiguous()
    photo = ramp * torch.tensor([1.0, 0.9, 0.8]).view(1, 3, 1, 1)
    face = Face(box=(10, 8, 30, 30), votes=3, eyes=((19.0, 19.0), (31.0, 19.0)), eyes_found=True)

    def mirror(c):
        return c.flip(-1)

    full, _ = restore_faces(photo, mirror, size=32, faces=[face])
    half, _ = restore_faces(photo, mirror, size=32, faces=[face], strength=0.5)
    none, _ = restore_faces(photo, mirror, size=32, faces=[face], strength=0.0)
    assert not torch.equal(full, photo)
    # strength 0: the photo itself (the blend is in the photo, not on the resampled crop)
    assert float((full - photo).abs().max()) > 0.1
    assert torch.equal(none, photo)
    # the blend is linear in the kept change: half way between none and full
    torch.testing.assert_close(half, (none + full) / 2, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="strength"):
        restore_faces(photo, mirror, size=32, faces=[face], strength=1.5)
