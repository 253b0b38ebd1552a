"""Long light lines (restore.photo.lines): folds and scratches found, the picture's lines left."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from restore.photo.lines import (
    MIN_RIDGE,
    _collinear,
    _extended,
    _kept_segments,
    long_lines,
    ridge_response,
)
from restore.photo.stages import detect_damage


def _picture(h: int = 240, w: int = 200, seed: int = 0) -> torch.Tensor:
    """A photo-like picture: smooth shading plus grain, in [0.2, 0.7]."""
    g = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    base = 0.45 + 0.15 * torch.sin(5 * xs + 2 * ys)
    grain = 0.06 * (torch.rand(1, 1, h, w, generator=g) - 0.5)
    return (base + grain).clamp(0.2, 0.7).expand(1, 3, h, w).clone()


def _line(x: torch.Tensor, p1, p2, width: int, value=0.92) -> tuple[torch.Tensor, np.ndarray]:
    """x with a straight line of ``value`` (a number or an RGB triple) from p1 to p2 (x, y)."""
    h, w = x.shape[-2:]
    on = np.zeros((h, w), np.uint8)
    cv2.line(on, p1, p2, 1, width)
    out = x.clone()
    where = torch.from_numpy(on > 0)
    out[0][:, where] = torch.as_tensor(value, dtype=x.dtype).reshape(-1, 1)
    return out, on > 0


def _seen(on: np.ndarray, p: float = 0.3) -> torch.Tensor:
    """A detector's map that follows the line at probability ``p``: under any threshold."""
    near = cv2.dilate(on.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return torch.from_numpy(near * p).float()[None, None]


def test_ridge_response_scores_lines_not_edges():
    lum = np.full((40, 40), 0.4, np.float32)
    lum[:, 20:22] = 0.8  # a light line 2 px wide
    r = ridge_response(lum)
    assert r[10:30, 20:22].min() > 0.2  # lighter than both sides, after the slight blur
    step = np.full((40, 40), 0.2, np.float32)
    step[:, 20:] = 0.8  # a step edge: lighter than one side only
    assert ridge_response(step).max() < 1e-6
    dark = 1.0 - lum  # a dark line is not a light ridge
    assert ridge_response(dark)[10:30, 20:22].max() < 1e-6
    assert r[:6].max() == 0 and r[:, -6:].max() == 0  # no neighbours at the edges


@pytest.mark.parametrize(
    "p1, p2, width",
    [((100, 0), (100, 239), 2), ((0, 60), (199, 150), 3), ((30, 20), (140, 200), 1)],
)
def test_a_light_line_the_detector_sees_is_found(p1, p2, width):
    x, on = _line(_picture(), p1, p2, width)
    m = long_lines(x, _seen(on))[0, 0].numpy() > 0
    inner = on.copy()
    inner[:8] = inner[-8:] = False
    inner[:, :8] = inner[:, -8:] = False
    assert m[inner].mean() > 0.75, m[inner].mean()  # the line's core; its rim, once grown:
    grown = cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert grown[inner].mean() > 0.95, grown[inner].mean()
    near = cv2.dilate(on.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert not (m & ~near).any()  # and nothing off it


def test_a_line_is_kept_only_with_the_detectors_evidence():
    x, on = _line(_picture(), (100, 0), (100, 239), 2)
    assert not long_lines(x, torch.zeros(1, 1, 240, 200)).any()  # the picture's own line
    assert not long_lines(x, _seen(on, 0.15)).any()  # seen too faintly
    assert long_lines(x, _seen(on, 0.25)).any()


def test_a_piece_on_the_line_of_a_kept_one_is_kept_unseen():
    """A crease the detector sees over the background and not over a face: Hough's piece over
    the face lies on the seen piece's straight line and is kept with it; a piece elsewhere that
    the detector does not see is not."""
    x, on = _line(_picture(), (0, 120), (199, 122), 2)
    x, other = _line(x, (0, 30), (199, 60), 2)
    img = x[0].permute(1, 2, 0).numpy()
    cand = (on | other).astype(np.uint8)
    seen = on.copy()
    seen[:, 80:] = False  # the detector sees the crease's left part only
    prob = _seen(seen)[0, 0].numpy()
    left, right = np.array([0.0, 120, 79, 121]), np.array([80.0, 121, 199, 122])
    elsewhere = np.array([0.0, 30, 199, 60])
    smooth = _smooth(x)
    kept = _kept_segments([right, elsewhere, left], cand, img, prob, smooth)
    assert [k.tolist() for k in kept] == [left.tolist(), right.tolist()]
    assert _kept_segments([right, elsewhere], cand, img, prob, smooth) == []  # nothing seen


def _smooth(x: torch.Tensor) -> np.ndarray:
    """The slightly blurred luma the line finder follows a line on."""
    lum = x[0].permute(1, 2, 0).numpy() @ np.array([0.299, 0.587, 0.114], np.float32)
    return cv2.GaussianBlur(lum, (0, 0), 0.8)


def test_a_kept_line_goes_on_as_far_as_the_photo_shows_it():
    x, _ = _line(_picture(), (100, 30), (100, 200), 2, value=0.75)  # a light line, y 30-200
    pieces = _extended(np.array([100.0, 100, 100, 150]), _smooth(x))  # Hough saw y 100-150
    ends = sorted(float(p[3]) for p in pieces)
    assert len(pieces) == 2 and abs(ends[0] - 30) <= 2 and abs(ends[1] - 200) <= 2, pieces
    assert all(abs(p[2] - 100) < 0.5 for p in pieces)  # on the segment's own straight line
    # where the picture shows no line beyond the segment, it does not go on
    y, _ = _line(_picture(), (100, 100), (100, 150), 2, value=0.75)
    assert all(
        np.hypot(*(p[2:] - p[:2])) <= 3
        for p in _extended(np.array([100.0, 100, 100, 150]), _smooth(y))
    )


def test_a_scratch_across_blinds_is_followed_over_the_slats():
    """A vertical scratch, bright over the plain lower half of a picture, goes on faintly across
    the horizontal slats above, light and dark in turn (the blinds of ``dip2025/scanned2``).
    Hough finds the bright half, and only pieces of the faint one; the extension follows it
    over both kinds of slat, where it is a little lighter than both of its sides."""
    pic = _picture()
    for y in range(0, 120, 10):
        pic[..., y : y + 5, :] = 0.25  # dark slats 5 px high, every 10 px, over the upper half
    x, on = _line(pic, (100, 120), (100, 229), 1, value=0.8)
    x[..., 10:120, 100] += 0.08  # the scratch over the slats: faint
    on[10:120, 100] = True
    m = long_lines(x, _seen(on))[0, 0].numpy() > 0
    assert m[120:220, 99:102].any(1).mean() > 0.95
    assert m[20:120, 99:102].any(1).mean() > 0.9  # without the extension: 0.43
    assert not m[:, :95].any() and not m[:, 106:].any()  # not the slats


def test_a_line_that_runs_into_marked_damage_is_kept_unseen():
    """A crack over busy picture that the detector does not see along Hough's segment, but marks
    where the crack goes on (the diagonal crack over the wicker chair of ``dip2025/scanned2``):
    the segment, followed beyond its end, runs into the marked damage and is kept. The same
    segment with the marks off its line, or marked too faintly, is not."""
    x, on = _line(_picture(), (20, 220), (180, 20), 2, value=0.8)
    img = x[0].permute(1, 2, 0).numpy()
    seg = np.array([20.0, 220, 110, 107.5])  # Hough's piece: the lower part of the crack
    far = on.copy()
    far[120:] = False  # the detector marks the crack's far end only (y < 120, beyond the piece)
    prob = _seen(far, 0.9)[0, 0].numpy()
    kept = _kept_segments([seg], on.astype(np.uint8), img, prob, _smooth(x))
    assert [k.tolist() for k in kept] == [seg.tolist()]
    beside = np.roll(prob, 40, axis=1)  # the same marks 40 px to the side of the crack's line
    assert _kept_segments([seg], on.astype(np.uint8), img, beside, _smooth(x)) == []
    faint = prob * 0.3  # 0.27 on the far end: under the pipeline's threshold
    assert _kept_segments([seg], on.astype(np.uint8), img, faint, _smooth(x)) == []


def test_collinear_segments():
    a = np.array([0.0, 100.0, 100.0, 100.0])  # horizontal, y = 100
    assert _collinear(a, np.array([150.0, 103.0, 300.0, 97.0]))  # ends 3 px off, 2.3 degrees
    assert _collinear(a, np.array([300.0, 102.0, 150.0, 101.0]))  # drawn the other way
    assert not _collinear(a, np.array([150.0, 106.0, 300.0, 106.0]))  # parallel, 6 px away
    assert not _collinear(a, np.array([150.0, 100.0, 300.0, 120.0]))  # 7.6 degrees off
    assert not _collinear(a, np.array([5.0, 5.0, 5.0, 5.0]))  # not a segment


def test_short_coloured_and_repeated_lines_are_left_alone():
    pic = _picture()
    short, on = _line(pic, (100, 60), (100, 100), 2)  # 40 px: under a quarter of 200
    assert not long_lines(short, _seen(on)).any()
    red, on = _line(pic, (100, 0), (100, 239), 2, value=(0.95, 0.3, 0.3))  # not bare paper
    assert float(ridge_response(red[0].mean(0).numpy()).max()) > MIN_RIDGE  # light enough
    assert not long_lines(red, _seen(on)).any()
    blinds, seen = pic.clone(), np.zeros((240, 200), bool)
    for y in range(92, 140, 9):  # six slats 9 px apart, as blinds or stripes are
        blinds, on = _line(blinds, (0, y), (199, y), 2)
        seen |= on
    assert not long_lines(blinds, _seen(seen)).any()
    # a lone line among them is still found once the others are gone
    one, on = _line(pic, (0, 110), (199, 110), 2)
    assert long_lines(one, _seen(on)).any()


def test_a_line_along_the_edge_is_the_prints_border():
    pic = _picture(400, 400)  # its edge band: 16 px
    x, on = _line(pic, (0, 9), (399, 12), 2)  # within the edge band all along
    assert not long_lines(x, _seen(on)).any()
    x, on = _line(pic, (0, 9), (399, 60), 2)  # leaves it: a scratch across the print
    assert long_lines(x, _seen(on)).any()


def test_a_large_scan_is_looked_at_shrunk_and_marked_at_full_size():
    x = torch.nn.functional.interpolate(_picture(), size=(1200, 1000), mode="bilinear")
    x, on = _line(x, (500, 0), (500, 1199), 6)  # 6 px wide at full size: 5 at the working size
    m = long_lines(x, _seen(on))[0, 0].numpy() > 0
    assert m.shape == (1200, 1000)
    assert m[100:1100, 498:502].mean() > 0.9
    near = cv2.dilate(on.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert not (m & ~near).any()


def test_bad_input():
    x = torch.rand(1, 3, 64, 64)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        long_lines(x[0], torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="does not match"):
        long_lines(x, torch.zeros(1, 1, 32, 64))
    assert not long_lines(torch.rand(1, 3, 20, 20), torch.ones(1, 1, 20, 20)).any()  # too small


class _Faint:
    """A detector that sees the light line at 0.3 only: under the threshold."""

    def __init__(self, on: np.ndarray) -> None:
        self.map = _seen(on)

    def run_tensor(self, x: torch.Tensor) -> torch.Tensor:
        return self.map.expand(x.shape[0], -1, -1, -1).clone()


def test_detect_damage_adds_the_lines_grown_like_the_rest():
    x, on = _line(_picture(), (100, 0), (100, 239), 2)
    args = dict(protect_faces=False, half_size=False, corners=False, flips=1)
    assert not detect_damage(_Faint(on), x, 0.4, 1, **args).any()  # off: the detector alone
    m = detect_damage(_Faint(on), x, 0.4, 1, lines=True, **args)[0, 0].numpy() > 0
    assert m[20:220, 99:101].all()
    grown = cv2.dilate(on.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    assert not (m & ~grown).any()
    assert m[20:220].sum(1).max() <= 2 + 2 * 2 + 2  # the line's 2 px, its 2 px band, 1 grown
