"""docs/API.md stays true: its python and bash blocks run, in order, against tiny stand-in models
installed under the shipped names (random weights, the real tasks' architectures, shrunk)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

import restore.models
from restore.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "API.md"
SMALL_UNET = [
    "model.generator_args.base_channels=8",
    "model.generator_args.depth=3",
    "model.generator_args.max_channels=16",
]
#: shipped name -> (recipe, overrides that make it tiny)
STAND_INS = {
    "enhance": ("tiny.yaml", []),
    "sr-x4": ("sr_x4.yaml", ["model.generator_args.channels=8", "model.generator_args.n_blocks=1"]),
    "inpaint": ("inpaint.yaml", SMALL_UNET),
    "colorize": ("colorize.yaml", SMALL_UNET),
    "face": ("face.yaml", SMALL_UNET),
}


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory) -> Path:
    from restore.config import load_config
    from restore.tasks import create_task
    from restore.train_checkpoint import export_weights

    out = tmp_path_factory.mktemp("weights")
    for name, (recipe, overrides) in STAND_INS.items():
        cfg = load_config(REPO / "configs" / recipe, overrides)
        task = create_task(cfg)
        torch.manual_seed(0)
        export_weights(out / name, task, cfg, {"G": task.build_networks()["G"]}, 0, {})
    return out


@pytest.fixture
def doc_folder(tmp_path, weights_dir, monkeypatch) -> Path:
    monkeypatch.setattr(restore.models, "WEIGHTS_DIR", weights_dir)
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    PIL.Image.fromarray(rgb).save("photo.jpg")
    PIL.Image.fromarray(rgb[..., 1]).save("gray.jpg")
    hole = np.zeros((40, 48), np.uint8)
    hole[8:16, 8:20] = 255
    PIL.Image.fromarray(hole).save("mask.png")
    (tmp_path / "scans" / "sub").mkdir(parents=True)
    PIL.Image.fromarray(rgb[:24, :32]).save("scans/a.png")
    PIL.Image.fromarray(rgb[:20, :16]).save("scans/sub/b.jpg")
    return tmp_path


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(python|bash)\n(.*?)```", text, flags=re.S)


def test_api_md_blocks_run(doc_folder, capsys):
    found = blocks(DOC.read_text(encoding="utf-8"))
    assert sum(k == "python" for k, _ in found) >= 5 and any(k == "bash" for k, _ in found)
    namespace: dict = {"__name__": "__docs__"}
    for i, (kind, code) in enumerate(found):
        if kind == "python":
            exec(compile(code, f"{DOC.name}[block {i}]", "exec"), namespace)
            continue
        for line in code.splitlines():
            if line.strip() and not line.startswith("#"):
                argv = shlex.split(line)
                assert argv[0] == "restore", line
                assert main(argv[1:]) == 0, line
    said = capsys.readouterr().out
    assert "unknown model 'sr-x3'" in said
    assert (doc_folder / "restored" / "sub" / "b.jpg").is_file()
    assert namespace["again"].model_loaded is False and namespace["again"].skipped == 2
    assert namespace["big"].size == (48 * 4, 40 * 4) and namespace["photo"].scale == 4


def test_api_md_flags_are_real_and_the_main_ones_documented():
    text = DOC.read_text(encoding="utf-8")
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    real = {o for a in sub.choices["enhance"]._actions for o in a.option_strings}
    for flag in re.findall(r"`(--[a-z-]+)", text):
        assert flag in real, flag
    main_flags = ("--task", "--model", "--masks", "--format", "--suffix", "--overwrite")
    main_flags += ("--dry-run", "--allow-in-place", "--device", "--batch-size")
    for flag in main_flags:
        assert flag in text, flag
