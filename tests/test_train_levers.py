"""Speed levers of the loop (channels_last, Adam implementations, compile, bf16): same training.

Each lever must train the same thing as the plainest loop: eager, fp32, contiguous, torch's
for-loop Adam (``optim.adam_impl: for_loop``; not the default ``auto``, which is fused on the CPU
and so would compare the fused lever with itself): the logged losses and the final weights agree
within float tolerance (bf16 within its own, looser one).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from restore.config import load_config
from restore.core.checkpoint import load_tensors
from restore.errors import ConfigError
from restore.runtime import use_bf16
from restore.train import _make_adam, train

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "tiny.yaml"
LOSSES = ("g_pixel", "g_loss", "d_loss")


@pytest.fixture(scope="module")
def image_dir(blocky_images) -> Path:
    return blocky_images(4, 6, 8)


def _run(image_dir: Path, out: Path, *extra: str) -> tuple[dict[str, list[float]], dict]:
    cfg = load_config(
        TINY,
        [
            f"data.train={image_dir}",
            "data.val=",
            f"train.out_dir={out}",
            "train.progress=false",
            "train.steps=4",
            "train.log_every=1",
            "train.gan_start=1",
            "train.sample_every=1000",
            "train.val_every=1000",
            "train.ckpt_every=1000",
            *extra,
        ],
    )
    res = train(cfg, device="cpu")
    with (res.out_dir / "log.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("g_loss")]
    losses = {k: [float(r[k]) for r in rows if r.get(k)] for k in LOSSES}
    tensors, _ = load_tensors(res.weights)
    return losses, tensors


@pytest.fixture(scope="module")
def eager(image_dir, tmp_path_factory):
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # as the tests below (one_thread): tiny convolutions, shared cores
    try:
        return _run(image_dir, tmp_path_factory.mktemp("eager"), "optim.adam_impl=for_loop")
    finally:
        torch.set_num_threads(n)


def _assert_same_training(a, b, rtol: float, atol: float) -> None:
    (la, wa), (lb, wb) = a, b
    for k in LOSSES:
        assert len(la[k]) == len(lb[k]) > 0, k
        np.testing.assert_allclose(lb[k], la[k], rtol=rtol, atol=atol, err_msg=k)
    assert wa.keys() == wb.keys()
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=rtol, atol=atol, msg=k)


@pytest.mark.parametrize(
    "extra",
    [
        ("train.channels_last=true", "optim.adam_impl=for_loop"),
        ("optim.adam_impl=fused",),
        ("optim.adam_impl=foreach",),
        ("train.channels_last=true", "optim.adam_impl=fused"),
    ],
    ids=["channels_last", "fused", "foreach", "channels_last+fused"],
)
def test_lever_trains_the_same_as_eager(image_dir, tmp_path, eager, one_thread, extra):
    _assert_same_training(eager, _run(image_dir, tmp_path, *extra), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("impl", "device", "want"),
    [
        ("auto", "cpu", {"fused": True}),
        ("auto", "cuda", {"fused": True}),
        ("auto", "mps", {"fused": None, "foreach": None}),
        ("fused", "cpu", {"fused": True}),
        ("foreach", "cpu", {"fused": None, "foreach": True}),
        ("for_loop", "cpu", {"fused": None, "foreach": False}),
    ],
)
def test_adam_impl_picks_the_implementation(impl, device, want):
    """The levers above differ only if adam_impl reaches torch.optim.Adam as asked."""
    cfg = load_config(TINY, [f"optim.adam_impl={impl}"])
    p = torch.nn.Parameter(torch.zeros(2))
    opt = _make_adam([p], 1e-3, cfg, torch.device(device))
    for k, v in want.items():
        assert opt.defaults[k] is v, (k, opt.defaults[k])


@pytest.mark.slow  # inductor compiles G and D forward + backward: about a minute on 2 cores
def test_compile_on_cpu_trains_the_same_as_eager(image_dir, tmp_path, eager, one_thread):
    pytest.importorskip("torch._inductor")
    _assert_same_training(
        eager, _run(image_dir, tmp_path, "train.compile=true"), rtol=1e-3, atol=1e-4
    )


def test_bf16_on_the_cpu_only_when_asked_and_close_to_fp32(image_dir, tmp_path, eager, one_thread):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not use_bf16(cpu, "auto") and not use_bf16(cpu, "fp32") and use_bf16(cpu, "bf16")
    assert use_bf16(cuda, "auto") and use_bf16(cuda, "bf16") and not use_bf16(cuda, "fp32")
    losses, _ = _run(image_dir, tmp_path, "train.precision=bf16")
    for k in LOSSES:  # bf16 keeps 8 bits of mantissa: close, not equal
        np.testing.assert_allclose(losses[k], eager[0][k], rtol=5e-2, atol=5e-3, err_msg=k)


def test_compile_mode_needs_compile_and_bad_choices_are_refused(image_dir, tmp_path):
    with pytest.raises(ConfigError, match="compile_mode"):
        load_config(TINY, ["train.compile_mode=reduce-overhead"])
    load_config(TINY, ["train.compile=true", "train.compile_mode=reduce-overhead"])
    with pytest.raises(ConfigError, match="adam_impl"):
        load_config(TINY, ["optim.adam_impl=apex"])
