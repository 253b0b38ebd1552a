"""Alignment maths: the similarity from two eyes, its inverse, and the warps, against hand values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from restore.faces.align import (
    TEMPLATE_EYES,
    align_face,
    apply,
    invert,
    similarity_from_eyes,
    template_eyes,
    transform_scale,
    warp,
)


def test_similarity_matches_a_hand_computed_transform():
    # eyes 20 px apart, level, at (10, 20) and (30, 20); crop of 100: eyes at (29.5, 28.5) and
    # (70.5, 28.5), 41 px apart -> scale 41 / 20 = 2.05, no rotation, shift (29.5 - 20.5, 28.5 - 41)
    M = similarity_from_eyes(((10, 20), (30, 20)), template_eyes(100))
    np.testing.assert_allclose(M, [[2.05, 0.0, 9.0], [0.0, 2.05, -12.5]], atol=1e-12)
    assert transform_scale(M) == pytest.approx(2.05)


def test_similarity_rotates_a_tilted_face_level():
    # eyes one above the other (a face on its side) -> rotation by -90 degrees, scale 1
    M = similarity_from_eyes(((0, 0), (0, 10)), ((0, 0), (10, 0)))
    np.testing.assert_allclose(M, [[0, 1, 0], [-1, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(apply(M, np.array([[0.0, 10.0], [3.0, 4.0]])), [[10, 0], [4, -3]])


def test_inverse_round_trips():
    M = similarity_from_eyes(((13.3, 40.1), (52.0, 35.7)), template_eyes(128))
    pts = np.array([[1.0, 2.0], [100.0, -3.0], [64.0, 64.0]])
    np.testing.assert_allclose(apply(invert(M), apply(M, pts)), pts, atol=1e-9)


def test_coincident_eyes_are_refused():
    with pytest.raises(ValueError, match="coincide"):
        similarity_from_eyes(((5, 5), (5, 5)), template_eyes(128))


def test_template_is_symmetric():
    (lx, ly), (rx, ry) = TEMPLATE_EYES
    assert lx + rx == pytest.approx(1.0) and ly == ry


def test_identity_and_integer_shift_warps_are_exact():
    x = torch.rand(1, 3, 20, 24)
    same = warp(x, np.array([[1.0, 0, 0], [0, 1.0, 0]]), (20, 24))
    torch.testing.assert_close(same, x, atol=1e-6, rtol=0)
    # crop = photo shifted by (-5, -3): crop pixel (i, j) is photo pixel (i + 3, j + 5)
    shifted = warp(x, np.array([[1.0, 0, -5], [0, 1.0, -3]]), (10, 12))
    torch.testing.assert_close(shifted, x[..., 3:13, 5:17], atol=1e-6, rtol=0)


def test_x4_enlargement_is_bicubic():
    x = torch.rand(1, 3, 8, 8)
    up = warp(x, np.array([[4.0, 0, 0], [0, 4.0, 0]]), (32, 32))
    ref = F.interpolate(x, size=(32, 32), mode="bicubic", align_corners=False).clamp(0, 1)
    torch.testing.assert_close(up, ref, atol=1e-5, rtol=0)


def test_align_face_puts_the_eyes_on_the_template():
    img = torch.zeros(1, 3, 60, 80)
    img[..., 20, 30] = 1.0  # two bright "eyes" (pixel centres at x + 0.5, y + 0.5)
    img[..., 20, 50] = 1.0
    crop, M = align_face(img, ((30.5, 20.5), (50.5, 20.5)), 64)
    (lx, ly), (rx, ry) = template_eyes(64)
    for ex, ey in ((lx, ly), (rx, ry)):  # the brightest crop pixel of each half is on the eye
        half = crop[0, 0, :, :32] if ex < 32 else crop[0, 0, :, 32:]
        i, j = divmod(int(half.argmax()), half.shape[1])
        j += 0 if ex < 32 else 32
        assert abs(j + 0.5 - ex) <= 1.0 and abs(i + 0.5 - ey) <= 1.0
