"""restore.eval.generation: coverage, FID / KID at matched sizes, and the real-vs-real floor."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from restore.core.dcgan import RandomConvFeatures
from restore.eval.generation import batched, class_coverage, distances, generation_protocol


def _real(n: int = 40) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    low = torch.rand(n, 3, 4, 4, generator=g)
    return torch.nn.functional.interpolate(low, size=(16, 16), mode="bilinear")


class ByMean(nn.Module):
    """A two-class 'classifier': bright images are class 1, dark ones class 0 (confidently)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x.mean((1, 2, 3))
        return torch.stack([(0.5 - m) * 100, (m - 0.5) * 100], 1)


def test_distances_floor_and_matched_sizes():
    f = torch.randn(40, 8, generator=torch.Generator().manual_seed(1)).double()
    same = distances(f, f.flip(0), seed=0)
    assert same["n_real_half"] == 20 and same["n_fake"] == 40
    far = distances(f, f + 3.0, seed=0)
    assert far["fid"] > 10 * max(same["fid"], far["fid_floor"])
    assert far["fid_floor"] == same["fid_floor"]  # the floor depends on the real set only
    assert far["fid_ratio_to_floor"] == pytest.approx(far["fid"] / far["fid_floor"])
    with pytest.raises(ValueError, match="at least 4"):
        distances(f[:3], f)


def test_protocol_ranks_a_collapsed_generator_below_the_real_data():
    real = _real()
    feats = RandomConvFeatures(3, width=8, seed=0)

    def copy(n: int, seed: int) -> torch.Tensor:  # a perfect generator: the real images again
        return real[torch.randperm(len(real), generator=torch.Generator().manual_seed(seed))][:n]

    def constant(n: int, seed: int) -> torch.Tensor:
        return real[:1].expand(n, -1, -1, -1)

    good = generation_protocol(copy, real, feats, seed=0, feature_space="test")
    bad = generation_protocol(constant, real, feats, seed=0)
    assert good["methods"] == ["model", "real"] and good["count"] == 40
    assert good["mean"]["real"]["fid"] == good["fid_floor"] == bad["fid_floor"]
    assert bad["fid"] > 5 * good["fid"], (good["fid"], bad["fid"])
    assert good["bars"] == {} and "confident_share" not in good
    json.dumps(good)
    with pytest.raises(ValueError, match="samples are"):
        generation_protocol(lambda n, s: torch.zeros(n, 1, 16, 16), real, feats)


def test_protocol_coverage_with_a_classifier():
    real = _real()
    clf = ByMean()
    feats = RandomConvFeatures(3, width=8, seed=0)
    r = generation_protocol(lambda n, s: torch.ones(n, 3, 16, 16), real, feats, classifier=clf)
    # every sample is "class 1" with full confidence: covered classes collapse to one
    assert r["confident_share"] == 1.0 and r["class_entropy_nats"] == 0.0
    assert r["class_entropy_uniform"] == pytest.approx(math.log(2))
    assert r["class_histogram"] == [0.0, 1.0]
    assert r["mean"]["model"]["class_entropy"] == 0.0
    assert r["mean"]["real"]["confident_share"] == r["real_confident_share"]
    assert r["bars"]["class_entropy>=2.2"] is False and r["bars"]["confident_share>=0.80"] is True


def test_class_coverage_and_batched():
    conf, ent, freq = class_coverage(torch.eye(10).repeat(10, 1))
    assert conf == 1.0 and ent == pytest.approx(math.log(10)) and freq.sum() == pytest.approx(1)
    x = torch.arange(7.0)[:, None]
    assert torch.equal(batched(lambda t: t * 2, x, chunk=3), x * 2)
