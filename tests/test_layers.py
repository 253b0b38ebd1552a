"""Imports point down only (docs/ARCHITECTURE.md): walk every module's imports, lazy ones included."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "restore"

# lower number = lower layer; a module may import its own layer or any lower one
LAYERS = {
    "restore.errors": 0,
    "restore.config": 0,
    "restore.runtime": 0,
    "restore.core": 1,
    "restore.data": 2,
    "restore.eval": 3,
    "restore.tasks": 4,
    "restore.train": 5,
    "restore.continuation": 5,
    "restore.models": 6,
    "restore.api": 6,
    "restore.batch": 6,
    "restore.photo": 6,
    "restore.pipelines": 6,
    "restore.evaluate": 6,
    "restore.generate": 6,
    "restore.streaming": 6,
    "restore.export": 6,
    "restore.cli": 7,
    "restore.__main__": 7,
    "restore": 7,  # the package's __init__ re-exports the API lazily
}


def layer_of(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return LAYERS[key]
    raise AssertionError(
        f"{module} has no layer in tests/test_layers.py::LAYERS (add it and to ARCHITECTURE.md)"
    )


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return {m for m in out if m == "restore" or m.startswith("restore.")}


def test_imports_point_down_only():
    upward = []
    files = sorted(PKG.rglob("*.py"))
    assert len(files) > 10
    for path in files:
        me = module_name(path)
        mine = layer_of(me)
        for imp in imports_of(path):
            if layer_of(imp) > mine:
                upward.append(f"{me} (layer {mine}) imports {imp} (layer {layer_of(imp)})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_checker_catches_an_upward_import(tmp_path):
    bad = PKG / "core" / "_tmp_upward_probe.py"
    bad.write_text("from restore.train import train\n")
    try:
        me = module_name(bad)
        assert any(layer_of(i) > layer_of(me) for i in imports_of(bad))
    finally:
        bad.unlink()


def test_help_is_fast_and_imports_no_torch():
    code = "import sys, restore.cli; restore.cli.build_parser(); print('torch' in sys.modules)"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "restore --help must not import torch"
    assert time.perf_counter() - t0 < 5.0  # generous: a cold interpreter on a busy 2-core VM
    res = subprocess.run(
        [sys.executable, "-m", "restore", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0 and "train" in res.stdout
