"""The held-out face protocol (restore/eval/face_protocol.py): the degradation is seeded, its own,
in range and in the face's tone; scores are per-image PSNR / SSIM against skimage; the relay's
face scorer reads the gain over bicubic from them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from restore.eval.face_protocol import degrade_holdout, face_scores, jpeg_u8, tint


def smooth_face(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:128]
    base = 90 + 120 * np.exp(-((xx - 64) ** 2 + (yy - 60) ** 2) / 1500.0)
    a = np.stack([base, base * 0.85, base * 0.7], -1) + rng.normal(0, 2, (128, 128, 3))
    return a.clip(0, 255).astype(np.uint8)


def test_degradation_is_seeded_small_and_in_the_faces_tone():
    hr = smooth_face()
    for i, kind in enumerate(("colour", "grey", "sepia")):
        target, lr, k = degrade_holdout(hr, i)
        assert k == kind and target.shape == (128, 128, 3) and lr.shape == (32, 32, 3)
        again = degrade_holdout(hr, i)
        assert np.array_equal(again[1], lr)  # seeded by the face's index alone
        if kind == "grey":
            assert (target[..., 0] == target[..., 2]).all() and (lr[..., 0] == lr[..., 2]).all()
        if kind == "sepia":  # warm: R >= G >= B
            assert (target[..., 0].astype(int) >= target[..., 2]).all()
    assert not np.array_equal(degrade_holdout(hr, 3)[1], degrade_holdout(hr, 0)[1])


def test_tint_and_jpeg():
    rgb = smooth_face()
    grey = tint(rgb, "grey")
    y = rgb.astype(np.float64) @ [0.299, 0.587, 0.114]
    assert np.abs(grey[..., 0] - y).max() <= 0.5 + 1e-6
    assert tint(rgb, "colour") is rgb
    out = jpeg_u8(grey, 50)
    assert out.shape == grey.shape and (out[..., 0] == out[..., 1]).all()  # grey stays grey
    assert 0 < np.abs(out.astype(int) - grey).mean() < 5


def test_scores_are_per_image_psnr_and_the_gain_over_bicubic():
    faces = [(f"{i}.png", smooth_face(i)) for i in range(4)]
    # a method that returns the target itself cannot be beaten: its PSNR is 100 (torchmetrics'
    # cap for a perfect match) and the gain over bicubic is what bicubic missed
    targets = [torch.from_numpy(degrade_holdout(smooth_face(i), i)[0]) for i in range(4)]
    truth = torch.stack(targets).permute(0, 3, 1, 2).float() / 255
    calls = []

    def oracle(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape)
        return truth[: len(x)] if len(calls) == 1 else truth[2:]

    res = face_scores({"oracle": oracle}, faces, chunk=2)
    assert calls == [(2, 3, 32, 32), (2, 3, 32, 32)]
    rows = res["rows"]
    assert [r["kind"] for r in rows] == ["colour", "grey", "sepia", "colour"]
    from restore.data.resize import imresize
    from restore.eval.face_protocol import to_t

    for i, r in enumerate(rows):
        target, lr, _ = degrade_holdout(smooth_face(i), i)
        bic = (imresize(to_t(lr), scale=4).clamp(0, 1)[0].permute(1, 2, 0).numpy() * 255).round()
        want = peak_signal_noise_ratio(target.astype(np.float64), bic, data_range=255)
        assert r["bicubic_psnr"] == pytest.approx(want, abs=1e-3)
        assert r["oracle_psnr"] > 60
    s = res["summary"]
    assert s["all"]["n"] == 4 and s["colour"]["n"] == 2
    gain = s["all"]["oracle_psnr"] - s["all"]["bicubic_psnr"]
    assert s["oracle_gain_over_bicubic_db"] == pytest.approx(gain, abs=1e-3)
