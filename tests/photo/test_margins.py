"""A print's margins are not damage (restore.photo.margins)."""

import numpy as np
import pytest
import torch

from restore.photo.margins import drop_edge_bands, flat_margins


def test_edge_bands_go_and_deeper_regions_stay():
    m = torch.zeros(1, 1, 100, 120)
    m[..., :, :3] = 1  # a band along the left edge (limit 4 px): a margin
    m[..., 97:, 50:70] = 1  # a short band at the bottom
    m[..., :30, 90:] = 1  # a torn corner, 30 px deep: damage
    m[..., 40:60, 40:60] = 1  # inside: damage
    out = drop_edge_bands(m)
    assert float(out[..., :, :3].sum()) == 0 and float(out[..., 97:, 50:70].sum()) == 0
    assert torch.equal(out[..., :30, 90:], m[..., :30, 90:])
    assert torch.equal(out[..., 40:60, 40:60], m[..., 40:60, 40:60])
    # a band joined to a scratch that runs inwards is one region: it stays
    m2 = m.clone()
    m2[..., 50, :40] = 1
    assert float(drop_edge_bands(m2)[..., :, :3].sum()) == 300  # the whole 3-px band


def test_flat_margins_of_a_scan():
    g = np.random.default_rng(0)
    lum = g.random((80, 100)) * 0.8  # the picture: texture
    lum[:, :5] = 0.97  # a white margin 5 px wide on the left
    lum[-3:, :] = 0.02  # a dark scanner bed 3 px high at the bottom
    top, bottom, left, right = flat_margins(lum, limit=8)
    assert (top, bottom, left, right) == (0, 3, 5, 0)
    img = torch.from_numpy(lum).float().expand(1, 3, -1, -1)
    mask = torch.zeros(1, 1, 80, 100)
    mask[..., 10:60, 0:20] = 1  # reaches in: kept, but not over the margin
    out = drop_edge_bands(mask, band=0.1, image=img)
    assert float(out[..., :, :5].sum()) == 0
    assert torch.equal(out[..., 10:60, 5:20], mask[..., 10:60, 5:20])


def test_bad_mask_shape():
    with pytest.raises(ValueError, match="mask"):
        drop_edge_bands(torch.zeros(1, 3, 8, 8))
