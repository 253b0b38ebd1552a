"""keep_thin_in_faces: blobs inside face boxes leave the damage mask, thin defects stay."""

from __future__ import annotations

import pytest
import torch

from restore.faces.protect import PAPER_AREA, keep_thin_in_faces, opening, paper_blobs


def _mask() -> torch.Tensor:
    m = torch.zeros(1, 1, 40, 60)
    m[0, 0, 10:20, 10:20] = 1  # a 10 x 10 blob inside the face box
    m[0, 0, 5:35, 25] = 1  # a 1-px scratch crossing the face box
    m[0, 0, 10:20, 45:55] = 1  # a blob outside any face
    return m


def test_opening_keeps_blobs_and_erases_thin_lines():
    o = opening(_mask(), 5)
    assert o[0, 0, 10:20, 10:20].all() and o[0, 0, 10:20, 45:55].all()
    assert o[0, 0, :, 25].sum() == 0


def test_blobs_leave_faces_thin_defects_stay():
    m = _mask()
    out = keep_thin_in_faces(m, [[(8.0, 8.0, 22.0, 20.0)]], kernel=5, grow=0.0)
    assert out[0, 0, 10:20, 10:20].sum() == 0  # the blob on the face: not filled
    assert torch.equal(out[0, 0, 5:35, 25], m[0, 0, 5:35, 25])  # the scratch: filled
    assert torch.equal(out[0, 0, 10:20, 45:55], m[0, 0, 10:20, 45:55])  # outside: unchanged
    assert torch.equal(m, _mask())  # the input is not changed in place


def test_no_faces_changes_nothing_and_bad_input_is_refused():
    m = _mask()
    assert torch.equal(keep_thin_in_faces(m, [[]]), m)
    with pytest.raises(ValueError, match="kernel must be odd"):
        keep_thin_in_faces(m, [[]], kernel=4)
    with pytest.raises(ValueError, match="1 masks but boxes for 2 photos"):
        keep_thin_in_faces(m, [[], []])


def test_grown_box_reaches_a_blob_beside_the_face():
    m = torch.zeros(1, 1, 40, 60)
    m[0, 0, 10:20, 32:40] = 1  # beside a face box that ends at x = 30
    box = [[(10.0, 10.0, 20.0, 20.0)]]
    assert keep_thin_in_faces(m, box, grow=0.0).sum() == m.sum()
    assert keep_thin_in_faces(m, box, grow=0.5).sum() == 0


def test_the_default_opening_scales_with_the_face():
    # a 7-px-wide scratch across a 60-px face: kernel 11 erases it, so it is still filled
    m = torch.zeros(1, 1, 100, 100)
    m[0, 0, 10:90, 40:47] = 1
    face = [[(20.0, 20.0, 60.0, 60.0)]]
    assert torch.equal(keep_thin_in_faces(m, face, grow=0.0), m)
    assert keep_thin_in_faces(m, face, kernel=5, grow=0.0)[0, 0, 30:70, 40:47].sum() == 0
    # a 15 x 15 patch on the same face is a blob: not filled
    m2 = torch.zeros(1, 1, 100, 100)
    m2[0, 0, 40:55, 40:55] = 1
    assert keep_thin_in_faces(m2, face, grow=0.0).sum() == 0


def _face_photo(edge: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A 100 x 100 mid-grey "face" (0.45) with a 24 x 24 bright patch (0.9) whose border is a
    sharp step (``edge="sharp"``: flaked-off emulsion) or a 12-px ramp (``"soft"``: a lit cheek);
    the mask covers the patch."""
    x = torch.full((1, 3, 100, 100), 0.45)
    ys, xs = torch.meshgrid(torch.arange(100.0), torch.arange(100.0), indexing="ij")
    d = torch.maximum((ys - 49.5).abs(), (xs - 49.5).abs()) - 12  # > 0 outside the patch
    ramp = (d <= 0).float() if edge == "sharp" else (1 - d / 12).clamp(0, 1)
    x = x + 0.45 * ramp
    m = torch.zeros(1, 1, 100, 100)
    m[..., 38:62, 38:62] = 1
    return x, m


def test_bare_paper_on_a_face_stays_in_the_mask_a_lit_cheek_does_not():
    face = [[(10.0, 10.0, 80.0, 80.0)]]
    x, m = _face_photo("sharp")
    out = keep_thin_in_faces(m, face, grow=0.0, image=x)
    assert torch.equal(out, m)  # 576 px >= 4% of 6,400: bare paper, filled
    assert keep_thin_in_faces(m, face, grow=0.0).sum() == 0  # without the photo: a blob
    x, m = _face_photo("soft")
    assert keep_thin_in_faces(m, face, grow=0.0, image=x).sum() == 0  # shades off: skin
    # a 12 x 12 bright patch with a sharp step on a 100-px face is under PAPER_AREA: an eye white
    x, m = _face_photo("sharp")
    big = [[(0.0, 0.0, 100.0, 100.0)]]
    m_small = torch.zeros_like(m)
    m_small[..., 44:56, 44:56] = 1  # 144 px < 4% of 10,000
    x_small = torch.full_like(x, 0.45)
    x_small[..., 44:56, 44:56] = 0.9
    assert 144 < PAPER_AREA * 100 * 100 < 576
    assert keep_thin_in_faces(m_small, big, kernel=5, grow=0.0, image=x_small).sum() == 0
    assert keep_thin_in_faces(m, big, kernel=5, grow=0.0, image=x).sum() == 576  # 5.8%: kept


def test_paper_blobs_needs_a_bright_step_not_a_dark_one():
    x, m = _face_photo("sharp")
    assert int(paper_blobs(m, x, 100).sum()) == 576
    assert int(paper_blobs(m, 1 - x, 100).sum()) == 0  # a dark patch is no bare paper
    assert int(paper_blobs(m, x, 1000).sum()) == 0  # too small
