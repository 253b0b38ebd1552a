"""A print's screen: the periodic texture of its paper or its reproduction, taken out.

Many old prints were made on textured paper (silk, linen, the honeycomb of ``bzz12366/17`` in
``../shared/data/real_old``) or reproduced through a halftone screen. In a scan the texture is a
lattice of light and dark cells over the whole picture: the damage detector and the line finder
see its cells as specks and ridges, and the enhance curve leaves it in place. In the photo's
spectrum the lattice is a few sharp peaks, far above the smooth falloff of the picture's own
spectrum, and that is how :func:`find_screen` tells it from the picture:

1. the photo's luma, shrunk by area so that its longer side is at most :data:`WORK_SIDE`, is cut
   into up to 6 x 6 tiles of :data:`TILE` px spread over it (at least :data:`MIN_TILES`; a
   smaller photo is left alone);
2. per tile, its Hann-windowed spectrum's log magnitude over the mean of its 9 x 9 neighbourhood
   without the centre 3 x 3: a peak's height in nats (1.8: 6 times its surroundings);
3. per frequency, the height that :data:`SHARE` of the tiles reach (their lower quartile): a
   screen covers the whole print, a picture's pattern (blinds, a striped cloth, a brick wall)
   only part of it;
4. a screen is found when local maxima of that height over :data:`PEAK` at periods of
   :data:`MIN_PERIOD` to :data:`MAX_PERIOD` px run in two directions at least :data:`CROSS`
   degrees apart (a lattice: dots, a weave, silk's cells; a wall's courses, shingles or blinds
   repeat in one direction); its frequencies are then all those over :data:`WEAK` in that band
   (a lattice's weaker directions and harmonics), grown by :data:`GROW` bins.

Calibration (``python scripts/bench/descreen.py calibrate``, docs/BENCHMARKS.md "A print's
screen"): the largest height two such peaks both reach is at most 1.35 over the 590 photos of
``../shared/data/train`` (T91's t10, 142 x 129 px of leaves: four tiles that nearly coincide)
and 0.72 over Set5 / Set14; ``bzz12366/17`` reaches 2.69 and the other real prints at most 1.03.
Without the lattice rule (any single peak) T91's stone, shingle and brick walls reach 2.21,
1.78 and 1.53 (``tt14``, ``tt16``, ``tt19``): a wall's courses repeat in one direction.

:func:`descreen` takes the found frequencies out of the full-size photo: the photo is mirrored to
twice its size (no edge where it wraps around), and in its luma's spectrum each found frequency
whose magnitude is above the mean log magnitude at its radius (the picture's own falloff) is
brought down to it, phase kept. The same gain multiplies the spectrum of each channel, so a grey
photo stays grey and a colour one keeps its colours. A photo without a screen comes back as it is.
A photo whose longer side is over :data:`PIECE` px is filtered in overlapping pieces of that
side, each mirrored and filtered on its own (at its own falloff) and blended linearly over
:data:`OVERLAP` px, so a large scan needs the memory of one piece, not of a spectrum twice its
size (docs/BENCHMARKS.md, "A print's screen").

Example:
    >>> g = torch.Generator().manual_seed(0)
    >>> y, x = torch.meshgrid(torch.arange(256.0), torch.arange(256.0), indexing="ij")
    >>> photo = (0.5 + 0.1 * torch.rand(1, 1, 256, 256, generator=g)).expand(1, 3, -1, -1)
    >>> cells = 0.05 * (torch.cos(2 * math.pi * x / 6) + torch.cos(2 * math.pi * y / 6))
    >>> screened = photo + cells
    >>> [round(p) for p in find_screen(screened)[0].periods]   # its lattice, in px
    [6, 6]
    >>> out, found = descreen(screened)
    >>> float((out - photo).abs().mean()) < 0.2 * float(cells.abs().mean())
    True
    >>> bool(torch.equal(descreen(photo)[0], photo))               # no screen: untouched
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from restore.data.color import LUMA_601, rgb_to_gray

__all__ = [
    "CROSS",
    "GROW",
    "MAX_PERIOD",
    "MIN_PERIOD",
    "MIN_TILES",
    "OVERLAP",
    "PEAK",
    "PIECE",
    "SHARE",
    "TILE",
    "WEAK",
    "WORK_SIDE",
    "Screen",
    "descreen",
    "find_screen",
    "is_lattice",
    "screen_heights",
    "working_luma",
]

#: Side of the tiles whose spectra are compared, in px at the working size.
TILE = 128
#: The photo is looked at with its longer side at most this (shrunk by area).
WORK_SIDE = 1024
#: Fewest tiles for a decision: a smaller photo is never descreened.
MIN_TILES = 4
#: Share of the tiles in which a peak must stand out (the height is their (1 - SHARE) quantile).
SHARE = 0.75
#: Height (nats over the peak's surroundings) at which a frequency is a screen: 6 times.
PEAK = 1.8
#: Once a screen is found, its frequencies are all those over this height (2.7 times).
WEAK = 1.0
#: Periods a screen may have, in px at the working size: finer is scanner noise and JPEG
#: ringing, coarser is picture.
MIN_PERIOD = 3.0
MAX_PERIOD = 12.0
#: A screen's peaks run in two directions at least this many degrees apart (a lattice).
CROSS = 30.0
#: The screen's frequencies grow by this many bins of the tiles' grid: a print's lattice is not
#: quite regular (the paper warps), so its peaks are broader than a tile's bin.
GROW = 2
#: A photo whose longer side is over this is filtered in overlapping pieces of this side (each
#: mirrored on its own), so a large scan's filter needs memory for one piece, not for the scan.
PIECE = 1024
#: The pieces overlap by this many px, over which they are blended linearly.
OVERLAP = 64


@dataclass(frozen=True)
class Screen:
    """What :func:`find_screen` found in one photo.

    Attributes:
        height: the largest height in the screen band (nats; :data:`PEAK` and over: a screen).
        periods: the periods (px, at full size) of the screen's strongest peaks, one per
            direction (mirror pairs counted once), strongest first; empty without a screen.
        stop: (TILE, TILE) bool, the screen's frequencies on the tiles' centred frequency grid
            (all False without a screen).
        factor: working size over full size (<= 1).
    """

    height: float
    periods: list[float]
    stop: Tensor
    factor: float

    @property
    def found(self) -> bool:
        """Whether the photo has a screen."""
        return bool(self.stop.any())


def _grid(size: int) -> list[int]:
    """Top-left offsets of the tiles along one side of ``size`` px (up to 6, spread evenly)."""
    if size < TILE:
        return []
    n = min(6, math.ceil(size / TILE))
    return [round(i * (size - TILE) / max(1, n - 1)) for i in range(n)]


def _ring_mean(a: Tensor) -> Tensor:
    """Per bin of (N, T, T) spectra: the mean of its 9 x 9 neighbourhood without its 3 x 3."""
    a = a[:, None]
    s9 = F.avg_pool2d(F.pad(a, (4, 4, 4, 4), mode="replicate"), 9, 1) * 81
    s3 = F.avg_pool2d(F.pad(a, (1, 1, 1, 1), mode="replicate"), 3, 1) * 9
    return ((s9 - s3) / 72)[:, 0]


def _band() -> Tensor:
    """(TILE, TILE) bool: the centred tile frequencies of period MIN_PERIOD to MAX_PERIOD."""
    f = torch.arange(TILE, dtype=torch.float32) - TILE // 2
    r = torch.hypot(f[:, None], f[None, :])
    return (r >= TILE / MAX_PERIOD) & (r <= TILE / MIN_PERIOD)


def screen_heights(lum: Tensor) -> Tensor:
    """Per centred tile frequency, the height that :data:`SHARE` of the tiles of ``lum``
    (H, W) reach (nats; module steps 1-3); -inf outside the screen band. Shape (TILE, TILE);
    all -inf with fewer than :data:`MIN_TILES` tiles."""
    h, w = lum.shape
    ys, xs = _grid(h), _grid(w)
    out = torch.full((TILE, TILE), -math.inf, device=lum.device)
    if len(ys) * len(xs) < MIN_TILES:
        return out
    tiles = torch.stack([lum[y : y + TILE, x : x + TILE] for y in ys for x in xs]).float()
    win = torch.hann_window(TILE, periodic=False, device=lum.device)
    tiles = (tiles - tiles.mean((1, 2), keepdim=True)) * (win[:, None] * win[None, :])
    mag = torch.fft.fftshift(torch.fft.fft2(tiles).abs(), dim=(-2, -1))
    lf = torch.log(mag + 1e-6)
    heights = torch.quantile(lf - _ring_mean(lf), 1.0 - SHARE, dim=0)
    band = _band().to(lum.device)
    return torch.where(band, heights, out)


def working_luma(x: Tensor) -> tuple[Tensor, float]:
    """The luma (H', W') of one photo ``x`` (3, H, W) shrunk by area to :data:`WORK_SIDE`, and
    the factor H' / H."""
    lum = rgb_to_gray(x[None].float().clamp(0, 1))
    f = min(1.0, WORK_SIDE / max(x.shape[-2:]))
    if f < 1.0:
        size = (max(1, round(x.shape[-2] * f)), max(1, round(x.shape[-1] * f)))
        lum = F.interpolate(lum, size=size, mode="area")
        f = size[0] / x.shape[-2]
    return lum[0, 0], f


def find_screen(x: Tensor) -> list[Screen]:
    """The screen of each photo ``x`` (B, 3, H, W) in [0, 1] (module steps 1-4).

    Raises:
        ValueError: ``x`` is not (B, 3, H, W).
    """
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) photos, got {tuple(x.shape)}")
    found = []
    for i in range(x.shape[0]):
        lum, f = working_luma(x[i])
        heights = screen_heights(lum)
        top = float(heights.max())
        stop = torch.zeros(TILE, TILE, dtype=torch.bool, device=x.device)
        periods: list[float] = []
        peaks = _peaks(heights)
        if is_lattice(peaks):
            weak = (heights > WEAK).float()[None, None]
            stop = F.max_pool2d(weak, 2 * GROW + 1, 1, GROW)[0, 0] > 0
            periods = [TILE / math.hypot(ky, kx) / f for ky, kx in peaks]
        found.append(Screen(height=top, periods=periods, stop=stop, factor=f))
    return found


def _peaks(heights: Tensor) -> list[tuple[int, int]]:
    """The local maxima of ``heights`` over :data:`PEAK`, as centred frequencies (ky, kx) on the
    tiles' grid, one per mirror pair, strongest first."""
    h = heights[None, None]
    top = (heights > PEAK) & (F.max_pool2d(h, 3, 1, 1)[0, 0] == heights)
    order = sorted(torch.nonzero(top).tolist(), key=lambda p: -float(heights[p[0], p[1]]))
    out: list[tuple[int, int]] = []
    for fy, fx in order:
        k = (fy - TILE // 2, fx - TILE // 2)
        if (-k[0], -k[1]) not in out:
            out.append(k)
    return out


def is_lattice(peaks: list[tuple[int, int]]) -> bool:
    """Whether ``peaks`` (ky, kx) run in two directions at least :data:`CROSS` degrees apart: a
    screen is a lattice (a halftone's dots, a weave, silk's cells), while the lines of a wall's
    courses, shingles or blinds repeat in one direction."""
    angles = [math.degrees(math.atan2(ky, kx)) % 180.0 for ky, kx in peaks]
    return any(
        min(abs(a - b), 180.0 - abs(a - b)) >= CROSS
        for i, a in enumerate(angles)
        for b in angles[:i]
    )


def _mirrored(x: Tensor) -> Tensor:
    """(..., 2H, 2W): ``x`` (..., H, W) beside its mirror images, periodic without an edge."""
    top = torch.cat([x, x.flip(-1)], -1)
    return torch.cat([top, top.flip(-2)], -2)


def _gain(spec: Tensor, w2: int, screen: Screen) -> Tensor:
    """The rfft2 gain (2H, W + 1) that brings the screen's frequencies of the mirrored luma,
    whose rfft2 is ``spec`` (2H, W + 1; ``w2`` = 2W), down to the mean log magnitude at their
    radius."""
    h2 = spec.shape[0]
    lf = torch.log(spec.abs() + 1e-8)
    fy = torch.fft.fftfreq(h2, device=spec.device)[:, None].expand(h2, w2 // 2 + 1)
    fx = torch.fft.rfftfreq(w2, device=spec.device)[None, :].expand(h2, w2 // 2 + 1)
    # the picture's falloff: mean log magnitude per radius, in bins of the shorter side's step
    step = 1.0 / min(h2, w2)
    ring = (torch.hypot(fy, fx) / step).round().long()
    n = int(ring.max()) + 1
    total = torch.zeros(n, device=spec.device).index_add_(0, ring.flatten(), lf.flatten())
    count = torch.bincount(ring.flatten(), minlength=n).clamp_min(1)
    falloff = (total / count)[ring]
    # the screen's frequencies, looked up on the tiles' grid at the working size
    ty = (fy / screen.factor * TILE).round().long() + TILE // 2
    tx = (fx / screen.factor * TILE).round().long() + TILE // 2
    inside = (ty >= 0) & (ty < TILE) & (tx >= 0) & (tx < TILE)
    stop = torch.zeros_like(inside)
    stop[inside] = screen.stop[ty[inside], tx[inside]]
    return torch.where(stop, torch.exp((falloff - lf).clamp(max=0.0)), torch.ones_like(lf))


def descreen(x: Tensor) -> tuple[Tensor, list[Screen]]:
    """Take the screen out of photos ``x`` (B, 3, H, W) in [0, 1] (module docstring).

    Returns:
        (photos (B, 3, H, W) in [0, 1]: those without a screen are returned as they are, the
        others with their screen's frequencies brought down to the picture's falloff; per photo
        its :class:`Screen`).

    Raises:
        ValueError: ``x`` is not (B, 3, H, W).
    """
    screens = find_screen(x)
    if not any(s.found for s in screens):
        return x, screens
    out = x.clone()
    for i, s in enumerate(screens):
        if s.found:
            out[i] = _filtered(x[i].float(), s).clamp(0, 1).to(x)
    return out, screens


def _filtered_whole(img: Tensor, screen: Screen) -> Tensor:
    """``img`` (3, H, W) with the screen's frequencies brought down, mirrored as one piece."""
    h, w = img.shape[-2:]
    m = _mirrored(img)
    spec = torch.fft.rfft2(m)
    luma = torch.tensor(LUMA_601, dtype=spec.dtype, device=img.device)
    lum = torch.einsum("c,chw->hw", luma, spec)  # the luma's spectrum (luma is linear in RGB)
    lum[0, 0] = 0  # its mean
    return torch.fft.irfft2(spec * _gain(lum, m.shape[-1], screen), s=m.shape[-2:])[..., :h, :w]


def _starts(n: int) -> list[int]:
    """Starts of the pieces of side :data:`PIECE` covering ``n`` px, overlapping by at least
    :data:`OVERLAP`."""
    if n <= PIECE:
        return [0]
    return [*range(0, n - PIECE, PIECE - OVERLAP), n - PIECE]


def _ramp(n: int, start: int, side: int, total: int) -> Tensor:
    """Blending weights (n,) of a piece along one axis: rising over :data:`OVERLAP` px where it
    overlaps another piece, 1 elsewhere (and at the photo's own edges)."""
    r = torch.ones(n)
    up = torch.arange(1, OVERLAP + 1) / (OVERLAP + 1)
    if start > 0:
        r[:OVERLAP] = up
    if start + side < total:
        r[-OVERLAP:] = torch.minimum(r[-OVERLAP:], up.flip(0))
    return r


def _filtered(img: Tensor, screen: Screen) -> Tensor:
    """``img`` (3, H, W) filtered whole, or in overlapping pieces when larger than
    :data:`PIECE` (the same frequencies stopped in each piece, at the piece's own falloff)."""
    h, w = img.shape[-2:]
    if max(h, w) <= PIECE:
        return _filtered_whole(img, screen)
    out = torch.zeros_like(img)
    weight = torch.zeros(1, h, w, device=img.device)
    for y0 in _starts(h):
        for x0 in _starts(w):
            piece = img[:, y0 : y0 + PIECE, x0 : x0 + PIECE]
            ph, pw = piece.shape[-2:]
            wy = _ramp(ph, y0, PIECE, h).to(img.device)
            wx = _ramp(pw, x0, PIECE, w).to(img.device)
            wgt = wy[:, None] * wx[None, :]
            out[:, y0 : y0 + ph, x0 : x0 + pw] += _filtered_whole(piece, screen) * wgt
            weight[:, y0 : y0 + ph, x0 : x0 + pw] += wgt
    return out / weight
