"""MATLAB-compatible bicubic imresize: against the shared LR sets and a numpy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from restore.data.resize import imresize, imresize_uint8, round_half_away, to_uint8


def _load_uint8(path) -> torch.Tensor:
    arr = np.array(Image.open(path).convert("RGB"))
    return torch.from_numpy(arr).permute(2, 0, 1)[None].contiguous()


def _cubic(x: float) -> float:
    a = abs(x)
    if a <= 1:
        return 1.5 * a**3 - 2.5 * a**2 + 1
    if a <= 2:
        return -0.5 * a**3 + 2.5 * a**2 - 4 * a + 2
    return 0.0


def _reference_matrix(
    in_len: int, out_len: int, scale: float, antialias: bool = True
) -> np.ndarray:
    """Dense MATLAB weights, written pixel by pixel from imresize.m's formulas."""
    widen = scale < 1 and antialias
    width = 4 / scale if widen else 4
    m = np.zeros((out_len, in_len))
    for i in range(out_len):
        u = (i + 1) / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        raw = {}
        for j in range(left, left + math.ceil(width) + 2):
            raw[j] = scale * _cubic(scale * (u - j)) if widen else _cubic(u - j)
        total = sum(raw.values())
        for j, w in raw.items():
            k = j
            while k < 1 or k > in_len:  # symmetric padding
                k = 1 - k if k < 1 else 2 * in_len + 1 - k
            m[i, k - 1] += w / total
    return m


def _reference(x: np.ndarray, out_hw: tuple[int, int], scales: tuple[float, float]) -> np.ndarray:
    mh = _reference_matrix(x.shape[-2], out_hw[0], scales[0])
    mw = _reference_matrix(x.shape[-1], out_hw[1], scales[1])
    return np.einsum("oh,bchw,pw->bcop", mh, x, mw)


def test_downscale_reproduces_set5_x4_lr(shared_data):
    """DONE BAR: HR / 4 matches MATLAB's LR within one grey level on >= 99 % of pixels."""
    for hr_path in sorted((shared_data / "val/Set5/x4/HR").glob("*.png")):
        hr = _load_uint8(hr_path).float() / 255
        lr = _load_uint8(hr_path.parent.parent / "LR" / hr_path.name)
        ours = to_uint8(imresize(hr, scale=0.25))
        assert ours.shape == lr.shape
        diff = (ours.int() - lr.int()).abs()
        assert (diff <= 1).float().mean() >= 0.99, hr_path.name


@pytest.mark.parametrize("scale", [3, 4])
def test_uint8_replicate_reproduces_lr_exactly(shared_data, scale):
    """The shared LR sets were made by an older MATLAB: replicate borders, uint8 between passes."""
    for hr_path in sorted((shared_data / f"val/Set5/x{scale}/HR").glob("*.png")):
        lr = _load_uint8(hr_path.parent.parent / "LR" / hr_path.name)
        ours = imresize_uint8(_load_uint8(hr_path), scale=1 / scale, boundary="replicate")
        assert (ours == lr).float().mean() >= 0.999, hr_path.name


@pytest.mark.parametrize(
    ("shape", "scale", "size"),
    [
        ((9, 7), 2.0, None),
        ((8, 11), 3.0, None),
        ((6, 5), 4.0, None),
        ((17, 23), 0.5, None),
        ((24, 20), 0.25, None),
        ((10, 12), None, (25, 7)),  # up in H, down in W: W first
        ((13, 9), None, (5, 21)),
    ],
)
def test_matches_numpy_reference(shape, scale, size):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, *shape, generator=gen, dtype=torch.float64)
    out = imresize(x, scale=scale, size=size)
    if size is None:
        out_hw = (math.ceil(shape[0] * scale), math.ceil(shape[1] * scale))
        scales = (scale, scale)
    else:
        out_hw = size
        scales = (size[0] / shape[0], size[1] / shape[1])
    assert out.shape == (2, 3, *out_hw)
    np.testing.assert_allclose(out.numpy(), _reference(x.numpy(), out_hw, scales), atol=1e-12)


def test_scale_one_is_identity():
    x = torch.rand(1, 3, 10, 13)
    assert torch.equal(imresize(x, scale=1.0), x)
    assert torch.equal(imresize(x, size=(10, 13)), x)


def test_output_size_follows_matlab_ceil():
    x = torch.rand(1, 1, 510, 511)
    assert imresize(x, scale=1 / 3).shape[-2:] == (170, 171)  # 510 * (1/3) is 169.99999999999997
    assert imresize(x, scale=0.1).shape[-2:] == (51, 52)


def test_upscale_shape_dtype_and_unbatched_input():
    x = torch.rand(3, 8, 6, dtype=torch.float32)
    out = imresize(x, scale=4)
    assert out.shape == (3, 32, 24) and out.dtype == torch.float32
    batched = imresize(x[None], scale=4)
    torch.testing.assert_close(out, batched[0])


def test_constant_image_stays_constant():
    x = torch.full((1, 3, 12, 9), 0.3, dtype=torch.float64)
    for kwargs in ({"scale": 0.25}, {"scale": 3}, {"size": (5, 20)}):
        torch.testing.assert_close(
            imresize(x, **kwargs), torch.full_like(imresize(x, **kwargs), 0.3)
        )


def test_antialias_off_uses_plain_kernel():
    x = torch.rand(1, 1, 16, 16, dtype=torch.float64)
    # Without antialiasing, x1/2 samples the cubic at +-0.25 and +-0.75 (and +-1.25, +-1.75).
    out = imresize(x, scale=0.5, antialias=False)
    assert out.shape == (1, 1, 8, 8)
    assert not torch.allclose(out, imresize(x, scale=0.5))


def test_gradcheck():
    x = torch.rand(1, 1, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: imresize(t, scale=1.5), (x,))


def test_round_half_away_and_to_uint8():
    x = torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 0.49])
    assert round_half_away(x).tolist() == [1.0, 2.0, 3.0, -1.0, -2.0, 0.0]
    assert to_uint8(torch.tensor([-0.1, 0.5 / 255, 1.5 / 255, 1.2])).tolist() == [0, 1, 2, 255]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"scale": 2, "size": (4, 4)}, "exactly one"),
        ({"scale": 0}, "positive"),
        ({"scale": float("nan")}, "positive"),
        ({"size": (0, 4)}, "positive"),
        ({"scale": 2, "boundary": "reflect"}, "boundary"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        imresize(torch.rand(1, 3, 4, 4), **kwargs)


def test_rejects_integer_and_bad_shapes():
    with pytest.raises(ValueError, match="floating-point"):
        imresize(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), scale=2)
    with pytest.raises(ValueError, match="uint8"):
        imresize_uint8(torch.zeros(1, 3, 4, 4), scale=2)
    with pytest.raises(ValueError, match="shape"):
        imresize(torch.zeros(4, 4), scale=2)
