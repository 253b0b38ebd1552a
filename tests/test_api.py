"""restore.load / Restorer: every input kind round-trips to the same kind, task keywords, seeds,
batching of lists, tiling, and what loading accepts and refuses."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch
import torch.nn.functional as F

import restore
from restore.api import Restorer, resolve_dtype
from restore.errors import CheckpointError, ModelNotFoundError
from restore.models import SHIPPED
from restore.tasks.base import Predictor

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir) -> Path:
    return tiny_model_dir


@pytest.fixture(scope="module")
def model(run_dir) -> Restorer:
    return restore.load(run_dir, device="cpu")


def _toy(fn, scale=1, task="toy", **card) -> Restorer:
    c = {"name": f"toy-{task}", "task": task, "inference": card}
    return Restorer(Predictor(fn=fn, scale=scale, multiple=1, halo=4), c, {}, device=CPU)


def _x2(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


# ------------------------------------------------------------------------------ input kinds


def test_each_input_kind_round_trips(model, tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 28, 3), dtype=np.uint8)
    ref = model(rgb)
    assert isinstance(ref, np.ndarray) and ref.dtype == np.uint8 and ref.shape == rgb.shape
    # path -> PIL
    PIL.Image.fromarray(rgb).save(tmp_path / "a.png")
    out = model(tmp_path / "a.png")
    assert isinstance(out, PIL.Image.Image) and np.array_equal(np.asarray(out), ref)
    assert isinstance(model(str(tmp_path / "a.png")), PIL.Image.Image)
    # PIL -> PIL, mode kept
    for mode in ("RGB", "RGBA", "L", "LA", "P"):
        im = PIL.Image.fromarray(rgb).convert(mode)
        o = model(im)
        assert isinstance(o, PIL.Image.Image) and o.size == im.size
        assert o.mode == {"P": "RGB"}.get(mode, mode)
    assert np.array_equal(np.asarray(model(PIL.Image.fromarray(rgb))), ref)
    # numpy: shape and dtype kept
    for a in (
        rgb,
        rgb[..., 0],
        rgb[..., :1],
        np.dstack([rgb, rgb[..., 0]]),
        rgb.astype(np.uint16) * 257,
        rgb[..., 0].astype(np.uint16) * 257,
        rgb.astype(np.float32) / 255,
        rgb[..., 0].astype(np.float64) / 255,
    ):
        o = model(a)
        assert isinstance(o, np.ndarray) and o.dtype == a.dtype and o.shape == a.shape
    # the bit depths agree with each other
    o16 = model(rgb.astype(np.uint16) * 257)
    assert np.abs(o16 / 257.0 - ref).max() <= 1.0
    of = model(rgb.astype(np.float32) / 255)
    assert np.abs(of * 255 - ref).max() <= 1.0
    # torch: (3, H, W) and (B, 3, H, W), dtype kept
    t = torch.from_numpy(rgb).permute(2, 0, 1).float() / 255
    o = model(t)
    assert isinstance(o, torch.Tensor) and o.shape == t.shape and o.dtype == t.dtype
    assert (o * 255 - torch.from_numpy(ref).permute(2, 0, 1)).abs().max() <= 1.0
    ob = model(torch.stack([t, t.flip(-1)]).double())
    assert ob.shape == (2, 3, 20, 28) and ob.dtype == torch.float64
    assert torch.allclose(ob[0].float(), o, atol=1e-5)


def test_alpha_and_16_bit_survive_a_scale_change():
    m = _toy(_x2, scale=2)
    a = np.zeros((6, 5, 4), np.uint16)
    a[..., 3] = 65535
    a[..., 0] = 1000
    out = m(a)
    assert out.shape == (12, 10, 4) and out.dtype == np.uint16
    assert (out[..., 3] == 65535).all() and (out[..., 0] == 1000).all()


def test_lists_batch_same_sizes_and_keep_kinds(model):
    calls = []

    def fn(x):
        calls.append(tuple(x.shape))
        return model.predictor.fn(x)

    spy = Restorer(
        Predictor(fn=fn, scale=1, multiple=8, halo=32), model.card, model.modules, device=CPU
    )
    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, 256, (16, 24, 3), dtype=np.uint8) for _ in range(2))
    c = rng.integers(0, 256, (24, 16, 3), dtype=np.uint8)
    outs = spy([a, PIL.Image.fromarray(b), c, torch.rand(3, 8, 8)])
    assert isinstance(outs[0], np.ndarray) and isinstance(outs[1], PIL.Image.Image)
    assert isinstance(outs[3], torch.Tensor)
    assert sorted(calls) == sorted([(2, 3, 16, 24), (1, 3, 24, 16), (1, 3, 8, 8)])
    assert np.array_equal(outs[0], model(a)) and np.array_equal(outs[2], model(c))


# --------------------------------------------------------------------------------- keywords


def test_mask_keyword_any_kind():
    def fill(x, mask):
        return x * (1 - mask) + mask

    m = _toy(fill, task="inpainting")
    assert m.needs_mask
    img = np.zeros((8, 10, 3), np.uint8)
    hole = np.zeros((8, 10), bool)
    hole[2:4, 3:6] = True
    for mask in (
        hole,
        hole.astype(np.uint8) * 255,
        PIL.Image.fromarray(hole),
        torch.from_numpy(hole),
    ):
        out = m(img, mask=mask)
        assert (out[hole] == 255).all() and (out[~hole] == 0).all()
    with pytest.raises(ValueError, match="needs mask"):
        m(img)
    with pytest.raises(ValueError, match="does not match"):
        m(img, mask=np.zeros((4, 4), bool))
    # a list: one mask per image, or one for all
    outs = m([img, img], mask=[hole, None if False else hole])
    assert all((o[hole] == 255).all() for o in outs)


def test_card_defaults_follow_the_registered_task_names():
    """Without ``inference.output_rgb`` / a required ``mask``, the card's task decides, under the
    names the tasks are registered by: a colorization model colours a grey photo (the API once
    compared with "colorize", so such a card gave grey results), an inpainting one needs a mask."""
    from restore.tasks import TASKS

    assert {"colorization", "inpainting"} <= set(TASKS)

    def tint(x):  # adds colour: red stays, green halves, blue fades
        return torch.cat([x[:, :1], 0.5 * x[:, 1:2], 0.2 * x[:, 2:]], 1)

    col = _toy(tint, task="colorization")
    assert col.output_rgb and not _toy(tint, task="enhance").output_rgb
    gray = np.full((6, 5), 200, np.uint8)
    for out in (col(gray), col(PIL.Image.fromarray(gray))):
        a = np.asarray(out)
        assert a.shape == (6, 5, 3) and (a[..., 0] > a[..., 2]).all()
    assert not _toy(tint, task="colorization", output_rgb=False).output_rgb  # the card wins

    def fill(x, mask=None):  # mask optional in the signature: the task name makes it required
        return x if mask is None else x * (1 - mask) + mask

    inp = _toy(fill, task="inpainting")
    assert inp.needs_mask and not _toy(fill, task="enhance").needs_mask
    with pytest.raises(ValueError, match="needs mask"):
        inp(np.zeros((8, 8, 3), np.uint8))


def test_run_bands_writes_into_tensors_and_row_sinks():
    m = _toy(_x2, scale=2)
    x = torch.rand(1, 3, 9, 7, generator=torch.Generator().manual_seed(1))
    want = m.run_tensor(x)
    out = torch.empty(1, 3, 18, 14)
    assert m.run_bands(x, out) is out and torch.equal(out, want)

    class Sink:
        shape = (1, 3, 18, 14)
        rows: dict[int, torch.Tensor] = {}

        def write(self, y0, values):
            self.rows[y0] = values.clone()

    sink = Sink()
    assert m.run_bands((x * 255).round().to(torch.uint8), sink) is sink
    got = torch.cat([sink.rows[k] for k in sorted(sink.rows)], 2)
    torch.testing.assert_close(got, m.run_tensor((x * 255).round() / 255))
    with pytest.raises(ValueError, match="needs mask"):
        _toy(lambda x, mask: x, task="inpainting").run_bands(x, out)


def test_unknown_keyword_is_refused(model):
    with pytest.raises(ValueError, match="does not take"):
        model(np.zeros((8, 8, 3), np.uint8), strength=2)


def test_scale_keyword_resizes():
    m = _toy(_x2, scale=2)
    assert m(np.zeros((10, 12, 3), np.uint8), scale=3).shape == (30, 36, 3)
    assert m(np.zeros((10, 12, 3), np.uint8)).shape == (20, 24, 3)


def test_seed_makes_a_stochastic_model_deterministic():
    def noisy(x, generator=None):
        return (x + 0.1 * torch.randn(x.shape, generator=generator)).clamp(0, 1)

    m = _toy(noisy)
    x = np.full((8, 8, 3), 128, np.uint8)
    assert np.array_equal(m(x, seed=3), m(x, seed=3))
    assert not np.array_equal(m(x, seed=3), m(x, seed=4))


def test_tiling_matches_untiled(run_dir):
    x = torch.rand(1, 3, 150, 170, generator=torch.Generator().manual_seed(0))
    full = restore.load(run_dir, device="cpu", tile=0).run_tensor(x)
    tiled = restore.load(run_dir, device="cpu", tile=96).run_tensor(x)
    assert tiled.shape == full.shape
    assert (tiled - full).abs().mean() < 0.01  # random weights: a wide field, small blend error


def test_devices_and_dtypes():
    assert resolve_dtype(CPU, None) == torch.float32
    assert resolve_dtype(CPU, "bf16") == torch.float32  # never bf16 on the CPU
    with pytest.raises(ValueError, match="dtype"):
        resolve_dtype(CPU, torch.float16)
    with pytest.raises(ValueError, match="device"):
        Restorer.from_pretrained("enhance", device="tpu9")


# ---------------------------------------------------------------------------------- loading


def test_load_accepts_run_dir_and_weights_file(run_dir, tmp_path):
    a = restore.load(run_dir, device="cpu")
    b = Restorer.from_pretrained(run_dir / "model.safetensors", device="cpu")
    assert a.task == b.task == "enhance" and a.scale == 1
    x = np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    assert np.array_equal(a(x), b(x))
    # a copied pair elsewhere loads too; its card's SHA-256 is checked
    shutil.copy(run_dir / "model.safetensors", tmp_path / "w.safetensors")
    shutil.copy(run_dir / "model.json", tmp_path / "w.json")
    restore.load(tmp_path / "w.safetensors", device="cpu")
    data = bytearray((tmp_path / "w.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "w.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        restore.load(tmp_path / "w.safetensors")


def test_load_refuses_pickles_and_unknown_names(tmp_path):
    with pytest.raises(ModelNotFoundError) as e:
        restore.load("no-such-model")
    assert "unknown model" in str(e.value)
    for name in restore.list_models():
        assert name in str(e.value)  # the message lists what is available
    pkl = tmp_path / "model.pt"
    pkl.write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    with pytest.raises(CheckpointError, match="pickle"):
        restore.load(pkl)
    disguised = tmp_path / "model.safetensors"
    disguised.write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    with pytest.raises(CheckpointError, match="pickle"):
        restore.load(disguised)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="model.safetensors"):
        restore.load(tmp_path / "empty")
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(disguised, lone / "x.safetensors")
    with pytest.raises(CheckpointError):
        restore.load(lone / "x.safetensors")


def test_list_models_gives_cards():
    models = restore.list_models()
    assert isinstance(models, dict)
    for name, card in models.items():
        assert name in SHIPPED and isinstance(card, dict) and "task" in card


def test_channels_last_layout_gives_the_same_numbers(run_dir):
    fast = restore.load(run_dir, device="cpu", tile=0)
    plain = restore.load(run_dir, device="cpu", tile=0, channels_last=False)
    convs = [m for m in fast.modules["G"].modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(
        c.weight.is_contiguous(memory_format=torch.channels_last)
        for c in convs
        if c.weight.dim() == 4
    )
    assert not plain.channels_last and fast.channels_last  # on unless asked or the card says so
    x = torch.rand(2, 3, 40, 52)
    a, b = fast.run_tensor(x), plain.run_tensor(x)
    assert (a - b).abs().max() < 1e-5
    card_off = Restorer(
        fast.predictor,
        {**fast.card, "runtime": {**fast.card["runtime"], "inference": {"channels_last": False}}},
        fast.modules,
        device=CPU,
    )
    assert not card_off.channels_last
