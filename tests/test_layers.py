"""The import rules of docs/ARCHITECTURE.md, checked by parsing every module (nothing is imported):

1. imports point down only (the layer table below);
2. no import cycles among restore's modules;
3. no module reaches for another module's ``_private`` name: neither ``from X import _name`` nor
   ``X._name`` through an imported module ``X`` (``scripts/`` included).

Every import counts, wherever it stands: module level, inside a function (a lazy import) or under
``if TYPE_CHECKING:``. A lazy import still ties the two modules together (one cannot be understood,
tested or moved without the other), and hiding a cycle behind one is how ``api`` and ``streaming``
came to import each other; a lazy import that keeps start-up light is fine, as long as it points down.

The checkers take the folder that holds ``restore/``, so the tests that prove they catch a bad
import run on a copy in a temporary folder, never in the package tree.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from collections.abc import Collection, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# lower number = lower layer; a module may import its own layer or any lower one
LAYERS = {
    "restore.errors": 0,
    "restore.config": 0,
    "restore.runtime": 0,
    "restore.core": 1,
    "restore.data": 2,
    "restore.eval": 3,
    "restore.faces": 3,  # face detection, alignment, paste-back (below tasks: the face task uses it)
    "restore.tasks": 4,
    "restore.train": 5,
    "restore.train_checkpoint": 5,
    "restore.train_data": 5,
    "restore.train_log": 5,
    "restore.train_clock": 5,
    "restore.continuation": 5,
    "restore.relay": 6,
    "restore.relay_scoring": 6,
    "restore.models": 6,
    "restore.api": 6,
    "restore.api_images": 6,
    "restore.batch": 6,
    "restore.batch_plan": 6,
    "restore.batch_report": 6,
    "restore.batch_run": 6,
    "restore.photo": 6,
    "restore.pipelines": 6,
    "restore.evaluate": 6,
    "restore.generate": 6,
    "restore.streaming": 6,
    "restore.export": 6,
    "restore.cli": 7,
    "restore.cli_commands": 7,
    "restore.web": 7,  # restore serve (the [web] extra): calls the API like the CLI
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


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the ``restore`` package under ``root``, by dotted name."""
    return {module_name(p, root): p for p in sorted((root / "restore").rglob("*.py"))}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _from_module(node: ast.ImportFrom, me: str | None, is_package: bool) -> str | None:
    """The absolute module a ``from ... import`` reads from (relative imports resolved)."""
    if node.level == 0:
        return node.module
    if me is None:
        return None
    parts = me.split(".") if is_package else me.split(".")[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _ours(module: str | None) -> bool:
    return module is not None and (module == "restore" or module.startswith("restore."))


def imports_of(path: Path, me: str | None, known: Collection[str]) -> set[str]:
    """The restore modules ``path`` imports, anywhere in the file.

    ``from a import b`` imports ``a.b`` when that is a module (in ``known``), else ``a``.
    """
    out: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if _ours(a.name)}
        elif isinstance(node, ast.ImportFrom):
            src = _from_module(node, me, is_package)
            if _ours(src):
                for a in node.names:
                    out.add(f"{src}.{a.name}" if f"{src}.{a.name}" in known else str(src))
    return out


def private_uses(path: Path, me: str | None, known: Collection[str]) -> list[tuple[int, str]]:
    """``from X import _name`` and ``X._name`` (``X`` an imported restore module other than ``me``),
    as (line, what) pairs."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    bound: dict[str, str] = {}  # local name -> the restore module (or package prefix) it names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if not _ours(a.name):
                    continue
                if any(_private(p) for p in a.name.split(".")):
                    found.append((node.lineno, f"import {a.name}"))
                if a.asname:
                    bound[a.asname] = a.name
                else:
                    bound[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            src = _from_module(node, me, is_package)
            if not _ours(src) or src == me:
                continue
            for a in node.names:
                if _private(a.name):
                    found.append((node.lineno, f"from {src} import {a.name}"))
                if f"{src}.{a.name}" in known:
                    bound[a.asname or a.name] = f"{src}.{a.name}"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in bound:
            owner = ".".join([bound[value.id], *reversed(chain)])
            if owner in known and owner != me:
                found.append((node.lineno, f"{owner}.{node.attr}"))
    return sorted(found)


def upward_imports(root: Path = ROOT) -> list[str]:
    modules = package_modules(root)
    bad = []
    for me, path in modules.items():
        for imp in sorted(imports_of(path, me, modules)):
            if layer_of(imp) > layer_of(me):
                bad.append(f"{me} (layer {layer_of(me)}) imports {imp} (layer {layer_of(imp)})")
    return bad


def import_cycles(root: Path = ROOT) -> list[str]:
    """Each set of modules that import one another (a strongly connected component), as edges."""
    modules = package_modules(root)
    graph = {
        m: sorted(imports_of(p, m, modules) & modules.keys() - {m}) for m, p in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                edges = [f"{a} -> {b}" for a in sorted(comp) for b in graph[a] if b in comp]
                cycles.append("; ".join(edges))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def private_imports(root: Path = ROOT, extra: Iterable[Path] = ()) -> list[str]:
    """Private cross-module uses in the package under ``root`` and in the ``extra`` files."""
    modules = package_modules(root)
    files: list[tuple[str | None, Path]] = [(m, p) for m, p in modules.items()]
    files += [(None, p) for p in extra]
    bad = []
    for me, path in files:
        where = path.relative_to(root).as_posix()
        bad += [f"{where}:{line}: {what}" for line, what in private_uses(path, me, modules)]
    return bad


# ---------------------------------------------------------------------------------------- rules


def test_imports_point_down_only():
    assert len(package_modules()) > 10
    bad = upward_imports()
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    cycles = import_cycles()
    assert not cycles, "modules that import each other:\n" + "\n".join(cycles)


def test_no_private_names_across_modules():
    bad = private_imports(extra=sorted((ROOT / "scripts").rglob("*.py")))
    assert not bad, (
        "private names used from another module (give them a public name, or move the code):\n"
        + "\n".join(bad)
    )


# ------------------------------------------------------------ the checkers catch what they should


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in {"restore/__init__.py": "", **files}.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_checker_catches_an_upward_import(tmp_path):
    root = _tree(
        tmp_path,
        {
            "restore/core/__init__.py": "",
            "restore/core/probe.py": "def f():\n    from restore.train import train\n",
            "restore/train.py": "",
        },
    )
    assert upward_imports(root) == ["restore.core.probe (layer 1) imports restore.train (layer 5)"]


def test_checker_catches_a_cycle_even_through_lazy_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "restore/api.py": "from restore import streaming\n",
            "restore/streaming.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from restore.api import Restorer\n"
            ),
            "restore/batch.py": "def f():\n    import restore.api\n",  # one way only: fine
        },
    )
    assert import_cycles(root) == [
        "restore.api -> restore.streaming; restore.streaming -> restore.api"
    ]
    (root / "restore/streaming.py").write_text("")
    assert import_cycles(root) == []


def test_checker_catches_private_names(tmp_path):
    root = _tree(
        tmp_path,
        {
            "restore/core/__init__.py": "",
            "restore/core/tiling.py": "def _store(): ...\n_store()\n",  # its own: fine
            "restore/api.py": (
                "from restore.core.tiling import _store, pad_run\n"
                "from restore.core import tiling as t\n"
                "import restore.core.tiling\n"
                "t._store()\n"
                "restore.core.tiling._ramp()\n"
                "t.__name__, t.pad_run\n"  # dunders and public names: fine
            ),
            "scripts/s.py": "def main():\n    from restore.core.tiling import _as_float\n",
        },
    )
    assert private_imports(root, extra=[root / "scripts/s.py"]) == [
        "restore/api.py:1: from restore.core.tiling import _store",
        "restore/api.py:4: restore.core.tiling._store",
        "restore/api.py:5: restore.core.tiling._ramp",
        "scripts/s.py:2: from restore.core.tiling import _as_float",
    ]


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
