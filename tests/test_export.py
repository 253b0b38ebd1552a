"""ONNX export and ONNX Runtime inference (restore.export): the exported network reproduces torch,
the API around it (padding, tiling) is the normal one, and failures are clear and leave no file."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import restore
from restore.cli import main
from restore.errors import RestoreError
from restore.export import (
    ExportError,
    OnnxUnavailableError,
    export_onnx,
    load_onnx,
)

#: torch vs ONNX Runtime on float outputs in [0, 1] (measured: ~1e-7; float32 reassociation)
ATOL = 1e-4


@pytest.fixture(scope="module")
def exported(tiny_model_dir, tmp_path_factory):
    """The tiny enhance model (a U-Net, sides multiples of 8) exported once for the module."""
    dst = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    return export_onnx(tiny_model_dir, dst)


def test_export_verifies_and_carries_the_card(exported, tiny_model_dir):
    import onnx

    assert exported.path.is_file() and exported.size_bytes == exported.path.stat().st_size
    assert exported.task == "enhance" and exported.module == "G" and exported.opset == 18
    assert exported.max_abs_diff < ATOL
    assert exported.verify_shape[0] == 2  # checked on another batch and size than traced
    proto = onnx.load(str(exported.path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert '"task": "enhance"' in meta["restore.card"] and "residual" in meta["restore.io"]
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert isinstance(dims[0], str) and dims[1] == 3 and all(isinstance(d, str) for d in dims[2:])


@pytest.mark.parametrize("tile", [0, 128])
def test_ort_backend_matches_torch_through_the_api(exported, tiny_model_dir, tile):
    # 101 x 141: not a multiple of the network's 8 (the API pads); tile 128 cuts it into 6 tiles
    torch_model = restore.load(tiny_model_dir, device="cpu", tile=tile)
    ort_model = load_onnx(exported.path, threads=2, tile=tile)
    assert ort_model.task == "enhance" and ort_model.predictor.multiple == 8
    x = torch.rand(1, 3, 101, 141, generator=torch.Generator().manual_seed(0))
    want, got = torch_model.run_tensor(x), ort_model.run_tensor(x)
    assert got.shape == want.shape == x.shape
    torch.testing.assert_close(got, want, atol=ATOL, rtol=0)
    img = (x[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    diff = np.abs(torch_model(img).astype(int) - ort_model(img).astype(int))
    assert diff.max() <= 1  # a rounding boundary at most


def test_cli_export(tiny_model_dir, tmp_path, capsys):
    dst = tmp_path / "cli.onnx"
    assert main(["export", str(tiny_model_dir), "--onnx", "-o", str(dst)]) == 0
    assert dst.is_file() and "max abs diff" in capsys.readouterr().out
    # an existing file is kept unless --overwrite; no format is a usage error
    assert main(["export", str(tiny_model_dir), "--onnx", "-o", str(dst)]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["export", str(tiny_model_dir)]) == 2
    assert main(["export", "gen-mnist", "--onnx", "-o", str(tmp_path / "g.onnx")]) == 1
    assert "cannot be exported" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.onnx"]


def test_unsupported_models_and_destinations_are_refused(tiny_model_dir, tmp_path):
    with pytest.raises(ExportError, match="samples latent noise"):
        export_onnx("gen-mnist", tmp_path / "g.onnx")
    with pytest.raises(ExportError, match=r"\.onnx file"):
        export_onnx(tiny_model_dir, tiny_model_dir / "model.safetensors")  # never an input
    with pytest.raises(ExportError, match="does not exist"):
        export_onnx(tiny_model_dir, tmp_path / "no" / "such" / "m.onnx")
    with pytest.raises(ValueError, match="tolerance"):
        export_onnx(tiny_model_dir, tmp_path / "m.onnx", tolerance=-1)
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_file_and_keeps_the_old_one(tiny_model_dir, tmp_path, monkeypatch):
    import restore.export as ex

    dst = tmp_path / "m.onnx"
    # verification fails after a full trace: nothing written
    monkeypatch.setattr(ex, "_max_abs_diff", lambda *a: 0.5)
    with pytest.raises(ExportError, match="differs from torch"):
        export_onnx(tiny_model_dir, dst)
    assert list(tmp_path.iterdir()) == []
    # the exporter itself fails: an existing destination is left as it was, no temporary file
    dst.write_bytes(b"old")

    def broken(*a, **k):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(ExportError, match="unsupported operator"):
        export_onnx(tiny_model_dir, dst, overwrite=True)
    assert dst.read_bytes() == b"old" and list(tmp_path.iterdir()) == [dst]


def test_missing_packages_name_the_extra(exported, tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(OnnxUnavailableError, match=r'pip install "restore\[onnx\]"'):
        load_onnx(exported.path)
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(OnnxUnavailableError, match="onnxscript") as err:
        export_onnx(tiny_model_dir, tmp_path / "m.onnx")
    assert isinstance(err.value, (RestoreError, ImportError))
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_onnx_file_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 8, 8]) for n in "xy"]
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", io[:1], io[1:])
    onnx.save(helper.make_model(graph), str(tmp_path / "other.onnx"))
    with pytest.raises(ExportError, match="not written by restore export"):
        load_onnx(tmp_path / "other.onnx")
    with pytest.raises(FileNotFoundError):
        load_onnx(tmp_path / "missing.onnx")


def test_importing_restore_imports_no_onnx_package():
    code = (
        "import sys, restore, restore.export; restore.load_onnx; "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'onnxscript') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_exportable_tasks_are_registered_tasks():
    from restore.export import NETWORK_IO
    from restore.tasks import TASKS

    assert set(NETWORK_IO) <= set(TASKS) and "generation" not in NETWORK_IO
