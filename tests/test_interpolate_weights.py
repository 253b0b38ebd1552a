"""scripts/interpolate_weights.py: a fine-tuned run blended with the weights it started from."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from restore.core.checkpoint import load_tensors, save_tensors, sha256_file
from restore.errors import CheckpointError
from restore.models import WEIGHTS_DIR, resolve

REPO = Path(__file__).resolve().parents[1]


def _script():
    path = REPO / "scripts" / "interpolate_weights.py"
    spec = importlib.util.spec_from_file_location("interpolate_weights", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


iw = _script()


def test_blend_is_the_straight_line_between_the_two() -> None:
    start = {"w": torch.tensor([0.0, 2.0]), "n": torch.tensor([1, 1])}
    end = {"w": torch.tensor([4.0, 6.0]), "n": torch.tensor([7, 9])}
    out = iw.blend(start, end, 0.25)
    assert torch.equal(
        out["w"], torch.tensor([1.0, 3.0])
    )  # 0.75 * 0 + 0.25 * 4, 0.75 * 2 + 0.25 * 6
    assert torch.equal(out["n"], end["n"])  # not floating point: END's
    assert torch.equal(iw.blend(start, end, 0.0)["w"], start["w"])
    assert torch.equal(iw.blend(start, end, 1.0)["w"], end["w"])
    half = iw.blend({"w": start["w"].half()}, {"w": end["w"].half()}, 0.5)["w"]
    assert half.dtype == torch.float16 and torch.equal(half, torch.tensor([2.0, 4.0]).half())


def test_blend_refuses_different_networks() -> None:
    with pytest.raises(CheckpointError, match="only in END"):
        iw.blend({"a": torch.zeros(2)}, {"a": torch.zeros(2), "b": torch.zeros(1)}, 0.5)
    with pytest.raises(CheckpointError, match=r"\(2,\) in START"):
        iw.blend({"a": torch.zeros(2)}, {"a": torch.zeros(3)}, 0.5)


def _pair(tmp_path: Path, *, from_start: bool = True) -> tuple[Path, Path]:
    """START: the shipped damage detector, copied; END: the same + 1 everywhere, its card's last
    leg starting from START (or from something else)."""
    start = tmp_path / "start.safetensors"
    shutil.copy(WEIGHTS_DIR / "damage.safetensors", start)
    shutil.copy(WEIGHTS_DIR / "damage.json", start.with_suffix(".json"))
    tensors, meta = load_tensors(start)
    end = tmp_path / "end.safetensors"
    save_tensors(end, {k: t + 1 if t.is_floating_point() else t for k, t in tensors.items()}, meta)
    card = json.loads(start.with_suffix(".json").read_text())
    sha = sha256_file(start)[:12] if from_start else "0" * 12
    card["training"]["legs"][-1]["from"] = f"damage (sha256 {sha})"
    card["runtime"]["sha256"] = sha256_file(end)
    end.with_suffix(".json").write_text(json.dumps(card))
    return start, end


def test_cli_writes_a_loadable_run_folder(tmp_path: Path) -> None:
    start, end = _pair(tmp_path)
    before = {p: sha256_file(p) for p in (start, end)}
    out = tmp_path / "blend"
    assert iw.main([str(start), str(end), "--alpha", "0.5", "--out", str(out)]) == 0
    st, card, _ = resolve(out)  # checks the card's sha256 against the file
    s_t, _ = load_tensors(start)
    o_t, _ = load_tensors(st)
    for k, t in s_t.items():
        if t.is_floating_point():
            torch.testing.assert_close(o_t[k].float(), t.float() + 0.5, rtol=0, atol=1e-3)
    assert card["metrics"] == {}
    blend = card["training"]["legs"][-1]["blend"]
    assert blend["alpha"] == 0.5 and sha256_file(start)[:12] in blend["start"]
    assert {p: sha256_file(p) for p in (start, end)} == before  # inputs only read


def test_cli_refuses_bad_requests_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start, end = _pair(tmp_path, from_start=False)
    out = tmp_path / "blend"
    assert iw.main([str(start), str(end), "--alpha", "0.5", "--out", str(out)]) == 2
    assert "did not start from" in capsys.readouterr().err and not out.exists()
    assert iw.main([str(start), str(end), "--alpha", "1.5", "--out", str(out)]) == 2
    assert "[0, 1]" in capsys.readouterr().err and not out.exists()
    assert iw.main([str(start), str(start), "--alpha", "0.5", "--out", str(out)]) == 2
    assert "same weights" in capsys.readouterr().err and not out.exists()
    out.mkdir()
    assert iw.main([str(start), str(end), "--alpha", "0.5", "--out", str(out), "--any-start"]) == 2
    assert "exists" in capsys.readouterr().err and not any(out.iterdir())
    shutil.rmtree(out)
    assert iw.main([str(start), str(end), "--alpha", "0.5", "--out", str(out), "--any-start"]) == 0
