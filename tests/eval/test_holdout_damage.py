from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from restore.eval.holdout_damage import holdout_damage, holdout_image, holdout_stains

PACKAGE = Path(__file__).resolve().parents[2] / "restore"
HOLDOUT = "restore.eval.holdout_damage"
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def img() -> torch.Tensor:
    x = torch.rand(3, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    return 0.2 + 0.6 * F.interpolate(x, size=(80, 96), mode="bilinear")


def test_seeded_and_per_image(img):
    a = holdout_damage(img, seed=3)
    b = holdout_damage(img, seed=3)
    c = holdout_damage(img, seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[0], c[0])
    # image i depends only on (seed, i): the same image alone in a batch is damaged the same
    first = holdout_damage(img[:1], seed=3)
    assert all(torch.equal(u[:1], v) for u, v in zip(a, first))


def test_outputs_and_mask(img):
    damaged, mask, target = holdout_damage(img, seed=0)
    assert damaged.shape == target.shape == (3, 3, 80, 96) and mask.shape == (3, 1, 80, 96)
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    ratio = mask.mean((1, 2, 3))
    assert ((ratio > 0.01) & (ratio < 0.5)).all(), ratio.tolist()
    assert 0 <= float(damaged.min()) and float(damaged.max()) <= 1
    # masked pixels are destroyed; elsewhere only stains, grain and JPEG touch the picture
    change = (damaged - target).abs().amax(1, keepdim=True)
    assert change[mask > 0].mean() > 0.15
    assert change[mask == 0].mean() < 0.06


def test_bases_are_bw_or_sepia(img):
    targets = holdout_damage(img.repeat(4, 1, 1, 1), seed=1)[2]
    r, g, b = targets.unbind(1)
    grey = (r == g).flatten(1).all(1) & (g == b).flatten(1).all(1)
    sepia = ((r >= g) & (g >= b)).flatten(1).all(1) & ((r - b).flatten(1).mean(1) > 0.05)
    assert (grey | sepia).all() and grey.any() and sepia.any()


def test_each_image_has_a_torn_corner():
    flat = np.full((64, 64, 3), 0.5, np.float32)
    for seed in range(6):
        _, mask, _ = holdout_image(flat, seed)
        assert sum(mask[y, x] for y, x in ((0, 0), (0, 63), (63, 0), (63, 63))) >= 1


def test_dtype_and_device_follow_the_input(img):
    damaged, mask, target = holdout_damage(img.double(), seed=0)
    assert damaged.dtype == mask.dtype == target.dtype == torch.float64
    assert damaged.device == img.device


def test_bad_input_raises(img):
    with pytest.raises(ValueError, match=r"\(3, 1, 80, 96\)"):
        holdout_damage(img[:, :1], seed=0)
    with pytest.raises(ValueError, match="-1"):
        holdout_damage(img, seed=-1)
    with pytest.raises(ValueError, match="torch.int64"):
        holdout_damage(img.long(), seed=0)
    with pytest.raises(ValueError, match=r"\(8, 8, 3\)"):
        holdout_image(np.zeros((8, 8, 3), np.float32), 0)


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    return _imports_of(path.read_text(), path)


def _imports_of(source: str, path: Path) -> set[str]:
    """The restore modules a file imports (absolute or relative, ``from x import y`` as x.y too)."""
    mod, out = _module(path), set()
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in out if m == "restore" or m.startswith("restore.")}


def test_training_never_imports_the_holdout_generator():
    """No module under restore/data or restore/tasks (where training pairs are made) imports it.

    Checked on the source: every import statement (also inside functions, also relative), and
    the text itself, so an ``importlib`` string would be caught too. The evaluation protocols
    (restore.eval) may use it.
    """
    files = [*(PACKAGE / "data").rglob("*.py"), *(PACKAGE / "tasks").rglob("*.py")]
    assert PACKAGE / "data" / "old_print.py" in files
    for path in files:
        imported = _imports(path)
        assert HOLDOUT not in imported and not any(m.startswith(HOLDOUT + ".") for m in imported), (
            path
        )
        assert "holdout_damage" not in path.read_text(), path


def test_the_import_check_sees_imports():
    """The checker finds absolute, relative and from-imports of the generator."""
    src = PACKAGE / "eval" / "_probe.py"  # never written: parse a string as if it lived there
    tree = "from .holdout_damage import holdout_damage\nimport restore.eval.holdout_damage\n"
    found = _imports_of(tree, src)
    assert HOLDOUT in found and "restore.eval.holdout_damage.holdout_damage" in found


def test_stains_only_are_the_same_draws_without_the_holes():
    """holdout_stains: the same base as holdout_image (the same first draws), with stains that
    darken it on average and no holes."""
    rgb = np.random.default_rng(0).random((64, 80, 3)).astype(np.float32)
    stained, target = holdout_stains(rgb, 3)
    target_full = holdout_image(rgb, 3)[2]
    assert np.array_equal(target, target_full)
    assert stained.shape == rgb.shape and stained.dtype == np.float32
    assert 0 <= stained.min() and stained.max() <= 1
    # stains only darken (tide rings, blots), up to grain and JPEG
    assert float((stained - target).mean()) < 0
    with pytest.raises(ValueError, match="H, W >= 16"):
        holdout_stains(rgb[:8], 0)


def test_kinds_split_the_mask_without_changing_the_draws(img):
    rgb = img[0].permute(1, 2, 0).numpy()
    plain = holdout_image(rgb, (7, 0))
    kinds: dict[str, np.ndarray] = {}
    split = holdout_image(rgb, (7, 0), kinds=kinds)
    assert all(np.array_equal(a, b) for a, b in zip(plain, split))  # the same draws
    assert tuple(kinds) == ("cracks", "folds", "dust", "torn corner")
    union = np.zeros(rgb.shape[:2], bool)
    for name, own in kinds.items():
        assert own.dtype == bool and not (union & own).any(), name  # each pixel has one kind
        union |= own
    assert np.array_equal(union, split[1] > 0.5)  # together they are the mask
    # the torn corner is painted last: it takes every masked pixel in its footprint, and where a
    # crack or a fold was there, the damaged photo shows the tear's flat colour, not theirs
    corner = kinds["torn corner"]
    assert corner.any() and corner[[0, 0, -1, -1], [0, -1, 0, -1]].any()
    assert float(split[0][corner].std(0).max()) < 0.06
