"""The old-photo protocol the relay judges photo models by: bookkeeping on hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from restore.eval.photo_protocol import photo_scores


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        a = np.kron(rng.random((8, 8, 3)), np.ones((8, 8, 1)))
        Image.fromarray((a * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    return tmp_path


def test_identity_gains_nothing_and_leaves_clean_photos_alone(folder):
    res = photo_scores(lambda x: x, [str(folder)])
    assert res["holdout"]["gain"] == pytest.approx(0.0, abs=1e-9)
    assert res["own"]["gain"] == pytest.approx(0.0, abs=1e-9)
    assert res["clean"]["restored"] == res["clean"]["min"] == 50.0  # capped: unchanged
    assert res["holdout"]["count"] == res["own"]["count"] == 2 and len(res["rows"]) == 6
    assert res["holdout"]["input"] < 30.0  # the damage is real damage


def test_a_restorer_that_returns_grey_is_scored_against_the_target(folder):
    res = photo_scores(lambda x: torch.full_like(x, 0.5), [str(folder)], kinds=("clean",))
    # PSNR of flat 0.5 against each clean image, by hand
    want = []
    for i in range(2):
        t = np.asarray(Image.open(folder / f"{i}.png"), np.float64) / 255
        want.append(10 * np.log10(1 / np.mean((t - 128 / 255) ** 2)))
    assert res["clean"]["restored"] == pytest.approx(np.mean(want), abs=1e-3)
    assert res["clean"]["min"] == pytest.approx(min(want), abs=1e-3)


def test_unknown_kind_is_refused(folder):
    with pytest.raises(ValueError, match="unknown kinds \\['scan'\\]"):
        photo_scores(lambda x: x, [str(folder)], kinds=("scan",))
