"""restore eval: one model, several data sets, one table, baselines side by side, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from restore.cli import main as cli_main
from restore.evaluate import evaluate_model, evaluate_sets, set_label


def _photos(folder, n: int, seed: int):
    """Smooth 48 x 40 colour images: a plain folder, scored by the SR protocol with MATLAB LR."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        low = rng.random((6, 5, 3))
        img = np.kron(low, np.ones((8, 8, 1)))
        Image.fromarray((img * 255).round().astype(np.uint8)).save(folder / f"{i}.png")
    return folder


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("../shared/data/val/Set5/x4", "Set5_x4"),
        ("../shared/data/val/Set14/x4/HR", "Set14_x4"),
        ("../shared/data/generation/mnist_t10k", "generation_mnist_t10k"),
        ("../shared/data/style", "style"),
        ("/home/me/photos/old", "photos_old"),
    ],
)
def test_set_labels(path, label):
    assert set_label(path) == label


def test_several_sets_in_one_call(tmp_path, capsys):
    a, b = _photos(tmp_path / "a" / "set", 2, 0), _photos(tmp_path / "b" / "set", 3, 1)
    report = evaluate_sets("sr-x2", [str(a), str(b)], device="cpu")
    assert report["model"] == "sr-x2" and report["task"] == "super_resolution"
    assert list(report["results"]) == ["a_set", "b_set"]
    one = evaluate_model("sr-x2", str(b), device="cpu")
    assert report["results"]["b_set"]["mean"] == one["mean"]  # one load, same numbers
    for res in report["results"].values():
        assert res["methods"] == ["model", "bicubic"]
        assert res["settings"]["lr"].startswith("MATLAB bicubic")
        assert res["mean"]["model"]["psnr"] > res["mean"]["bicubic"]["psnr"]
        assert 0 < res["mean"]["bicubic"]["grad_ratio"] < 1

    out = tmp_path / "r.json"
    argv = ["eval", "--model", "sr-x2", "--data", str(a), "--data", str(b), "--json", str(out)]
    assert cli_main([*argv, "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == "sr-x2 (super_resolution)"
    assert "psnr model | psnr bicubic" in lines[1]
    assert lines[3].startswith("a_set | 2 ") and lines[4].startswith("b_set | 3 ")
    saved = json.loads(out.read_text())
    assert list(saved["results"]) == ["a_set", "b_set"]
    assert saved["command"] == f"restore eval --model sr-x2 --data {a} --data {b}"
    assert saved["results"]["a_set"]["mean"] == report["results"]["a_set"]["mean"]

    # one set: the JSON is that set's result as it stands (scripts/gpu reads its "mean")
    assert cli_main(["eval", "--model", "sr-x2", "--data", str(a), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["mean"] == report["results"]["a_set"]["mean"]
    assert cli_main(["eval", "--model", "sr-x2", "--data", str(a), "--detail"]) == 0
    assert "a_set:\nsr: 2 images" in capsys.readouterr().out  # the set's full table too


def test_usage_errors(tmp_path, capsys):
    assert cli_main(["eval", "--model", "sr-x2"]) == 2
    assert cli_main(["eval", "--pred", str(tmp_path)]) == 2
    assert (
        cli_main(["eval", "--pred", str(tmp_path), "--target", str(tmp_path), "--data", "x"]) == 2
    )
    assert "go together" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least one"):
        evaluate_sets("sr-x2", [])
