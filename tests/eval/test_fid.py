"""FID / KID with a small offline feature extractor; missing-weights messages; LPIPS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from torch import nn

from restore.errors import CheckpointError, ModelNotFoundError
from restore.eval import fid as fidmod
from restore.eval.fid import (
    INCEPTION_WEIGHTS_FILE,
    INCEPTION_WEIGHTS_URL,
    fid,
    fid_from_features,
    inception_feature_extractor,
    inception_weights_path,
    kid,
    kid_from_features,
    lpips,
    lpips_network,
    make_fid,
)

# torchmetrics' eigenvalue formula vs scipy.linalg.sqrtm, both float64.
FID_REL_TOL = 1e-6


class TinyFeatures(nn.Module):
    """A fixed random conv net: (B, 3, H, W) in [0, 1] -> (B, 8)."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _scipy_fid(f1: np.ndarray, f2: np.ndarray) -> float:
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    monkeypatch.delenv("RESTORE_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.delenv("RESTORE_LPIPS_WEIGHTS", raising=False)
    yield tmp_path / "hub"
    torch.hub.set_dir(old)


def test_fid_formula_matches_scipy():
    gen = torch.Generator().manual_seed(0)
    f1 = torch.randn(300, 16, generator=gen, dtype=torch.float64)
    f2 = (
        1.3
        * torch.randn(250, 16, generator=gen, dtype=torch.float64)
        @ torch.randn(16, 16, generator=gen, dtype=torch.float64)
        * 0.3
        + 0.5
    )
    ours = fid_from_features(f1, f2).item()
    assert ours == pytest.approx(_scipy_fid(f1.numpy(), f2.numpy()), rel=FID_REL_TOL)
    assert abs(fid_from_features(f1, f1).item()) < 1e-8


def test_kid_from_features_is_seeded_and_sane():
    gen = torch.Generator().manual_seed(0)
    f1 = torch.randn(200, 8, generator=gen)
    f2 = torch.randn(200, 8, generator=gen) + 1.0
    mean, std = kid_from_features(f1, f2, subsets=20, subset_size=100)
    again = kid_from_features(f1, f2, subsets=20, subset_size=100)
    assert (mean.item(), std.item()) == (again[0].item(), again[1].item())
    same, _ = kid_from_features(f1, f1.clone(), subsets=20, subset_size=100)
    assert mean.item() > 1.0 and abs(same.item()) < 0.05 * mean.item()


def test_end_to_end_with_tiny_feature_extractor():
    net = TinyFeatures()
    gen = torch.Generator().manual_seed(1)
    real = torch.rand(24, 3, 16, 16, generator=gen)
    fake = (real * 0.5 + 0.4).clamp(0, 1)
    assert abs(fid(real, real, feature=net)) < 1e-6
    far = fid(real, fake, feature=net)
    assert far > 0
    # Batches stream into the same statistics.
    assert fid(real.split(8), fake.split(5), feature=net) == pytest.approx(far, rel=1e-6)
    metric = make_fid(feature=net)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    assert float(metric.compute()) == pytest.approx(far, rel=1e-6)
    kid_far, _ = kid(real, fake, feature=net, subsets=10, subset_size=12)
    kid_same, _ = kid(real, real, feature=net, subsets=10, subset_size=12)
    assert kid_far > kid_same


def test_constants_match_torch_fidelity():
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    assert INCEPTION_WEIGHTS_URL == URL_INCEPTION_V3
    assert INCEPTION_WEIGHTS_FILE == URL_INCEPTION_V3.rsplit("/", 1)[-1]


def test_missing_inception_weights_say_what_to_get(empty_hub):
    with pytest.raises(ModelNotFoundError) as info:
        inception_feature_extractor()
    message = str(info.value)
    assert INCEPTION_WEIGHTS_FILE in message
    assert INCEPTION_WEIGHTS_URL in message
    assert str(empty_hub / "checkpoints" / INCEPTION_WEIGHTS_FILE) in message
    with pytest.raises(ModelNotFoundError, match="Inception"):
        fid(torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8))


def test_inception_weights_search_order(empty_hub, tmp_path, monkeypatch):
    with pytest.raises(ModelNotFoundError, match="nowhere.pth"):
        inception_weights_path(tmp_path / "nowhere.pth")
    monkeypatch.setenv("RESTORE_INCEPTION_WEIGHTS", str(tmp_path / "env.pth"))
    with pytest.raises(ModelNotFoundError, match="RESTORE_INCEPTION_WEIGHTS"):
        inception_weights_path()
    monkeypatch.delenv("RESTORE_INCEPTION_WEIGHTS")
    cached = empty_hub / "checkpoints" / INCEPTION_WEIGHTS_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"")
    assert inception_weights_path() == cached


def test_lpips_missing_backbone_is_a_clear_error(empty_hub):
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ModelNotFoundError, match="alexnet-owt-7be5be79.pth") as info:
        lpips(x, x)
    assert "download.pytorch.org" in str(info.value)
    assert str(empty_hub / "checkpoints") in str(info.value)


def test_lpips_refuses_pickle_path(empty_hub, tmp_path):
    path = tmp_path / "alexnet.pth"
    path.write_bytes(b"not read")
    with pytest.raises(CheckpointError, match="safetensors"):
        lpips_network("alex", path)
    with pytest.raises(ValueError, match="net must be"):
        lpips_network("resnet", path)  # type: ignore[arg-type]


def test_lpips_from_local_safetensors(empty_hub, tmp_path):
    from safetensors.torch import save_file
    from torchvision.models import alexnet

    torch.manual_seed(0)
    state = {
        f"features.{k}": v.contiguous()
        for k, v in alexnet(weights=None).features.state_dict().items()
    }
    path = tmp_path / "alexnet.safetensors"
    save_file(state, str(path))
    network = lpips_network("alex", path)
    gen = torch.Generator().manual_seed(2)
    a, b = torch.rand(2, 3, 32, 32, generator=gen), torch.rand(2, 3, 32, 32, generator=gen)
    out = lpips(a, b, network=network)
    assert out.shape == (2,) and torch.isfinite(out).all() and (out > 0).all()
    assert lpips(a, a, network=network).abs().max() < 1e-6
    torch.testing.assert_close(network.net.slice1[0].weight, state["features.0.weight"])
    bad = tmp_path / "bad.safetensors"
    save_file({"features.0.weight": torch.zeros(1)}, str(bad))
    with pytest.raises(CheckpointError):
        lpips_network("alex", bad)


def test_eval_package_never_calls_torch_load():
    root = Path(fidmod.__file__).resolve().parents[1]
    for path in [
        *root.joinpath("eval").glob("*.py"),
        root / "data" / "resize.py",
        root / "data" / "color.py",
    ]:
        assert "torch.load(" not in path.read_text(), path
