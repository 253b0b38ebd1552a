"""A print's screen (restore.photo.screen): a lattice over the whole print is found and taken out;
a picture's own repeats (one direction, or part of the photo) and photos without one are left."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from restore.photo.screen import MIN_PERIOD, descreen, find_screen, screen_heights


def _picture(h: int = 320, w: int = 384, seed: int = 0) -> torch.Tensor:
    """A photo-like picture: smooth random shapes (bicubic from 12 x 12) plus fine grain."""
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(torch.rand(1, 3, 12, 12, generator=g), size=(h, w), mode="bicubic")
    grain = 0.02 * (torch.rand(1, 1, h, w, generator=g) - 0.5)
    return (0.2 + 0.6 * base + grain).clamp(0, 1)


def _waves(h: int, w: int, period: float, angles_deg: list[float]) -> torch.Tensor:
    """Mean of cosines of ``period`` px in the given directions: (1, 1, h, w) in [-1, 1]."""
    ys, xs = torch.meshgrid(torch.arange(h * 1.0), torch.arange(w * 1.0), indexing="ij")
    t = [
        torch.cos(
            2 * math.pi / period * (xs * math.cos(math.radians(a)) + ys * math.sin(math.radians(a)))
        )
        for a in angles_deg
    ]
    return (sum(t) / len(t))[None, None]


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / ((a - b) ** 2).mean()))


def test_silk_cells_over_the_whole_print_are_found_and_taken_out():
    clean = _picture()
    cells = _waves(320, 384, 6.0, [10, 70, 130])  # a hexagonal lattice, as silk paper's
    x = clean * (1 + 0.12 * cells)
    screens = find_screen(x)
    assert screens[0].found
    assert all(abs(p - 6.0) < 0.5 for p in screens[0].periods[:3]), screens[0].periods
    y, _ = descreen(x)
    before, after = _psnr(x, clean), _psnr(y, clean)
    assert after > before + 10, (before, after)  # about 29 dB -> over 40 dB
    # the picture itself is kept: y is much closer to the clean photo than a blur of x would be
    blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
    assert after > _psnr(blurred, clean) + 5


def test_a_photo_without_a_screen_comes_back_as_it_is():
    x = _picture(seed=3)
    y, screens = descreen(x)
    assert y is x and not screens[0].found and screens[0].periods == []


def test_lines_repeating_in_one_direction_are_not_a_screen():
    # a wall's courses, shingles, blinds: periodic across the photo, but in one direction only
    clean = _picture(seed=1)
    # sharp-edged courses: harmonics at 2x and 3x the frequency, in the same direction
    courses = clean * (1 + 0.15 * torch.tanh(3 * _waves(320, 384, 7.0, [90])))
    assert float(screen_heights(courses[0].mean(0)).max()) > 2.0  # its peaks stand out ...
    assert not find_screen(courses)[0].found  # ... but they are not a lattice
    weave = clean * (1 + 0.15 * _waves(320, 384, 7.0, [0, 90]))  # the same in two directions
    assert find_screen(weave)[0].found


def test_a_lattice_in_part_of_the_photo_is_picture_not_a_screen():
    clean = _picture(seed=2)
    part = torch.zeros(1, 1, 320, 384)
    part[..., :160, :192] = 1  # a tiled floor or a grille in one quarter
    x = clean * (1 + 0.15 * part * _waves(320, 384, 6.0, [0, 60, 120]))
    assert not find_screen(x)[0].found
    assert descreen(x)[0] is x


def test_periods_outside_the_band_are_not_a_screen():
    clean = _picture(seed=4)
    for period in (2.0, 30.0):  # scanner noise, and the picture's own scale
        x = clean * (1 + 0.15 * _waves(320, 384, period, [0, 60, 120]))
        assert not find_screen(x)[0].found, period
    assert MIN_PERIOD > 2.0


def test_grey_stays_grey_and_colour_keeps_its_balance():
    grey = _picture(seed=5).mean(1, keepdim=True).expand(1, 3, -1, -1)
    cells = 1 + 0.12 * _waves(320, 384, 5.0, [0, 60, 120])
    y, s = descreen((grey * cells).clamp(0, 1))
    assert s[0].found
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 1], y[:, 2])
    colour = _picture(seed=6)
    y, _ = descreen((colour * cells).clamp(0, 1))
    # the same gain on each channel: the mean colour is kept to a level
    assert (y.mean((2, 3)) - colour.mean((2, 3))).abs().max() < 1 / 255


def test_a_batch_is_handled_per_photo():
    clean = _picture(seed=7)
    screened = clean * (1 + 0.12 * _waves(320, 384, 6.0, [15, 75, 135]))
    y, s = descreen(torch.cat([clean, screened]))
    assert [t.found for t in s] == [False, True]
    assert torch.equal(y[0], clean[0]) and _psnr(y[1:], clean) > _psnr(screened, clean) + 10


def test_a_large_scan_is_looked_at_shrunk_and_filtered_at_full_size():
    clean = F.interpolate(_picture(seed=8), size=(1200, 1600), mode="bilinear")
    x = clean * (1 + 0.12 * _waves(1200, 1600, 12.0, [0, 60, 120]))  # 7.7 px at 1024
    s = find_screen(x)[0]
    assert s.found and s.factor == pytest.approx(1024 / 1600, abs=0.01)
    assert abs(s.periods[0] - 12.0) < 1.0, s.periods  # in full-size px
    y, _ = descreen(x)
    assert _psnr(y, clean) > _psnr(x, clean) + 10


def test_a_photo_too_small_to_tell_is_left_alone():
    clean = _picture(100, 400, seed=9)
    x = clean * (1 + 0.15 * _waves(100, 400, 6.0, [0, 60, 120]))
    assert descreen(x)[0] is x


def test_bad_input_raises():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        descreen(torch.rand(3, 64, 64))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        find_screen(torch.rand(1, 1, 64, 64))


def test_the_real_silk_print_is_found_and_the_other_real_prints_are_not(shared_data):
    # docs/metrics/descreen_calibrate.json: bzz12366/17 (honeycomb paper) reaches 2.69; the
    # strongest of the other 20 prints, bzz12366/1, 1.03
    from restore.data.io import read_image

    def photo(name: str) -> torch.Tensor:
        px = torch.from_numpy(read_image(shared_data / "real_old" / name).pixels)
        return px.permute(2, 0, 1)[None].float().div(255)

    silk = find_screen(photo("bzz12366/17.png"))[0]
    assert silk.found and 6.0 < silk.periods[0] < 6.7, silk.periods
    for name in ("bzz12366/1.png", "bzz12366/28.png", "dip2025/scanned2.jpg"):
        x = photo(name)
        assert descreen(x)[0] is x, name


def test_a_large_photo_is_filtered_in_pieces_that_meet_without_seams(monkeypatch):
    from restore.photo import screen as S

    clean = F.interpolate(_picture(seed=10), size=(1100, 1500), mode="bilinear")
    x = clean * (1 + 0.12 * _waves(1100, 1500, 9.0, [5, 65, 125]))
    pieces, _ = descreen(x)  # 2 x 2 pieces of 1024 px: starts 0 and 76 down, 0 and 476 across
    monkeypatch.setattr(S, "PIECE", 4096)
    whole, _ = descreen(x)  # one piece, as before pieces (about 31.8 -> 48.3 dB)
    assert float((pieces - whole).abs().mean()) < 5e-3
    assert _psnr(pieces, clean) > _psnr(whole, clean) - 0.5
    # the blending ramps, where a seam would show, are as clean as the whole photo's filter
    every = slice(None)
    for r, c in ((every, slice(476, 540)), (every, slice(960, 1024)), (slice(76, 140), every)):
        assert _psnr(pieces[..., r, c], clean[..., r, c]) > (
            _psnr(whole[..., r, c], clean[..., r, c]) - 0.5
        )
