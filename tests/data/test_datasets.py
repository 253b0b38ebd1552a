from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from restore.data.datasets import (
    EpochBatchSampler,
    ImageFolder,
    PairedFolders,
    UnpairedFolders,
    list_images,
    make_loader,
)
from restore.data.io import ImageNotFoundError, write_image
from restore.errors import ImageReadError


def _write(path: Path, arr: np.ndarray) -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, arr)
    return arr


def _rand(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def folder(tmp_path: Path) -> dict[str, np.ndarray]:
    """Four 8-bit images of different sizes under tmp_path/imgs."""
    root = tmp_path / "imgs"
    return {
        name: _write(root / name, _rand(h, w, i))
        for i, (name, h, w) in enumerate(
            [("a.png", 20, 24), ("b.png", 16, 30), ("sub/c.png", 18, 18), ("d.tif", 22, 17)]
        )
    }


def _is_crop_of(patch: np.ndarray, src: np.ndarray) -> bool:
    p = patch.shape[0]
    return any(
        np.array_equal(src[t : t + p, left : left + p], patch)
        for t in range(src.shape[0] - p + 1)
        for left in range(src.shape[1] - p + 1)
    )


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).numpy()


def test_list_images(tmp_path: Path, folder: dict[str, np.ndarray]) -> None:
    root = tmp_path / "imgs"
    (root / "notes.txt").write_text("x")
    (root / ".hidden.png").write_bytes(b"")
    _write(root / "E.PNG", _rand(2, 2, 9))
    rel = [p.relative_to(root).as_posix() for p in list_images(root)]
    assert rel == ["E.PNG", "a.png", "b.png", "d.tif", "sub/c.png"]
    assert "sub/c.png" not in [p.name for p in list_images(root, recursive=False)]
    with pytest.raises(ImageNotFoundError, match="missing"):
        list_images(tmp_path / "missing")


def test_image_folder_crops_are_real_and_reproducible(
    tmp_path: Path, folder: dict[str, np.ndarray]
) -> None:
    ds = ImageFolder(tmp_path / "imgs", patch_size=8, seed=3)
    assert len(ds) == 4
    srcs = [folder[p.relative_to(tmp_path / "imgs").as_posix()] for p in ds.paths]
    for i in range(len(ds)):
        x = ds[i]
        assert x.dtype == torch.uint8 and x.shape == (3, 8, 8)
        assert _is_crop_of(_hwc(x), srcs[i])
        assert torch.equal(x, ImageFolder(tmp_path / "imgs", patch_size=8, seed=3)[i])
        assert torch.equal(x, ds[(0, i)])
    ds.set_epoch(1)
    assert torch.equal(ds[0], ds[(1, 0)])
    epochs = [ds[(e, 0)] for e in range(6)]
    assert len({t.numpy().tobytes() for t in epochs}) > 1  # crops move between epochs
    other_seed = ImageFolder(tmp_path / "imgs", patch_size=8, seed=4)
    assert any(not torch.equal(ds[(0, i)], other_seed[(0, i)]) for i in range(4))
    with pytest.raises(IndexError):
        ds[4]


def test_cache_gives_same_items(tmp_path: Path, folder: dict[str, np.ndarray]) -> None:
    plain = ImageFolder(tmp_path / "imgs", patch_size=8)
    cached = ImageFolder(tmp_path / "imgs", patch_size=8, cache=True)
    cached.preload()
    assert cached.store.cache is not None and len(cached.store.cache) == 4
    expected = [plain[(2, i)] for i in range(4)]
    for f in (tmp_path / "imgs").rglob("*.*"):
        f.unlink()  # served from memory now
    for i in range(4):
        assert torch.equal(expected[i], cached[(2, i)])


def test_small_images_padded_or_skipped(tmp_path: Path) -> None:
    small = _write(tmp_path / "s" / "small.png", _rand(3, 5, 0))
    _write(tmp_path / "s" / "big.png", _rand(12, 12, 1))
    padded = ImageFolder(tmp_path / "s", patch_size=8)
    assert [p.name for p in padded.paths] == ["big.png", "small.png"]
    mirrored = np.pad(small, ((0, 5), (0, 3), (0, 0)), mode="symmetric")
    np.testing.assert_array_equal(_hwc(padded[1]), mirrored)
    skipping = ImageFolder(tmp_path / "s", patch_size=8, min_size=8)
    assert [p.name for p in skipping.paths] == ["big.png"]
    with pytest.raises(ImageReadError, match="no images of at least 20x20"):
        ImageFolder(tmp_path / "s", patch_size=8, min_size=20)


def test_whole_images_16_bit_and_gray(tmp_path: Path) -> None:
    deep = np.array([[[0, 128, 65535], [257 * 7, 300, 65406]]], np.uint16)
    _write(tmp_path / "f" / "a.png", deep)
    _write(tmp_path / "f" / "b.png", np.array([[1, 2, 3]], np.uint8))
    ds = ImageFolder(tmp_path / "f")
    np.testing.assert_array_equal(_hwc(ds[0]), [[[0, 0, 255], [7, 1, 254]]])
    np.testing.assert_array_equal(_hwc(ds[1]), np.repeat(np.array([[1, 2, 3]])[..., None], 3, 2))


def test_paired_folders_same_crop_and_scale(tmp_path: Path) -> None:
    for i, name in enumerate(["x", "y", "deep/z"]):
        lr = _write(tmp_path / "lr" / f"{name}.png", _rand(10, 12, i))
        hr = np.repeat(np.repeat(lr, 2, axis=0), 2, axis=1)
        _write(tmp_path / "hr" / f"{name}.tif", np.pad(hr, ((0, 1), (0, 1), (0, 0))))
    ds = PairedFolders(tmp_path / "lr", tmp_path / "hr", patch_size=6, scale=2, seed=1)
    assert len(ds) == 3
    for e, i in itertools.product(range(3), range(3)):
        a, b = ds[(e, i)]
        assert a.shape == (3, 6, 6) and b.shape == (3, 12, 12)
        assert torch.equal(a.repeat_interleave(2, 1).repeat_interleave(2, 2), b)
    whole_a, whole_b = PairedFolders(tmp_path / "lr", tmp_path / "hr", scale=2)[0]
    assert whole_a.shape == (3, 10, 12) and whole_b.shape == (3, 20, 24)
    with pytest.raises(ImageReadError, match="do not pair at scale 3"):
        PairedFolders(tmp_path / "lr", tmp_path / "hr", scale=3)[0]


def test_paired_folders_report_unmatched(tmp_path: Path) -> None:
    _write(tmp_path / "a" / "one.png", _rand(4, 4, 0))
    _write(tmp_path / "a" / "two.png", _rand(4, 4, 0))
    _write(tmp_path / "b" / "one.png", _rand(4, 4, 0))
    _write(tmp_path / "b" / "three.png", _rand(4, 4, 0))
    with pytest.raises(ImageReadError, match=r"1 only in .*a \[two\], 1 only in .*b \[three\]"):
        PairedFolders(tmp_path / "a", tmp_path / "b")
    _write(tmp_path / "b" / "one.tif", _rand(4, 4, 0))
    with pytest.raises(ImageReadError, match="share the name 'one'"):
        PairedFolders(tmp_path / "b", tmp_path / "a")


def test_unpaired_folders(tmp_path: Path) -> None:
    a_imgs = [_write(tmp_path / "a" / f"{i}.png", _rand(9, 9, i)) for i in range(2)]
    b_imgs = [_write(tmp_path / "b" / f"{i}.png", _rand(9, 9, 10 + i)) for i in range(5)]
    ds = UnpairedFolders(tmp_path / "a", tmp_path / "b", patch_size=4, seed=2)
    assert len(ds) == 5
    picked_b = set()
    for i in range(5):
        a, b = ds[(0, i)]
        assert _is_crop_of(_hwc(a), a_imgs[i % 2])
        matches = [j for j, src in enumerate(b_imgs) if _is_crop_of(_hwc(b), src)]
        assert len(matches) == 1
        picked_b.add(matches[0])
        assert torch.equal(b, UnpairedFolders(tmp_path / "a", tmp_path / "b", 4, seed=2)[i][1])
    assert len(picked_b) > 1  # b is drawn, not tied to i


def test_epoch_batch_sampler() -> None:
    it = iter(EpochBatchSampler(10, 4, seed=5))
    batches = [next(it) for _ in range(6)]  # 2 full batches per epoch, the rest dropped
    assert [b[0][0] for b in batches] == [0, 0, 1, 1, 2, 2]
    for e in range(3):
        idx = [i for b in batches for ep, i in b if ep == e]
        assert len(idx) == 8 and len(set(idx)) == 8
    first = [i for _, i in batches[0] + batches[1]]
    second = [i for _, i in batches[2] + batches[3]]
    assert first != second  # reshuffled each epoch
    keep = iter(EpochBatchSampler(10, 4, drop_last=False, shuffle=False))
    assert [len(next(keep)) for _ in range(4)] == [4, 4, 2, 4]
    with pytest.raises(ValueError, match="no batch"):
        EpochBatchSampler(3, 4)


def test_make_loader_same_data_with_workers(tmp_path: Path, folder: dict[str, np.ndarray]) -> None:
    ds = ImageFolder(tmp_path / "imgs", patch_size=8, seed=7)
    single = list(itertools.islice(iter(make_loader(ds, 2, seed=1)), 5))  # 2.5 epochs
    multi = list(itertools.islice(iter(make_loader(ds, 2, seed=1, workers=2)), 5))
    assert all(b.shape == (2, 3, 8, 8) and b.dtype == torch.uint8 for b in single)
    for x, y in zip(single, multi):
        assert torch.equal(x, y)
    other = list(itertools.islice(iter(make_loader(ds, 2, seed=2)), 5))
    assert any(not torch.equal(x, y) for x, y in zip(single, other))


def test_real_folder_loads(shared_data: Path) -> None:
    ds = ImageFolder(shared_data / "train" / "T91", patch_size=32, seed=0)
    assert len(ds) == 91
    for i in range(3):
        x = ds[i]
        assert x.shape == (3, 32, 32) and x.dtype == torch.uint8 and x.float().std() > 0
