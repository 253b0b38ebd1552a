"""Band-streamed tiling: integer in / integer out equals the float path; tiles equal no tiles."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from restore.core.tiling import pad_run, tiled_apply


def _net(scale: int = 1) -> nn.Module:
    torch.manual_seed(0)
    layers = [
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 3 * scale * scale, 3, padding=1),
    ]
    if scale > 1:
        layers.append(nn.PixelShuffle(scale))
    return nn.Sequential(*layers, nn.Sigmoid()).eval()


def test_tiled_matches_untiled_within_a_grey_level_fraction():
    for scale in (1, 2):
        net = _net(scale)
        x = torch.rand(1, 3, 70, 93)
        with torch.no_grad():
            full = pad_run(net, x, multiple=1, scale=scale)
            tiled = tiled_apply(net, x, tile=32, halo=8, scale=scale)
        assert tiled.shape == full.shape
        assert (tiled - full).abs().max() < 1e-5


def test_uint8_streaming_equals_the_float_path_exactly():
    net = _net(2)
    rng = np.random.default_rng(0)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        px = rng.integers(0, top + 1, (45, 61, 3), dtype=dtype)
        src = torch.from_numpy(px).permute(2, 0, 1)[None]
        res = np.zeros((90, 122, 3), dtype)
        with torch.no_grad():
            tiled_apply(
                net, src, tile=24, halo=6, scale=2, out=torch.from_numpy(res).permute(2, 0, 1)[None]
            )
            ref = tiled_apply(net, src.to(torch.float32) / top, tile=24, halo=6, scale=2)
        expect = (
            (ref.clamp(0, 1) * top)
            .round()
            .to(torch.float64)[0]
            .permute(1, 2, 0)
            .numpy()
            .astype(dtype)
        )
        np.testing.assert_array_equal(res, expect)


def test_the_detector_and_enhance_run_a_1024_px_photo_untiled(monkeypatch):
    """Their cards size tiles from the U-Net's measured memory (unet_bytes_per_pixel): with 8 GiB
    free a 1024 x 768 photo runs in one piece, as untiled, where the 4096 B/px default cut it
    into 704-px tiles whose borders changed the detector's map."""
    import restore
    from restore.core import tiling

    monkeypatch.setattr(tiling, "_available_ram", lambda: 8.0 * 1024**3)
    x = torch.rand(1, 3, 768, 1024, generator=torch.Generator().manual_seed(0))
    for name in ("damage", "enhance"):
        r = restore.load(name, device="cpu")
        assert (
            r.inference["bytes_per_pixel"]
            == tiling.unet_bytes_per_pixel({"base_channels": 16})
            == 512
        )
        auto = r.run_tensor(x)
        r.tile = 0
        assert torch.equal(auto, r.run_tensor(x))
        r.tile = tiling.auto_tile(torch.device("cpu"), 4096, 32)  # the default's tile: 704
        assert r.tile == 704 and not torch.equal(auto, r.run_tensor(x))
